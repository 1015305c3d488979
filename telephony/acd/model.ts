import type { Sql } from '../../store/sql.js';
import { DEFAULT_STRATEGY, isStrategy, type Strategy } from './strategies.js';

/**
 * The ACD's words and rows. Operator states follow mod_callcenter and the desk:
 * offline → available ⇄ break (with a reason); available → offered (a call rings for them) → on_call (accepted)
 * → wrap_up (the queue's wrap-up time for notes) → available. A declined or unanswered offer sends the operator
 * back to the end of the idle line; max-no-answer of them in a row puts the operator on break ('no_answer').
 */
export type OperatorState = 'offline' | 'available' | 'break' | 'offered' | 'on_call' | 'wrap_up';
/** What an operator sets for themselves (the desk's presence); the other states are the ACD's. */
export type Presence = 'available' | 'break' | 'offline';
export type QueueCallState = 'waiting' | 'offered' | 'answered' | 'abandoned' | 'callback' | 'inquiry';
/** Where a queue sends a call that waited its overflow time: another queue, the bot's inquiry, a callback. */
export type OverflowTarget = `queue:${string}` | 'inquiry' | 'callback';

export function isOverflowTarget(v: unknown): v is OverflowTarget {
  return v === 'inquiry' || v === 'callback' || (typeof v === 'string' && /^queue:.+/.test(v));
}

/** mod_callcenter's defaults: 10 s of wrap-up, three offers without an answer before a break. */
export const DEFAULT_WRAP_UP_MS = 10_000;
export const DEFAULT_MAX_NO_ANSWER = 3;
/**
 * How long an offer rings before it counts as unanswered. Telephony rings the operator's softphone for
 * FORWARD_TIMEOUT_MS (30 s by default) and passes a ring timeout above it, so an offer never lapses while the
 * phone still rings.
 */
export const DEFAULT_RING_TIMEOUT_MS = 35_000;
export const DEFAULT_QUEUE = 'default';
/**
 * Announcements (position and expected wait) a caller hears before the wait stops being the only way: then a
 * callback is registered for a known number, or the bot offers an inquiry. Ten at the hold interval (20 s) is
 * about three minutes past the first.
 */
export const DEFAULT_ANNOUNCE_MAX = 10;

export interface Operator {
  id: string;
  name: string;
  /** The staff login of the desk's user this operator is; null for operators only the CLI knows. */
  login: string | null;
  /** Null: the operator takes chats only, and phone calls are never offered to them. */
  sipUri: string | null;
  /** They set presence through the desk: their phone offers wait for the desk's accept instead of ringing. */
  desk: boolean;
  state: OperatorState;
  /** Why the operator is on break: their own words, or 'no_answer' after max-no-answer. */
  breakReason: string | null;
  stateSince: Date | null;
  /** Topic ids the operator handles (besides the queues they are a member of). */
  skills: string[];
  idleSince: Date | null;
  noAnswerCount: number;
  callsAnswered: number;
  talkMs: number;
}

export interface OperatorRow {
  id: string;
  name: string;
  login: string | null;
  sip_uri: string | null;
  desk: boolean;
  state: OperatorState;
  skills: string[];
  idle_since: Date | null;
  break_reason: string | null;
  state_since: Date | null;
  wrap_up_until: Date | null;
  no_answer_count: number;
  calls_answered: number;
  talk_ms: number;
}

export const toOperator = (r: OperatorRow): Operator => ({
  id: r.id,
  name: r.name,
  login: r.login,
  sipUri: r.sip_uri,
  desk: r.desk === true,
  state: r.state,
  breakReason: r.break_reason,
  stateSince: r.state_since,
  skills: r.skills,
  idleSince: r.idle_since,
  noAnswerCount: r.no_answer_count,
  callsAnswered: r.calls_answered,
  talkMs: Number(r.talk_ms),
});

