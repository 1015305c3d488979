/**
 * The call-leg interface: everything the call-control logic and the voice bot ask of a live call.
 * The drachtio/FreeSWITCH adapter implements it for real calls; the media-socket channel, the text channel
 * and the simulator implement it too, so every behaviour above it runs the same in tests.
 */
export type LegEndReason = 'caller_hangup' | 'bot_hangup' | 'transferred' | 'failed' | 'shutdown';

export interface CallMetadata {
  callId: string;
  /** Caller number (E.164 where known). Personal data: log under pii.*. */
  from: string;
  /** Dialled number (122 or a number forwarded to it). */
  to: string;
  startedAt: Date;
  channel: 'sip' | 'media' | 'text' | 'simulator';
  /** Free-form metadata from the signalling side (SIP headers, FreeSWITCH uuid). */
  extra?: Record<string, unknown>;
}

export type ForwardResult =
  | { status: 'answered' }
  | { status: 'busy' }
  | { status: 'no_answer' }
  | { status: 'failed'; reason: string };

export type CallLegEvent =
  | { type: 'dtmf'; digit: string; durationMs?: number }
  | { type: 'audio'; samples: Int16Array; sampleRate: number }
  | { type: 'text'; text: string }
  | { type: 'hangup'; reason: LegEndReason }
  | { type: 'playback_done'; id: string }
  /**
   * The caller put the call on hold (held: true: a re-INVITE with sendonly/inactive) or took it back (false).
   * The bot pauses meanwhile: what it says is not heard, what it hears is the caller's hold music.
   */
  | { type: 'hold'; held: boolean };

export interface PlayOptions {
  /** An id that the matching playback_done event carries. */
  id: string;
}

export interface CallLeg {
  readonly meta: CallMetadata;
  /** Events from the caller's side, in order. */
  on(listener: (event: CallLegEvent) => void): () => void;
  /** Plays PCM16 audio to the caller (voice legs). */
  playAudio(samples: Int16Array, sampleRate: number, opts: PlayOptions): Promise<void>;
  /** Shows/sends text to the caller (text legs); voice legs may ignore it. */
  sendText(text: string): Promise<void>;
  /** Stops whatever is playing now (barge-in). */
  stopAudio(): Promise<void>;
  /** Transfers the caller to a number or SIP URI (agency forward, operator bridge). */
  forward(target: string, opts?: { timeoutMs?: number }): Promise<ForwardResult>;
  hangup(reason?: LegEndReason): Promise<void>;
  readonly ended: boolean;
}
