/**
 * Caller silence, measured in audio time: FreeSWITCH streams the caller's audio continuously, so the
 * length of audio heard since the bot stopped speaking, without caller speech, is how long the caller
 * has been silent, and a faster-than-real-time simulation measures it exactly as a live call would.
 * Once a silence reaches `noInputMs`, one Silence frame reports it (the dialog reprompts); the next
 * report needs a new silence (after the bot spoke again or the caller spoke).
 */
import type { Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';
import type { PlaybackTracker } from './playback-tracker.js';

export interface SilenceProcessorOptions {
  tracker: PlaybackTracker;
  noInputMs: number;
}

export class SilenceProcessor implements FrameProcessor {
  readonly name = 'silence';
  readonly kinds = ['AudioIn', 'SpeechStarted', 'SpeechStopped'] as const;
  private silentMs = 0;
  private reported = false;
  private callerSpeaking = false;

  constructor(private readonly opts: SilenceProcessorOptions) {}

  process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): void {
    push(frame);
    if (frame.kind === 'SpeechStarted' || frame.kind === 'SpeechStopped') {
      this.callerSpeaking = frame.kind === 'SpeechStarted';
      this.reset();
      return;
    }
    if (frame.kind !== 'AudioIn') return;
    if (this.callerSpeaking || this.opts.tracker.speaking) {
      this.reset();
      return;
    }
    this.silentMs += (frame.samples.length * 1000) / frame.sampleRate;
    if (!this.reported && this.silentMs >= this.opts.noInputMs) {
      this.reported = true;
      push(makeFrame('Silence', { silenceMs: Math.round(this.silentMs) }, ctx.now()));
    }
  }

  private reset(): void {
    this.silentMs = 0;
    this.reported = false;
  }
}