export interface QueueCallRow {
  call_id: string;
  topic_id: string | null;
  queue_id: string;
  channel: 'phone' | 'text';
  priority: number;
  context: Record<string, unknown>;
  enqueued_at: Date;
  state: QueueCallState;
  operator_id: string | null;
  any_operator: boolean;
  answered_at: Date | null;
  closed_at: Date | null;
}

/** A queue's settings; what its row leaves NULL comes from the OperatorQueue's options. */
export interface AcdQueue {
  id: string;
  name: string;
  strategy: Strategy;
  waitNormMs: number;
  wrapUpMs: number;
  maxNoAnswer: number;
  ringTimeoutMs: number;
  /** After this wait the call overflows to `overflowTo`; null: no overflow. */
  overflowAfterMs: number | null;
  overflowTo: OverflowTarget | null;
  /** Announcements before a callback (known number) or the bot's inquiry ends the wait. */
  announceMax: number;
}

export interface QueueDefaults {
  waitNormMs: number;
  wrapUpMs: number;
  maxNoAnswer: number;
  ringTimeoutMs: number;
  announceMax: number;
}

/** A queue row's settings columns (joined onto a call's row by the dispatcher). */
export interface QueueColumns {
  name: string | null;
  strategy: string | null;
  wait_norm_ms: number | null;
  wrap_up_ms: number | null;
  max_no_answer: number | null;
  ring_timeout_ms: number | null;
  rr_last_operator: string | null;
  overflow_after_ms?: number | null;
  overflow_to?: string | null;
  announce_max?: number | null;
}

/** A queue's own row: its settings columns, with its id, name and strategy always set. */
type AcdQueueRow = Omit<QueueColumns, 'name' | 'strategy'> & { id: string; name: string; strategy: string };

export function toQueue(r: (AcdQueueRow | QueueColumns) | undefined, id: string, d: QueueDefaults): AcdQueue {
  return {
    id,
    name: r?.name ?? id,
    strategy: r?.strategy && isStrategy(r.strategy) ? r.strategy : DEFAULT_STRATEGY,
    waitNormMs: r?.wait_norm_ms != null ? Number(r.wait_norm_ms) : d.waitNormMs,
    wrapUpMs: r?.wrap_up_ms != null ? Number(r.wrap_up_ms) : d.wrapUpMs,
    maxNoAnswer: r?.max_no_answer ?? d.maxNoAnswer,
    ringTimeoutMs: r?.ring_timeout_ms != null ? Number(r.ring_timeout_ms) : d.ringTimeoutMs,
    overflowAfterMs: r?.overflow_after_ms != null ? Number(r.overflow_after_ms) : null,
    overflowTo: isOverflowTarget(r?.overflow_to) ? r.overflow_to : null,
    announceMax: r?.announce_max ?? d.announceMax,
  };
}

/** A queue's settings and round-robin cursor; `lock` serializes round-robin rounds across dispatchers. */
export async function loadQueue(
  sql: Sql,
  id: string,
  d: QueueDefaults,
  lock = false,
): Promise<AcdQueue & { rrLastOperator: string | null }> {
  const rows = await sql.query<AcdQueueRow>(
    `SELECT * FROM telephony_acd_queues WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return { ...toQueue(rows[0], id, d), rrLastOperator: rows[0]?.rr_last_operator ?? null };
}

export async function acdEvent(
  sql: Sql,
  at: Date,
  e: {
    event: string;
    callId?: string | null;
    operatorId?: string | null;
    queueId?: string | null;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await sql.query(
    `INSERT INTO telephony_acd_events (at, call_id, operator_id, queue_id, event, details)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [at, e.callId ?? null, e.operatorId ?? null, e.queueId ?? null, e.event, JSON.stringify(e.details ?? {})],
  );
}

/** `FOR UPDATE SKIP LOCKED` where several processes share the server; PGlite is one process, serialized. */
export function skipLocked(sql: Sql, of?: string): string {
  return sql.backend === 'postgres' ? ` FOR UPDATE${of ? ` OF ${of}` : ''} SKIP LOCKED` : '';
}
