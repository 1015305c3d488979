/**
 * VAD + AudioIn → ASR: recognizes each caller turn. Audio is kept in a short ring buffer so that the
 * recognizer hears the syllables spoken before the VAD was sure (pre-roll); between SpeechStarted and
 * SpeechStopped every AudioIn is fed to the stream and changed partial results go out as partial
 * Transcript frames (they allow barge-in); SpeechStopped finishes the utterance into one final Transcript.
 *
 * Without a model (state model_missing) nothing can be recognized: each spoken turn yields a recoverable
 * Error frame with code MODEL_MISSING, on which the policy plays the speech_unavailable prompt (keypad).
 * AudioIn frames end here: nothing after the ASR needs raw audio.
 */
import { OtklikError } from '../../../core/errors.js';
import type { AsrEngine, AsrStream } from '../../../speech/types.js';
import type { Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';

export interface AsrProcessorOptions {
  asr: AsrEngine;
  /** Audio kept from before SpeechStarted. */
  preRollMs?: number;
  /** Words to favour in every turn (the KB vocabulary); recognition stays open (see AsrOptions.hints). */
  hints?: string[];
}

export class AsrProcessor implements FrameProcessor {
  readonly name = 'asr';
  readonly kinds = ['AudioIn', 'SpeechStarted', 'SpeechStopped'] as const;
  private readonly ring: Int16Array[] = [];
  private ringSamples = 0;
  private sampleRate = 8000;
  private stream: AsrStream | null = null;
  /** Text of finals the engine produced inside the current turn (it may endpoint on its own). */
  private committed = '';
  private lastPartial = '';
  private lastConfidence = 0;

  constructor(private readonly opts: AsrProcessorOptions) {}

  get ready(): boolean {
    return this.opts.asr.state().status === 'ready';
  }

  async process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    switch (frame.kind) {
      case 'AudioIn':
        this.sampleRate = frame.sampleRate;
        if (this.stream) await this.feed(frame.samples, push, ctx);
        else this.remember(frame.samples);
        return;
      case 'SpeechStarted':
        push(frame);
        await this.startTurn(push, ctx);
        return;
      case 'SpeechStopped':
        push(frame);
        await this.endTurn(push, ctx);
        return;
    }
  }

  stop(): void {
    this.stream?.close();
    this.stream = null;
  }

  private remember(samples: Int16Array): void {
    const keep = Math.round(((this.opts.preRollMs ?? 1000) * this.sampleRate) / 1000);
    this.ring.push(samples);
    this.ringSamples += samples.length;
    while (this.ring.length > 1 && this.ringSamples - this.ring[0]!.length >= keep) {
      this.ringSamples -= this.ring.shift()!.length;
    }
  }

  private async startTurn(push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    if (!this.ready) return;
    this.stream?.close();
    this.committed = '';
    this.lastPartial = '';
    this.lastConfidence = 0;
    try {
      this.stream = await this.opts.asr.createStream({
        sampleRate: this.sampleRate,
        ...(this.opts.hints ? { hints: this.opts.hints } : {}),
      });
    } catch (err) {
      this.stream = null;
      const error = new OtklikError(
        'ENGINE_FAILED',
        `speech recognition failed to start: ${(err as Error).message}`,
        {
          cause: err,
          retryable: true,
        },
      );
      push(makeFrame('Error', { error, source: this.name, recoverable: true }, ctx.now()));
      return;
    }
    const preRoll = this.ring.splice(0);
    this.ringSamples = 0;
    for (const samples of preRoll) await this.feed(samples, push, ctx);
  }

  private async feed(samples: Int16Array, push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    const result = await this.stream!.push(samples);
    if (!result || result.text.trim() === '') return;
    if (result.final) {
      this.committed = joinText(this.committed, result.text);
      this.lastConfidence = result.confidence;
    }
    const text = result.final ? this.committed : joinText(this.committed, result.text);
    if (text === this.lastPartial) return;
    this.lastPartial = text;
    push(makeFrame('Transcript', { text, final: false, confidence: result.confidence }, ctx.now()));
  }

  private async endTurn(push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    if (!this.ready) {
      const state = this.opts.asr.state();
      const message = state.status === 'ready' ? 'not ready' : state.message;
      const error = new OtklikError('MODEL_MISSING', `speech cannot be recognized: ${message}`);
      push(makeFrame('Error', { error, source: this.name, recoverable: true }, ctx.now()));
      return;
    }
    const stream = this.stream;
    this.stream = null;
    if (!stream) return;
    try {
      const result = await stream.finish();
      const text = joinText(this.committed, result.text);
      const confidence = result.text.trim() ? result.confidence : this.lastConfidence;
      if (text !== '') push(makeFrame('Transcript', { text, final: true, confidence }, ctx.now()));
    } finally {
      stream.close();
    }
  }
}

function joinText(a: string, b: string): string {
  return [a.trim(), b.trim()].filter(Boolean).join(' ');
}
