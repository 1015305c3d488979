import type { QueuePosition } from '../../media/handoff.js';
import type { Sql } from '../../store/sql.js';
import { acdEvent, type OverflowTarget, type QueueColumns, type QueueDefaults, toQueue } from './model.js';

/**
 * The caller's side of a wait, in the store: where the call stands in its queue and how long it may still
 * wait, the desk-accepted phone calls still to be bridged, a failed bridge's return to the queue, and the
 * overflow of a queue (another queue, the bot's inquiry, a callback). Acts that end a wait (callback, inquiry)
 * are OperatorQueue's, which measures waits against the norm.
 */

/** Over this much of the recent past the queue's handle time and wait are averaged for the estimate. */
export const ESTIMATE_WINDOW_MS = 60 * 60_000;

/** Where the call stands; null when it was never queued. `at` is the call's own clock. */
export async function queuePosition(
  sql: Sql,
  callId: string,
  d: QueueDefaults,
  at: Date,
): Promise<QueuePosition | null> {
  const rows = await sql.query<
    QueueColumns & {
      queue_id: string;
      topic_id: string | null;
      state: string;
      enqueued_at: Date;
      queue_name: string | null;
      ahead: string | number;
    }
  >(
    `SELECT c.queue_id, c.topic_id, c.state, c.enqueued_at, q.name AS queue_name, q.name, q.strategy,
            q.wait_norm_ms, q.wrap_up_ms, q.max_no_answer, q.ring_timeout_ms, q.rr_last_operator,
            q.overflow_after_ms, q.overflow_to, q.announce_max,
            (SELECT count(*) FROM telephony_queue_calls o
              WHERE o.queue_id = c.queue_id AND o.state IN ('waiting', 'offered') AND o.call_id <> c.call_id
                AND (o.priority > c.priority OR (o.priority = c.priority
                  AND (o.enqueued_at < c.enqueued_at OR (o.enqueued_at = c.enqueued_at AND o.call_id < c.call_id)))))
              AS ahead
       FROM telephony_queue_calls c LEFT JOIN telephony_acd_queues q ON q.id = c.queue_id
      WHERE c.call_id = $1`,
    [callId],
  );
  const r = rows[0];
  if (!r) return null;
  const queue = toQueue(r.queue_name === null ? undefined : r, r.queue_id, d);
  const state: QueuePosition['state'] =
    r.state === 'waiting' || r.state === 'offered' ? 'waiting' : (r.state as QueuePosition['state']);
  const position = Number(r.ahead) + 1;
  return {
    state,
    queueId: r.queue_id,
    position,
    expectedWaitMs:
      state === 'waiting' ? await expectedWait(sql, r.queue_id, r.topic_id, position, at) : null,
    waitedMs: Math.max(0, at.getTime() - r.enqueued_at.getTime()),
    waitNormMs: queue.waitNormMs,
    announceMax: queue.announceMax,
  };
}

/**
 * The expected wait of the call at `position`: with the queue's recent handle time (talk time of the
 * conversations closed in the last hour) and the operators working now who may take its calls, every
 * operator frees up once per handle time, so the caller waits ⌈position / operators⌉ handle times. With no
 * conversation closed lately, the recent average wait of answered calls stands in; with neither, or nobody
 * working, there is no honest estimate (null: only the position is said).
 */
