/**
 * Turn latency as the caller lives it: from the end of their speech (the VAD's SpeechStopped) or the arrival
 * of their message to the bot's first output (its first audio frame on the leg, or its message sent). A turn
 * the bot does not answer (a noise recognized as nothing, speech cut by more speech) is not measured.
 */
import type { Frame } from './frames.js';
import type { FrameProcessor } from './pipeline.js';

export class TurnTimer {
  private since: number | null = null;

  constructor(private readonly observe: (seconds: number) => void) {}

  /** The caller finished speaking or sent their message. */
  callerDone(): void {
    this.since = performance.now();
  }

  /** The caller's turn came to nothing (empty recognition) or goes on (they speak again). */
  cancel(): void {
    this.since = null;
  }

  /** The bot's first output since the caller's turn: measured once. */
  botOutput(): void {
    if (this.since === null) return;
    this.observe((performance.now() - this.since) / 1000);
    this.since = null;
  }
}

/** Watches the voice input's frames for the timer (after the ASR: it passes every frame on). */
export class TurnMarkProcessor implements FrameProcessor {
  readonly name = 'turn-mark';
  readonly kinds = ['SpeechStarted', 'SpeechStopped', 'Transcript'] as const;

  constructor(private readonly timer: TurnTimer) {}

  process(frame: Frame, push: (f: Frame) => void): void {
    if (frame.kind === 'SpeechStarted') this.timer.cancel();
    else if (frame.kind === 'SpeechStopped') this.timer.callerDone();
    else if (frame.kind === 'Transcript' && frame.final && frame.text.trim() === '') this.timer.cancel();
    push(frame);
  }
}
