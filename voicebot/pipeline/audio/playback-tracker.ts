/**
 * What the bot is saying right now, shared by the processors of one voice session: the TTS marks an
 * utterance as begun, the media output marks it done, and the barge-in detector asks whether caller
 * speech or a key may cut it short. Barge-in stops playback through `interrupt()` directly rather than by
 * a frame travelling the pipeline, so a busy NLU or policy stage cannot delay it past 200 ms.
 */

export type InterruptReason = 'speech' | 'dtmf' | 'policy';

interface Utterance {
  bargeIn: boolean;
}

export class PlaybackTracker {
  private readonly utterances = new Map<string, Utterance>();
  private readonly stopHandlers = new Set<(reason: InterruptReason) => void>();
  /** Barge-ins that stopped the bot, by reason (for stats and tests). */
  readonly interruptions: Record<InterruptReason, number> = { speech: 0, dtmf: 0, policy: 0 };

  begin(utteranceId: string, bargeIn: boolean): void {
    this.utterances.set(utteranceId, { bargeIn });
  }

  end(utteranceId: string): void {
    this.utterances.delete(utteranceId);
  }

  /** The bot is synthesizing or playing something. */
  get speaking(): boolean {
    return this.utterances.size > 0;
  }

  /** Nothing in progress forbids barge-in (the emergency message does). */
  get bargeInAllowed(): boolean {
    for (const u of this.utterances.values()) if (!u.bargeIn) return false;
    return true;
  }

  /** Utterances in progress now. */
  active(): string[] {
    return [...this.utterances.keys()];
  }

  /** Registers what stops playback (the media output); returns an unregister function. */
  onInterrupt(handler: (reason: InterruptReason) => void): () => void {
    this.stopHandlers.add(handler);
    return () => this.stopHandlers.delete(handler);
  }

  /** Stops the bot now if it is speaking and may be interrupted; returns whether it did. */
  interrupt(reason: InterruptReason): boolean {
    if (!this.speaking || (reason !== 'policy' && !this.bargeInAllowed)) return false;
    this.interruptions[reason]++;
    for (const handler of this.stopHandlers) handler(reason);
    return true;
  }
}
