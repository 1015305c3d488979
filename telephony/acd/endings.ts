import type { Sql } from '../../store/sql.js';
import { acdEvent, type QueueCallRow, type QueueCallState, type QueueDefaults } from './model.js';
import { endOffer } from './offers.js';
import { closeConversation } from './operators.js';

/**
 * How a wait ends without an operator: the caller hangs up (abandoned), asks to be called back, or goes to the
 * bot's inquiry. Each measures the wait against the call's queue's norm (past_norm: a lost call).
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

/**
 * Ends a waiting (or ringing) call's wait in `state` — a callback request (key 1 at the norm, or registered for
 * the caller) or the bot's inquiry — its offers withdrawn, with an event of that name; `then` writes what the
 * ending brings (the callback row) in the same transaction. false when the call no longer waits.
 */
export async function endWait(
  sql: Sql,
  callId: string,
  state: 'callback' | 'inquiry',
  waitNormMs: number,
  o: { defaults: QueueDefaults; now: Date },
  then: (tx: Sql, call: QueueCallRow) => Promise<Record<string, unknown>>,
): Promise<boolean> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 FOR UPDATE', [callId]);
    const [call] = await tx.query<QueueCallRow>('SELECT * FROM telephony_queue_calls WHERE call_id = $1', [
      callId,
    ]);
    const ended = await finish(tx, callId, state, ['waiting', 'offered'], o.now, waitNormMs);
    if (!ended || !call) return false;
    const offers = await tx.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id',
      [callId],
    );
    for (const f of offers) await endOffer(tx, callId, f.operator_id, 'withdrawn', o);
    const details = await then(tx, call);
    await acdEvent(tx, o.now, { event: state, callId, queueId: ended.queue_id, details });
    return true;
  });
}

/**
 * Telephony's word for the end of an operator's phone call: their open conversation is closed (wrap-up
 * follows); an operator on a call without one is simply available.
 */
export async function releaseOperator(
  sql: Sql,
  operatorId: string,
  o: { defaults: QueueDefaults; now: Date },
): Promise<void> {
  const open = await sql.query<{ call_id: string }>(
    `SELECT call_id FROM telephony_queue_calls
      WHERE operator_id = $1 AND state = 'answered' AND closed_at IS NULL ORDER BY answered_at`,
    [operatorId],
  );
  for (const c of open) await closeConversation(sql, c.call_id, operatorId, {}, o);
  if (open.length === 0)
    await sql.query(
      `UPDATE telephony_operators SET state = 'available', idle_since = $2, state_since = $2, updated_at = $2
        WHERE id = $1 AND state = 'on_call'`,
      [operatorId, o.now],
    );
}
