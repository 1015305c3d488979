import type { Sql } from '../../store/sql.js';
import { acdEvent, type QueueCallRow, type QueueCallState, type QueueDefaults } from './model.js';
import { endOffer } from './offers.js';

/**
 * How a wait ends without an operator: the caller hangs up (abandoned), or the call waited so long that it
 * becomes a callback request. Both measure the wait against the call's queue's norm (past_norm: a lost call).
 */

/** Ends the wait of a call (from one of `from`), measured against its queue's norm. */
async function finish(
  sql: Sql,
  callId: string,
  state: QueueCallState,
  from: QueueCallState[],
  now: Date,
  waitNormMs: number,
): Promise<{ queue_id: string } | null> {
  const rows = await sql.query<{ queue_id: string }>(
    `UPDATE telephony_queue_calls c SET state = $2, ended_at = $3,
       wait_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000)::bigint),
       past_norm = (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000) >
         COALESCE((SELECT q.wait_norm_ms FROM telephony_acd_queues q WHERE q.id = c.queue_id), $5)
     WHERE call_id = $1 AND state = ANY($4::text[]) RETURNING queue_id`,
    [callId, state, now, from, waitNormMs],
  );
  return rows[0] ?? null;
}

/** The caller hung up while waiting or ringing; false when the call was no longer waiting. */
export async function abandonCall(
  sql: Sql,
  callId: string,
  waitNormMs: number,
  o: { defaults: QueueDefaults; now: Date },
): Promise<boolean> {
  return sql.transaction(async (tx) => {
    // Offers before the call, the order every act locks in (an accept racing the hang-up waits, never deadlocks).
    await tx.query('SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 FOR UPDATE', [callId]);
    const ended = await finish(tx, callId, 'abandoned', ['waiting', 'offered'], o.now, waitNormMs);
    if (!ended) return false;
    const offers = await tx.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id',
      [callId],
    );
    for (const f of offers) await endOffer(tx, callId, f.operator_id, 'withdrawn', o);
    await acdEvent(tx, o.now, { event: 'abandoned', callId, queueId: ended.queue_id });
    return true;
  });
}

function defaultPhone(_callId: string, context: Record<string, unknown>): string | null {
  const phone = context.callerNumber ?? context.from;
  return typeof phone === 'string' ? phone : null;
}

/** Calls waiting since `cutoff` or longer become callback requests; returns their ids. */
export async function moveOverdueToCallback(
  sql: Sql,
  cutoff: Date,
  waitNormMs: number,
  now: Date,
  phoneOf: (callId: string, context: Record<string, unknown>) => string | null = defaultPhone,
): Promise<string[]> {
  const overdue = await sql.query<QueueCallRow>(
    `SELECT * FROM telephony_queue_calls WHERE state = 'waiting' AND enqueued_at <= $1 ORDER BY enqueued_at`,
    [cutoff],
  );
  const moved: string[] = [];
  for (const call of overdue) {
    const done = await sql.transaction(async (tx) => {
      const ended = await finish(tx, call.call_id, 'callback', ['waiting'], now, waitNormMs);
      if (!ended) return false;
      await tx.query(
        `INSERT INTO telephony_callbacks (call_id, phone, topic_id, context, created_at)
         VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (call_id) DO NOTHING`,
        [call.call_id, phoneOf(call.call_id, call.context), call.topic_id, JSON.stringify(call.context), now],
      );
      await acdEvent(tx, now, { event: 'callback', callId: call.call_id, queueId: call.queue_id });
      return true;
    });
    if (done) moved.push(call.call_id);
  }
  return moved;
}
