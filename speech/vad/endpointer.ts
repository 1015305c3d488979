import { OtklikError } from '../../core/errors.js';
import type { VadEvent } from '../types.js';

/**
 * Turns per-window speech probabilities into speech_start/speech_end events. Separate from the model so
 * that the end-of-turn rules can be read (and tested) on their own:
 * - a window counts as speech at `threshold` or above, and as silence below `threshold - 0.15` (hysteresis,
 *   so that a probability wobbling around the threshold does not chop a word);
 * - speech_start is only reported once `minSpeechMs` of speech has accumulated (a cough or a click is not a
 *   turn); it carries the time the speech began, not the time it was confirmed;
 * - speech_end comes after `hangoverMs` of continuous silence (the end of the caller's turn) and carries the
 *   time the silence began;
 * - a turn longer than `maxSpeechMs` is cut, so that a caller in a noisy room still gets an answer.
 */

export interface EndpointOptions {
  threshold: number;
  minSpeechMs: number;
  hangoverMs: number;
  preRollMs: number;
  maxSpeechMs: number;
  /** Silence that discards a not-yet-confirmed speech onset. */
  onsetGapMs: number;
  windowMs: number;
}

export const DEFAULT_ENDPOINT: Omit<EndpointOptions, 'windowMs'> = {
  threshold: 0.5,
  minSpeechMs: 250,
  hangoverMs: 700,
  preRollMs: 300,
  maxSpeechMs: 30000,
  onsetGapMs: 150,
};

type Phase = 'silence' | 'onset' | 'speech';

export class SpeechEndpointer {
  readonly opts: EndpointOptions;
  private phase: Phase = 'silence';
  private onsetMs = 0;
  private speechMs = 0;
  private gapMs = 0;
  private silenceSinceMs: number | null = null;

  constructor(opts: Partial<EndpointOptions> & { windowMs: number }) {
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULT_ENDPOINT, ...defined } as EndpointOptions;
    const o = this.opts;
    if (!(o.threshold > 0 && o.threshold < 1))
      throw new OtklikError('VALIDATION_FAILED', `VAD threshold must be in (0, 1), got ${o.threshold}`);
    for (const key of ['minSpeechMs', 'hangoverMs', 'preRollMs', 'maxSpeechMs', 'onsetGapMs'] as const) {
      if (!(o[key] >= 0))
        throw new OtklikError(
          'VALIDATION_FAILED',
          `VAD ${key} must be a non-negative number of milliseconds, got ${o[key]}`,
        );
    }
  }

  get inSpeech(): boolean {
    return this.phase === 'speech';
  }

  /** One window's probability; startMs is where the window begins in the stream. */
  update(probability: number, startMs: number): VadEvent[] {
    const { threshold, minSpeechMs, hangoverMs, maxSpeechMs, onsetGapMs, windowMs } = this.opts;
    const endMs = startMs + windowMs;
    const speech = probability >= threshold;
    const quiet = probability < threshold - 0.15;
    const events: VadEvent[] = [];
    switch (this.phase) {
      case 'silence':
        if (speech) {
          this.phase = 'onset';
          this.onsetMs = startMs;
          this.speechMs = 0;
          this.gapMs = 0;
          return this.update(probability, startMs);
        }
        break;
      case 'onset':
        if (speech) {
          this.speechMs += windowMs;
          this.gapMs = 0;
          if (this.speechMs >= minSpeechMs) {
            this.phase = 'speech';
            this.silenceSinceMs = null;
            events.push({ type: 'speech_start', atMs: this.onsetMs });
          }
        } else if (quiet) {
          this.gapMs += windowMs;
          if (this.gapMs >= onsetGapMs) this.phase = 'silence';
        }
        break;
      case 'speech':
        if (speech) {
          this.silenceSinceMs = null;
        } else if (quiet) {
          this.silenceSinceMs ??= startMs;
          if (endMs - this.silenceSinceMs >= hangoverMs) {
            events.push({ type: 'speech_end', atMs: this.silenceSinceMs });
            this.phase = 'silence';
            this.silenceSinceMs = null;
            return events;
          }
        }
        if (endMs - this.onsetMs >= maxSpeechMs) {
          events.push({ type: 'speech_end', atMs: endMs });
          this.phase = 'silence';
          this.silenceSinceMs = null;
        }
        break;
    }
    return events;
  }

  /** End of the stream at atMs: closes a turn still open. */
  finish(atMs: number): VadEvent[] {
    const events: VadEvent[] = [];
    if (this.phase === 'speech') events.push({ type: 'speech_end', atMs: this.silenceSinceMs ?? atMs });
    this.phase = 'silence';
    this.silenceSinceMs = null;
    return events;
  }
}
