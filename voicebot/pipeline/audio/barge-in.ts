/**
 * Barge-in: the caller's speech (VAD SpeechStarted or a non-empty partial transcript) or a key pressed
 * while the bot speaks stops the bot. Playback is stopped at once through the PlaybackTracker (killAudio
 * goes out before this frame is even passed on), then an Interrupt frame travels downstream so the TTS
 * aborts its synthesis and the policy knows it was cut short. Utterances with bargeIn=false (the
 * emergency message) are not interrupted.
 */
import type { Frame } from '../frames.js';
import { makeFrame } from '../frames.js';
import type { FrameProcessor, ProcessContext } from '../pipeline.js';
import type { InterruptReason, PlaybackTracker } from './playback-tracker.js';

export type BargeInTrigger = 'SpeechStarted' | 'Transcript' | 'Dtmf';

/**
 * One instance per place in the pipeline where a trigger appears first, so that no slower stage delays
 * it: keys at the head, SpeechStarted right after the VAD, partial transcripts right after the ASR.
 */
export class BargeInProcessor implements FrameProcessor {
  readonly name: string;
  readonly kinds: readonly BargeInTrigger[];

  constructor(
    private readonly tracker: PlaybackTracker,
    opts: { name?: string; kinds?: readonly BargeInTrigger[] } = {},
  ) {
    this.name = opts.name ?? 'barge-in';
    this.kinds = opts.kinds ?? ['SpeechStarted', 'Transcript', 'Dtmf'];
  }

  process(frame: Frame, push: (frame: Frame) => void, ctx: ProcessContext): void {
    const reason = this.reasonFor(frame);
    if (reason && this.tracker.interrupt(reason)) push(makeFrame('Interrupt', { reason }, ctx.now()));
    push(frame);
  }

  private reasonFor(frame: Frame): InterruptReason | null {
    if (frame.kind === 'SpeechStarted') return 'speech';
    if (frame.kind === 'Dtmf') return 'dtmf';
    if (frame.kind === 'Transcript' && frame.text.trim() !== '') return 'speech';
    return null;
  }
}
