import type { SipCallLeg } from './sip-leg.js';

/** What CallControl keeps for each call in progress on this instance. */
export type Phase = 'bot' | 'queued' | 'agency' | 'operator' | 'survey' | 'ending';

export interface ActiveCall {
  leg: SipCallLeg;
  direction: 'inbound' | 'outbound';
  /** The call flow the voice bot runs on it ('default' unless an outbound call names one). */
  flowId: string;
  phase: Phase;
  botConnected: boolean;
  queued: boolean;
  operatorId: string | null;
  recordingId: string | null;
  outcome: string | null;
  /** The waiting room's state (telephony/waiting-room.ts), while the call waits without the bot. */
  waiting: {
    /** When the caller last heard the hold message or an announcement, on call control's clock. */
    lastAnnouncedAt: number | null;
    announcements: number;
    /** The caller was offered a callback (key 1) and may take it. */
    callbackOffered: boolean;
  };
  /** The recorded apology while it plays: an operator is bridged only after it (it is not cut off). */
  apology: Promise<void> | null;
  /**
   * The operator hung up from the desk while the caller is kept for the survey: their conversation stays open
   * for its outcome (the desk's close), not closed when the bridge ends.
   */
  deskHungUp?: boolean;
  /** An operator is being rung or bridged: no hold message meanwhile. */
  bridging: boolean;
  ended: Promise<void>;
}

/** A new call's state; `ended` resolves through the returned function once the call is finished. */
export function activeCall(
  leg: SipCallLeg,
  init: Pick<ActiveCall, 'direction' | 'phase' | 'queued'> & { flowId?: string },
): { call: ActiveCall; markEnded: () => void } {
  let markEnded!: () => void;
  const ended = new Promise<void>((r) => (markEnded = r));
  const call: ActiveCall = {
    leg,
    flowId: 'default',
    ...init,
    botConnected: false,
    operatorId: null,
    recordingId: null,
    outcome: null,
    waiting: { lastAnnouncedAt: null, announcements: 0, callbackOffered: false },
    apology: null,
    bridging: false,
    ended,
  };
  return { call, markEnded };
}
