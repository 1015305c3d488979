import { OtklikError } from '../../core/errors.js';
import type { HandOffContext } from '../../media/handoff.js';
import type { Sql } from '../../store/sql.js';
import { DEFAULT_QUEUE, type QueueCallRow, type QueueCallState } from './model.js';

export interface EnqueueRequest {
  callId: string;
  /** Topic of the call (kb topic id): its queue where one exists, else `default`; null means any operator. */
  topicId: string | null;
  /** What the operator sees: transcript, intents, caller number (personal data: never logged in clear). */
  context?: Record<string, unknown>;
  /** Higher is served first (emergency-adjacent, callbacks, VIP numbers); 0 by default. */
  priority?: number;
  channel?: 'phone' | 'text';
}

/** A call in the queue as the operator side reads it. */
export interface QueueRecord {
  callId: string;
  topicId: string | null;
  queueId: string;
  channel: 'phone' | 'text';
  state: QueueCallState;
  operatorId: string | null;
  enqueuedAt: Date;
  /** When an operator accepted it; when they closed the conversation. */
  answeredAt: Date | null;
  closedAt: Date | null;
  priority: number;
  /** The bot's package (media/handoff.ts), or what telephony knew of a call the bot never had. */
  context: Partial<HandOffContext> & Record<string, unknown>;
}

/**
 * Puts the call in the operator queue with its context package (the voice bot's hand-off, telephony's own
 * calls the bot could not take): in its topic's queue where one exists, else the default queue. Idempotent
 * per call id.
 */
export async function enqueueCall(sql: Sql, req: EnqueueRequest, at: Date = new Date()): Promise<void> {
  if (!req.callId) throw new OtklikError('VALIDATION_FAILED', 'enqueueCall needs a callId');
  await sql.query(
    `WITH c AS (
       INSERT INTO telephony_queue_calls (call_id, topic_id, context, enqueued_at, priority, channel, queue_id)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, COALESCE((SELECT id FROM telephony_acd_queues WHERE id = $2), $7))
       ON CONFLICT (call_id) DO NOTHING RETURNING call_id, queue_id, priority)
     INSERT INTO telephony_acd_events (at, call_id, queue_id, event, details)
     SELECT $4, call_id, queue_id, 'enqueued', jsonb_build_object('priority', priority) FROM c`,
    [
      req.callId,
      req.topicId,
      JSON.stringify(req.context ?? {}),
      at,
      req.priority ?? 0,
      req.channel ?? 'phone',
      DEFAULT_QUEUE,
    ],
  );
}

/** A call's queue record with its context package (the operator desk's view of it); null if never queued. */
export async function queuedCall(sql: Sql, callId: string): Promise<QueueRecord | null> {
  const rows = await sql.query<QueueCallRow>('SELECT * FROM telephony_queue_calls WHERE call_id = $1', [
    callId,
  ]);
  const r = rows[0];
  if (!r) return null;
  return {
    callId: r.call_id,
    topicId: r.topic_id,
    queueId: r.queue_id,
    channel: r.channel,
    state: r.state,
    operatorId: r.operator_id,
    enqueuedAt: r.enqueued_at,
    answeredAt: r.answered_at,
    closedAt: r.closed_at,
    priority: r.priority,
    context: r.context,
  };
}

/**
 * Some operator is signed in (any state but offline) who can take this channel: a chat goes to the desk,
 * a phone call needs the operator's SIP URI (an operator without one takes chats only).
 */
export async function staffed(sql: Sql, channel: 'phone' | 'text'): Promise<boolean> {
  const rows = await sql.query(
    `SELECT 1 FROM telephony_operators
      WHERE state <> 'offline' AND ($1::boolean OR COALESCE(sip_uri, '') <> '') LIMIT 1`,
    [channel === 'text'],
  );
  return rows.length > 0;
}
