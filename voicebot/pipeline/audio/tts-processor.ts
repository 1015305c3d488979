/**
 * BotSay → TTS → AudioOut: speaks the bot's text sentence by sentence (the engine streams), so the first
 * sentence plays while the rest is synthesized. Every BotSay ends in an AudioOut with last=true (empty if
 * synthesis failed, after a recoverable Error frame), so the media output always reports BotSayDone.
 * An Interrupt aborts the synthesis in progress unless the utterance forbids barge-in.
 * Repeated texts are the engine's business: the speech services' TtsEngine is the TTS cache
 * (speech/tts/cache.ts), whose memory tier replays a known answer without waiting for the synthesizer.
 */
import { OtklikError } from '../../../core/errors.js';
import { resample } from '../../../media/audio/resample.js';
import type { TtsEngine } from '../../../speech/types.js';
import type { BotSayFrame, Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';
import type { PlaybackTracker } from './playback-tracker.js';

export interface TtsProcessorOptions {
  tts: TtsEngine;
  tracker: PlaybackTracker;
  /** Sample rate the caller's leg plays (8000 for telephony). */
  sampleRate: number;
  voice?: string;
}

export class TtsProcessor implements FrameProcessor {
  readonly name = 'tts';
  readonly kinds = ['BotSay'] as const;
  private current: { frame: BotSayFrame; abort: AbortController } | null = null;

  constructor(private readonly opts: TtsProcessorOptions) {}

  onControl(frame: Frame): void {
    if (!this.current) return;
    const interruptible = frame.kind === 'Interrupt' && this.current.frame.bargeIn;
    if (interruptible || frame.kind === 'Hangup') this.current.abort.abort();
  }

  async process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): Promise<void> {
    if (frame.kind !== 'BotSay') return;
    push(frame);
    const { tracker, sampleRate } = this.opts;
    tracker.begin(frame.utteranceId, frame.bargeIn);
    const abort = new AbortController();
    this.current = { frame, abort };
    const out = (samples: Int16Array, last: boolean) =>
      push(makeFrame('AudioOut', { samples, sampleRate, utteranceId: frame.utteranceId, last }, ctx.now()));
    try {
      await this.synthesize(frame.text, abort.signal, (samples) => out(samples, false));
      if (abort.signal.aborted) return;
      out(new Int16Array(0), true);
    } catch (err) {
      if (abort.signal.aborted) return;
      const error = new OtklikError('ENGINE_FAILED', `speech synthesis failed: ${(err as Error).message}`, {
        cause: err,
        retryable: true,
      });
      push(makeFrame('Error', { error, source: this.name, recoverable: true }, ctx.now()));
      out(new Int16Array(0), true);
    } finally {
      this.current = null;
    }
  }

  private async synthesize(
    text: string,
    signal: AbortSignal,
    emit: (samples: Int16Array) => void,
  ): Promise<void> {
    const { tts, sampleRate, voice } = this.opts;
    for await (const chunk of tts.synthesize(text, { sampleRate, signal, ...(voice ? { voice } : {}) })) {
      if (signal.aborted) break;
      // Engines resample to the asked rate; a remote one that did not is converted here.
      emit(
        chunk.audio.sampleRate === sampleRate
          ? chunk.audio.samples
          : resample(chunk.audio.samples, chunk.audio.sampleRate, sampleRate),
      );
    }
  }
}
