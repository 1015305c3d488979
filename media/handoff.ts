/**
 * The hand-off interface: how the voice bot hands a call to people without knowing who serves them.
 * Telephony's operator queue implements it (telephony/queue.ts); the composition root (cli/services.ts)
 * gives it to the voice-bot sessions. Like call-leg.ts, this file is the contract both sides import, so
 * that neither imports the other.
 *
 * What goes where:
 * - the operator queue: `enqueue` with everything the bot learned (the operator never makes the caller
 *   repeat), `abandon` when the caller hangs up while waiting; the queue applies its own wait norm
 *   (QUEUE_WAIT_NORM_MS) to tell lost calls;
 * - forwards (to an agency, to the emergency service) ride on the call's own leg, `CallLeg.forward`: only
 *   the leg reaches the telephony instance that holds the caller's channel, and it rings for the
 *   configured time (FORWARD_TIMEOUT_MS);
 * - a callback the caller asks for is an inquiry registered for it (inquiries/register.ts): the line calls
 *   back with the agency's answer. A queued call that waited too long becomes the queue's own callback.
 */

/** What the bot learned in the call, for the operator who takes it. Personal data: never logged in clear. */
export interface HandOffContext {
  /** Why the call is handed on: caller_request, misunderstood, repeated_question, emergency, technical… */
  reason: string;
  callerNumber: string | null;
  /** The KB topic the call is about, where the bot knew it. */
  topic: string | null;
  /** Every classified caller utterance, with the classifier's confidence, in order. */
  intents: Array<{ intent: string; confidence: number; atMs: number; text: string }>;
  /** Entities found in what the caller said (dates, numbers, a policy number…). */
  entities: Array<{ type: string; text: string; value: string | number }>;
  transcript: Array<{ who: 'caller' | 'bot' | 'operator'; text: string; atMs: number }>;
  /** The approved answers the caller already got (intent and answer version). */
  answers: Array<{ intent: string; answerVersion: string }>;
}

export interface QueuedCall {
  callId: string;
  /** The channel the caller is on: who can serve the call depends on it. */
  channel: 'sip' | 'media' | 'text' | 'simulator';
  /** Topic for the operators' skills (a KB topic id); null: any operator. */
  topicId: string | null;
  context: HandOffContext;
  /** When the call joined the queue, on the call's own clock (a simulated call's time in simulations). */
  at: Date;
}

/**
 * queued: the call waits for an operator (the caller hears hold messages until telephony bridges it, or, for a
 * chat, until an operator takes it on the desk and types to the citizen);
 * unserved: nobody can take calls of this channel now (a web chat while no operator is signed in), so the
 * caller must be offered another way at once (an inquiry), never a wait without end.
 */
export type EnqueueOutcome = 'queued' | 'unserved';

export interface HandOff {
  /** Puts the call in the operator queue; enqueuing the same call again changes nothing. */
  enqueue(call: QueuedCall): Promise<EnqueueOutcome>;
  /** The caller hung up while waiting (at: on the call's own clock, the one it was queued on). */
  abandon(callId: string, at: Date): Promise<void>;
  /**
   * Whether some operator who can take calls of this channel is signed in now (not offline). The line is
   * open for operators when its hours say so OR when this is true: after hours, a signed-in operator still
   * gets the call, and the after-hours path runs only when nobody can take it.
   */
  staffed(channel: QueuedCall['channel']): Promise<boolean>;
}
