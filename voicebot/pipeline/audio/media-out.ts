/**
 * AudioOut → the caller's leg. Audio is handed to the leg as it comes (the leg paces it toward
 * FreeSWITCH), so sentences play back to back; when an utterance's last chunk has been played, BotSayDone
 * goes upstream to the policy. Barge-in (through the PlaybackTracker, or an Interrupt frame from the
 * policy) stops the leg's playback at once and reports every utterance in progress as interrupted.
 */
import type { CallLeg } from '../../../media/call-leg.js';
import type { Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';
import type { PlaybackTracker } from './playback-tracker.js';

export interface MediaOutOptions {
  leg: CallLeg;
  tracker: PlaybackTracker;
  /** Called with each utterance's first audio going out (latency measurements). */
  onFirstAudio?: (utteranceId: string) => void;
}

export class MediaOutProcessor implements FrameProcessor {
  readonly name = 'media-out';
  readonly kinds = ['AudioOut', 'Interrupt', 'Hangup'] as const;
  private ctx: ProcessContext | null = null;
  private unregister: (() => void) | null = null;
  /** Utterances stopped by barge-in: their late AudioOut frames are dropped. */
  private readonly cancelled = new Set<string>();
  private readonly started = new Set<string>();
  private chunkSeq = 0;

  constructor(private readonly opts: MediaOutOptions) {}

  start(ctx: ProcessContext): void {
    this.ctx = ctx;
    this.unregister = this.opts.tracker.onInterrupt(() => this.stopPlayback());
  }

  onControl(frame: Frame): void {
    if (frame.kind === 'Interrupt' || frame.kind === 'Hangup') this.stopPlayback();
  }

  process(frame: Frame, push: (frame: Frame) => void): void {
    if (frame.kind !== 'AudioOut') {
      push(frame);
      return;
    }
    const { leg, tracker } = this.opts;
    const id = frame.utteranceId;
    if (this.cancelled.has(id) || leg.ended) return;
    if (!this.started.has(id) && frame.samples.length > 0) {
      this.started.add(id);
      this.opts.onFirstAudio?.(id);
    }
    const played = leg.playAudio(frame.samples, frame.sampleRate, { id: `${id}#${this.chunkSeq++}` });
    if (!frame.last) return;
    void played.then(() => {
      if (this.cancelled.has(id)) return;
      this.started.delete(id);
      tracker.end(id);
      this.reportDone(id, false);
    });
  }

  stop(): void {
    this.unregister?.();
    this.unregister = null;
  }

  private stopPlayback(): void {
    const { leg, tracker } = this.opts;
    void leg.stopAudio();
    for (const id of tracker.active()) {
      this.cancelled.add(id);
      this.started.delete(id);
      tracker.end(id);
      this.reportDone(id, true);
    }
  }

  private reportDone(utteranceId: string, interrupted: boolean): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.pushUpstream(
      makeFrame('BotSayDone', interrupted ? { utteranceId, interrupted } : { utteranceId }, ctx.now()),
    );
  }
}
