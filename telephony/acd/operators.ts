import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import { acdEvent, type OperatorRow, type Presence, type QueueDefaults } from './model.js';
import { endOffer } from './offers.js';

/**
 * What an operator does outside an offer: presence (available, break with a reason, offline) and the close
 * of a conversation, which starts the queue's wrap-up. These are the library functions under the desk API
 * (PUT /api/desk/presence, POST /api/desk/conversations/:callId/close).
 */

export const PRESENCES: readonly Presence[] = ['available', 'break', 'offline'];

/**
 * Sets the operator's presence. An offer they hold is withdrawn without counting against them, and the call
 * goes back to its place. Becoming available (from any other state) puts them at the end of the idle line and
 * clears the no-answer count. A conversation in progress stays theirs until they close it.
 */
export async function setPresence(
  sql: Sql,
  operatorId: string,
  state: Presence,
  reason: string | null,
  o: { defaults: QueueDefaults; now: Date; viaDesk?: boolean },
): Promise<void> {
  if (!PRESENCES.includes(state))
    throw new OtklikError('VALIDATION_FAILED', `Недопустимое состояние оператора: ${String(state)}`);
  await sql.transaction(async (tx) => {
    const offers = await tx.query<{ call_id: string }>(
      'SELECT call_id FROM telephony_acd_offers WHERE operator_id = $1 FOR UPDATE',
      [operatorId],
    );
    for (const f of offers)
      await endOffer(tx, f.call_id, operatorId, 'withdrawn', { ...o, operatorBecomes: null });
    const rows = await tx.query<OperatorRow>(
      `UPDATE telephony_operators SET state = $2, updated_at = $3,
         break_reason = CASE WHEN $2 = 'break' THEN $4 ELSE NULL END,
         state_since = CASE WHEN state = $2 THEN state_since ELSE $3::timestamptz END,
         wrap_up_until = NULL, desk = desk OR $5,
         no_answer_count = CASE WHEN $2 = 'available' THEN 0 ELSE no_answer_count END,
         idle_since = CASE WHEN $2 = 'available' AND state <> 'available' THEN $3::timestamptz
                           WHEN $2 = 'available' THEN idle_since ELSE NULL END
        WHERE id = $1 RETURNING *`,
      [operatorId, state, o.now, state === 'break' ? reason : null, o.viaDesk === true],
    );
    if (rows.length === 0) throw new OtklikError('NOT_FOUND', `Нет оператора ${operatorId}`);
    await acdEvent(tx, o.now, {
      event: 'presence',
      operatorId,
      details: { state, ...(state === 'break' && reason ? { reason } : {}) },
    });
  });
}

export interface CloseResult {
  talkMs: number;
  /** When the operator is available again (the end of the queue's wrap-up). */
  availableAt: Date;
}

/**
 * The operator ends the conversation: its talk time is added to theirs (agent-with-least-talk-time) and they
 * are in wrap-up for the queue's wrap-up time, then available (a dispatcher round ends the wrap-up).
 * CONFLICT when the call is not this operator's open conversation.
 */
export async function closeConversation(
  sql: Sql,
  callId: string,
  operatorId: string,
  close: { outcome?: string | null },
  o: { defaults: QueueDefaults; now: Date },
): Promise<CloseResult> {
  // One statement (the call, the operator, the event): the end of every conversation passes here.
  const rows = await sql.query<{
    talk_ms: number;
    wrap_up_ms: number;
    state: string | null;
    wrap_up_until: Date | null;
  }>(
    `WITH c AS (
       UPDATE telephony_queue_calls c SET closed_at = $3,
         talk_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - answered_at)) * 1000)::bigint)
        WHERE call_id = $1 AND operator_id = $2 AND state = 'answered' AND closed_at IS NULL
        RETURNING queue_id, talk_ms,
          COALESCE((SELECT q.wrap_up_ms FROM telephony_acd_queues q WHERE q.id = c.queue_id), $4) AS wrap_up_ms),
     op AS (
       UPDATE telephony_operators o SET talk_ms = o.talk_ms + c.talk_ms, updated_at = $3,
         state = CASE WHEN o.state <> 'on_call' THEN o.state WHEN c.wrap_up_ms = 0 THEN 'available'
                      ELSE 'wrap_up' END,
         wrap_up_until = CASE WHEN o.state = 'on_call' AND c.wrap_up_ms > 0
                              THEN $3::timestamptz + c.wrap_up_ms * interval '1 millisecond'
                              ELSE o.wrap_up_until END,
         idle_since = CASE WHEN o.state = 'on_call' AND c.wrap_up_ms = 0 THEN $3::timestamptz
                           ELSE o.idle_since END,
         state_since = CASE WHEN o.state = 'on_call' THEN $3::timestamptz ELSE o.state_since END
        FROM c WHERE o.id = $2 RETURNING o.state, o.wrap_up_until),
     e AS (
       INSERT INTO telephony_acd_events (at, call_id, operator_id, queue_id, event, details)
       SELECT $3, $1, $2, c.queue_id, 'closed',
              jsonb_build_object('talkMs', c.talk_ms, 'wrapUpMs', c.wrap_up_ms) || $5::jsonb FROM c)
     SELECT c.talk_ms, c.wrap_up_ms, op.state, op.wrap_up_until FROM c LEFT JOIN op ON true`,
    [
      callId,
      operatorId,
      o.now,
      o.defaults.wrapUpMs,
      JSON.stringify(close.outcome ? { outcome: close.outcome } : {}),
    ],
  );
  const row = rows[0];
  if (!row) {
    const known = await sql.query('SELECT 1 FROM telephony_queue_calls WHERE call_id = $1', [callId]);
    if (known.length === 0) throw new OtklikError('NOT_FOUND', `Нет вызова ${callId}`);
    throw new OtklikError('CONFLICT', 'Это не открытый разговор этого оператора', { details: { callId } });
  }
  return {
    talkMs: Number(row.talk_ms),
    availableAt: row.state === 'wrap_up' && row.wrap_up_until ? row.wrap_up_until : o.now,
  };
}
