/**
 * AudioIn → VAD: turns the caller's audio into SpeechStarted / SpeechStopped frames. SpeechStopped is the
 * end of the caller's turn (endpointing: `hangoverMs` of silence after speech). The audio itself passes on
 * to the ASR, before the events it completed, so the recognizer has heard the speech when it is told.
 */
import { OtklikError } from '../../../core/errors.js';
import type { VadEngine, VadOptions, VadStream } from '../../../speech/types.js';
import type { Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';

export interface VadProcessorOptions {
  vad: VadEngine;
  /** Silence after speech that ends the caller's turn. */
  hangoverMs?: number;
  /** Speech needed before SpeechStarted (and so barge-in); see DEFAULT_MIN_SPEECH_MS. */
  minSpeechMs?: number;
  threshold?: number;
}

/**
 * Barge-in must stop the bot within 200 ms of the caller starting to speak. Silero's probability rises
 * some 60-80 ms into a word (bench/voicebot-voice.ts measured 210 ms with four windows), so three windows
 * (3 × 32 ms) of speech confirm it; clicks and line noise, far shorter, are still dropped by the onset gap.
 * The price: a cough of 100 ms cuts the bot off too, and the silence reprompt then follows.
 */
export const DEFAULT_MIN_SPEECH_MS = 96;

export class VadProcessor implements FrameProcessor {
  readonly name = 'vad';
  readonly kinds = ['AudioIn'] as const;
  private stream: VadStream | null = null;
  private streamRate = 0;
  private unavailableReported = false;
  /** True between SpeechStarted and SpeechStopped. */
  inSpeech = false;

  constructor(private readonly opts: VadProcessorOptions) {}

  async process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    if (frame.kind !== 'AudioIn') return;
    push(frame);
    const stream = await this.streamFor(frame.sampleRate, push, ctx);
    if (!stream) return;
    for (const event of await stream.push(frame.samples)) {
      if (event.type === 'speech_start' && !this.inSpeech) {
        this.inSpeech = true;
        push(makeFrame('SpeechStarted', {}, ctx.now()));
      } else if (event.type === 'speech_end' && this.inSpeech) {
        this.inSpeech = false;
        push(makeFrame('SpeechStopped', {}, ctx.now()));
      }
    }
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    if (stream) await stream.flush().catch(() => []);
  }

  private async streamFor(
    sampleRate: number,
    push: (frame: Frame) => void,
    ctx: ProcessContext,
  ): Promise<VadStream | null> {
    if (this.stream && this.streamRate === sampleRate) return this.stream;
    const state = this.opts.vad.state();
    if (state.status !== 'ready' || (sampleRate !== 8000 && sampleRate !== 16000)) {
      if (!this.unavailableReported) {
        this.unavailableReported = true;
        const message = state.status === 'ready' ? `unsupported sample rate ${sampleRate}` : state.message;
        const error = new OtklikError('ENGINE_FAILED', `voice activity detection unavailable: ${message}`);
        push(makeFrame('Error', { error, source: this.name, recoverable: true }, ctx.now()));
      }
      return null;
    }
    const options: VadOptions = {
      sampleRate,
      hangoverMs: this.opts.hangoverMs ?? 700,
      minSpeechMs: this.opts.minSpeechMs ?? DEFAULT_MIN_SPEECH_MS,
      ...(this.opts.threshold === undefined ? {} : { threshold: this.opts.threshold }),
    };
    this.stream = await this.opts.vad.createStream(options);
    this.streamRate = sampleRate;
    return this.stream;
  }
}
