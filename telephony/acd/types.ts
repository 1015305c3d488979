import type { QueuedCall } from '../../media/handoff.js';
import type { CallbackSettings } from './callbacks.js';
import type { Operator } from './model.js';
import type { Offer } from './offers.js';

/** The operator queue's options and the shapes its users see (telephony/queue.ts OperatorQueue). */

/** An offer as telephony's dispatcher reads it: whom to ring. */
export interface Assignment extends Offer {
  operator: Operator;
}

export interface QueueOptions {
  /** How long a call may wait for an operator with the right skill (QUEUE_WAIT_NORM_MS, e.g. 60 000 ms). */
  waitNormMs: number;
  /** Announcements before the wait ends in a callback or an inquiry (DEFAULT_ANNOUNCE_MAX). */
  announceMax?: number;
  /** Defaults for queues that do not set their own (model.ts has mod_callcenter's). */
  wrapUpMs?: number;
  maxNoAnswer?: number;
  ringTimeoutMs?: number;
  now?: () => Date;
  /** For the random strategy; a seeded one (seededRandom) in tests. */
  random?: () => number;
  /**
   * The caller priority of a hand-off (higher first): emergency-adjacent reasons, VIP numbers from the
   * configuration; the composition root decides. 0 for every call when unset.
   */
  priorityOf?: (call: QueuedCall) => number;
  /** Callbacks: attempt spacing, attempts, their ACD priority (telephony/acd/callbacks.ts has the defaults). */
  callbacks?: Partial<CallbackSettings>;
}

/** An ACD act of this process, as `onChange` listeners hear of it. */
export interface AcdChange {
  callId?: string | null;
  operatorId?: string | null;
  /** enqueued, offered, accepted, declined, no_answer, withdrawn, abandoned, closed, presence, moved, callback. */
  event: string;
}

export type Channel = 'phone' | 'text';
