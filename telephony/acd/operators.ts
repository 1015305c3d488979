import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import {
  acdEvent,
  loadQueue,
  type OperatorRow,
  type Presence,
  type QueueDefaults,
  toOperator,
} from './model.js';
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
  o: { defaults: QueueDefaults; now: Date },
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
         wrap_up_until = NULL,
         no_answer_count = CASE WHEN $2 = 'available' THEN 0 ELSE no_answer_count END,
         idle_since = CASE WHEN $2 = 'available' AND state <> 'available' THEN $3::timestamptz
                           WHEN $2 = 'available' THEN idle_since ELSE NULL END
        WHERE id = $1 RETURNING *`,
      [operatorId, state, o.now, state === 'break' ? reason : null],
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
  return sql.transaction(async (tx) => {
    const rows = await tx.query<{ queue_id: string; talk_ms: number }>(
      `UPDATE telephony_queue_calls SET closed_at = $3,
         talk_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - answered_at)) * 1000)::bigint)
       WHERE call_id = $1 AND operator_id = $2 AND state = 'answered' AND closed_at IS NULL
       RETURNING queue_id, talk_ms`,
      [callId, operatorId, o.now],
    );
    const row = rows[0];
    if (!row) {
      const known = await tx.query('SELECT 1 FROM telephony_queue_calls WHERE call_id = $1', [callId]);
      if (known.length === 0) throw new OtklikError('NOT_FOUND', `Нет вызова ${callId}`);
      throw new OtklikError('CONFLICT', 'Это не открытый разговор этого оператора', { details: { callId } });
    }
    const queue = await loadQueue(tx, row.queue_id, o.defaults);
    const talkMs = Number(row.talk_ms);
    const availableAt = new Date(o.now.getTime() + queue.wrapUpMs);
    const ops = await tx.query<OperatorRow>(
      `UPDATE telephony_operators SET talk_ms = talk_ms + $2, updated_at = $3,
         state = CASE WHEN state <> 'on_call' THEN state WHEN $5 THEN 'available' ELSE 'wrap_up' END,
         wrap_up_until = CASE WHEN state = 'on_call' AND NOT $5 THEN $4::timestamptz ELSE wrap_up_until END,
         idle_since = CASE WHEN state = 'on_call' AND $5 THEN $3::timestamptz ELSE idle_since END,
         state_since = CASE WHEN state = 'on_call' THEN $3::timestamptz ELSE state_since END
        WHERE id = $1 RETURNING *`,
      [operatorId, talkMs, o.now, availableAt, queue.wrapUpMs === 0],
    );
    await acdEvent(tx, o.now, {
      event: 'closed',
      callId,
      operatorId,
      queueId: row.queue_id,
      details: { talkMs, wrapUpMs: queue.wrapUpMs, ...(close.outcome ? { outcome: close.outcome } : {}) },
    });
    const op = ops[0] ? toOperator(ops[0]) : null;
    return { talkMs, availableAt: op?.state === 'wrap_up' ? availableAt : o.now };
  });
}