export async function expectedWait(
  sql: Sql,
  queueId: string,
  topicId: string | null,
  position: number,
  at: Date,
): Promise<number | null> {
  const since = new Date(at.getTime() - ESTIMATE_WINDOW_MS);
  const [recent] = await sql.query<{ aht: string | number | null; wait: string | number | null }>(
    `SELECT avg(talk_ms) FILTER (WHERE closed_at >= $2 AND talk_ms IS NOT NULL) AS aht,
            avg(wait_ms) FILTER (WHERE state = 'answered' AND answered_at >= $2) AS wait
       FROM telephony_queue_calls WHERE queue_id = $1 AND (closed_at >= $2 OR answered_at >= $2)`,
    [queueId, since],
  );
  const [working] = await sql.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM telephony_operators o
      WHERE o.state IN ('available', 'offered', 'on_call', 'wrap_up')
        AND (EXISTS (SELECT 1 FROM telephony_acd_members m WHERE m.operator_id = o.id AND m.queue_id = $1)
             OR ($2::text IS NOT NULL AND o.skills ? $2))`,
    [queueId, topicId],
  );
  const operators = Number(working?.n ?? 0);
  const aht = recent?.aht != null ? Number(recent.aht) : null;
  if (aht !== null && aht > 0 && operators > 0) return Math.ceil(position / operators) * aht;
  const wait = recent?.wait != null ? Number(recent.wait) : null;
  return wait !== null && wait > 0 ? wait : null;
}

/** A desk-accepted phone call of this node still to be bridged: whom to ring. */
export interface Unbridged {
  callId: string;
  operatorId: string;
  operatorName: string;
  sipUri: string | null;
}

/** The answered phone calls among `callIds` (those this node holds) whose caller is not bridged yet. */
export async function unbridgedCalls(sql: Sql, callIds: string[]): Promise<Unbridged[]> {
  if (callIds.length === 0) return [];
  const rows = await sql.query<{
    call_id: string;
    operator_id: string;
    name: string;
    sip_uri: string | null;
  }>(
    `SELECT c.call_id, c.operator_id, o.name, o.sip_uri FROM telephony_queue_calls c
       JOIN telephony_operators o ON o.id = c.operator_id
      WHERE c.call_id = ANY($1::text[]) AND c.state = 'answered' AND c.bridged_at IS NULL
        AND c.channel = 'phone' AND c.closed_at IS NULL
      ORDER BY c.answered_at, c.call_id`,
    [callIds],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    operatorId: r.operator_id,
    operatorName: r.name,
    sipUri: r.sip_uri,
  }));
}

/**
 * Callbacks an operator accepted on the desk, not placed yet: nobody's channel holds them, so the first
 * telephony node to claim one (bridged_at set in the same statement) places it, and no other node does. Only
 * desk operators' (an operator without the desk is rung by the dispatcher, whose answer is the accept).
 */
export async function claimAcceptedCallbacks(
  sql: Sql,
  at: Date,
): Promise<
  Array<{ callId: string; operator: { id: string; sipUri: string | null }; context: Record<string, unknown> }>
> {
  const rows = await sql.query<{
    call_id: string;
    operator_id: string;
    sip_uri: string | null;
    context: Record<string, unknown>;
  }>(
    `UPDATE telephony_queue_calls c SET bridged_at = $1 FROM telephony_operators o
      WHERE o.id = c.operator_id AND o.desk AND c.state = 'answered' AND c.bridged_at IS NULL AND c.channel = 'phone'
        AND c.closed_at IS NULL AND c.context->>'callbackId' IS NOT NULL
      RETURNING c.call_id, c.operator_id, o.sip_uri, c.context`,
    [at],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    operator: { id: r.operator_id, sipUri: r.sip_uri },
    context: r.context,
  }));
}

export async function markBridged(sql: Sql, callId: string, at: Date): Promise<void> {
  await sql.query(
    `UPDATE telephony_queue_calls SET bridged_at = $2 WHERE call_id = $1 AND state = 'answered' AND bridged_at IS NULL`,
    [callId, at],
  );
}

/**
 * A desk-accepted call whose bridge failed (the operator's phone did not answer or was busy) goes back to
 * waiting at its old place (enqueued_at kept: the head of its queue, for its priority). The operator goes on
 * break (reason 'phone_unreachable'): they accepted on the desk a moment ago, so it is their phone that fails
 * (a softphone not registered, a handset off the hook), not their attention; counting it toward max-no-answer
 * would never reach the max (the accept resets the count), and the same call would go round accept → failed
 * bridge → accept. The desk shows the break; the operator sets available again once the phone works.
 * Returns false when the call was not an answered, unbridged one.
 */
export async function requeueCall(sql: Sql, callId: string, at: Date): Promise<boolean> {
  return sql.transaction(async (tx) => {
    const rows = await tx.query<{ queue_id: string; operator_id: string | null }>(
      `WITH old AS (SELECT call_id, operator_id FROM telephony_queue_calls
                     WHERE call_id = $1 AND state = 'answered' AND bridged_at IS NULL FOR UPDATE)
       UPDATE telephony_queue_calls c SET state = 'waiting', operator_id = NULL, answered_at = NULL,
         ended_at = NULL, wait_ms = NULL, past_norm = false
         FROM old WHERE c.call_id = old.call_id RETURNING c.queue_id, old.operator_id`,
      [callId],
    );
    const r = rows[0];
    if (!r) return false;
    if (r.operator_id) {
      const op = await tx.query(
        `UPDATE telephony_operators SET state = 'break', break_reason = 'phone_unreachable', state_since = $2,
           idle_since = NULL, calls_answered = GREATEST(0, calls_answered - 1), updated_at = $2
          WHERE id = $1 AND state = 'on_call' RETURNING id`,
        [r.operator_id, at],
      );
      if (op.length > 0)
        await acdEvent(tx, at, {
          event: 'presence',
          operatorId: r.operator_id,
          queueId: r.queue_id,
          details: { state: 'break', reason: 'phone_unreachable' },
        });
    }
    await acdEvent(tx, at, { event: 'requeued', callId, operatorId: r.operator_id, queueId: r.queue_id });
    return true;
  });
}

/** A call of this node that waited its queue's overflow time (once per call). */
export interface OverflowDue {
  callId: string;
  queueId: string;
  to: OverflowTarget;
  context: Record<string, unknown>;
}

export async function overflowDue(sql: Sql, callIds: string[], at: Date): Promise<OverflowDue[]> {
  if (callIds.length === 0) return [];
  const rows = await sql.query<{
    call_id: string;
    queue_id: string;
    overflow_to: string;
    context: Record<string, unknown>;
  }>(
    `SELECT c.call_id, c.queue_id, q.overflow_to, c.context FROM telephony_queue_calls c
       JOIN telephony_acd_queues q ON q.id = c.queue_id
      WHERE c.call_id = ANY($1::text[]) AND c.state = 'waiting' AND c.overflowed_at IS NULL
        AND q.overflow_to IS NOT NULL AND q.overflow_after_ms IS NOT NULL
        AND EXTRACT(EPOCH FROM ($2::timestamptz - c.enqueued_at)) * 1000 >= q.overflow_after_ms
      ORDER BY c.enqueued_at, c.call_id`,
    [callIds, at],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    queueId: r.queue_id,
    to: r.overflow_to as OverflowTarget,
    context: r.context,
  }));
}

/**
 * The call overflows into another queue: it keeps its enqueued_at (its wait goes on, not starts over) and
 * says where it came from; only a waiting call moves (one being offered moves at the next round, if it is
 * still waiting then). Any overflow, this one or the one that could not be taken, is marked: once per call.
 */
export async function overflowToQueue(
  sql: Sql,
  callId: string,
  queueId: string | null,
  at: Date,
): Promise<boolean> {
  const rows = await sql.query<{ from_queue: string }>(
    `WITH old AS (SELECT call_id, queue_id FROM telephony_queue_calls WHERE call_id = $1 AND state = 'waiting')
     UPDATE telephony_queue_calls c SET overflowed_at = $3,
       queue_id = COALESCE($2, c.queue_id),
       context = CASE WHEN $2::text IS NULL THEN c.context
                      ELSE c.context || jsonb_build_object('overflowFrom', old.queue_id) END
       FROM old WHERE c.call_id = old.call_id RETURNING old.queue_id AS from_queue`,
    [callId, queueId, at],
  );
  const r = rows[0];
  if (!r) return false;
  if (queueId)
    await acdEvent(sql, at, {
      event: 'moved',
      callId,
      queueId,
      details: { from: r.from_queue, to: queueId, overflow: true },
    });
  return true;
}
