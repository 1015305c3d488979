import type { Sql } from '../../store/sql.js';
import {
  type Operator,
  type OperatorRow,
  type QueueCallRow,
  type QueueCallState,
  toOperator,
} from './model.js';
import type { Offer } from './offers.js';

/** What the desk and the wall read of the ACD besides offers: whose is which conversation, who waits where. */

export async function operatorByLogin(sql: Sql, login: string): Promise<Operator | null> {
  const rows = await sql.query<OperatorRow>('SELECT * FROM telephony_operators WHERE login = $1', [login]);
  return rows[0] ? toOperator(rows[0]) : null;
}

export interface ConversationRow {
  callId: string;
  channel: 'phone' | 'text';
  topicId: string | null;
  queueId: string;
  answeredAt: Date;
  closedAt: Date | null;
}

/** The operator's open conversations, then the last `closedLimit` they closed, newest first. */
export async function conversationsOf(
  sql: Sql,
  operatorId: string,
  closedLimit = 10,
): Promise<ConversationRow[]> {
  return sql.query<ConversationRow>(
    `(SELECT call_id AS "callId", channel, topic_id AS "topicId", queue_id AS "queueId",
             answered_at AS "answeredAt", closed_at AS "closedAt"
        FROM telephony_queue_calls WHERE operator_id = $1 AND state = 'answered' AND closed_at IS NULL
       ORDER BY answered_at DESC)
     UNION ALL
     (SELECT call_id, channel, topic_id, queue_id, answered_at, closed_at
        FROM telephony_queue_calls WHERE operator_id = $1 AND state = 'answered' AND closed_at IS NOT NULL
       ORDER BY closed_at DESC LIMIT $2)`,
    [operatorId, closedLimit],
  );
}

export interface ActiveCall {
  callId: string;
  channel: 'phone' | 'text';
  topicId: string | null;
  queueId: string;
  state: QueueCallState;
  operatorId: string | null;
  enqueuedAt: Date;
  answeredAt: Date | null;
  priority: number;
}

/** Calls waiting, ringing or in conversation now, in the order the dispatcher serves them. */
export async function activeCalls(sql: Sql): Promise<ActiveCall[]> {
  return sql.query<ActiveCall>(
    `SELECT call_id AS "callId", channel, topic_id AS "topicId", queue_id AS "queueId", state,
            operator_id AS "operatorId", enqueued_at AS "enqueuedAt",
            answered_at AS "answeredAt", priority
       FROM telephony_queue_calls
      WHERE state IN ('waiting', 'offered') OR (state = 'answered' AND closed_at IS NULL)
      ORDER BY priority DESC, enqueued_at, call_id`,
  );
}

export interface AcdEvent {
  at: Date;
  callId: string | null;
  operatorId: string | null;
  queueId: string | null;
  event: string;
  details: Record<string, unknown>;
}

/** The ACD's events, oldest first (for reports and the supervisor's wall). */
export async function acdEvents(
  sql: Sql,
  filter: { callId?: string; operatorId?: string } = {},
): Promise<AcdEvent[]> {
  const rows = await sql.query<{
    at: Date;
    call_id: string | null;
    operator_id: string | null;
    queue_id: string | null;
    event: string;
    details: Record<string, unknown>;
  }>(
    `SELECT * FROM telephony_acd_events WHERE ($1::text IS NULL OR call_id = $1)
        AND ($2::text IS NULL OR operator_id = $2) ORDER BY id`,
    [filter.callId ?? null, filter.operatorId ?? null],
  );
  return rows.map((r) => ({
    at: r.at,
    callId: r.call_id,
    operatorId: r.operator_id,
    queueId: r.queue_id,
    event: r.event,
    details: r.details,
  }));
}

/** What is offered to this operator now, unexpired (the desk's GET /api/desk/offers). */
export async function offersFor(sql: Sql, operatorId: string, now: Date): Promise<Offer[]> {
  const rows = await sql.query<QueueCallRow & { offered_at: Date; expires_at: Date }>(
    `SELECT c.*, f.offered_at, f.expires_at FROM telephony_acd_offers f
       JOIN telephony_queue_calls c ON c.call_id = f.call_id
      WHERE f.operator_id = $1 AND f.expires_at > $2 ORDER BY f.offered_at`,
    [operatorId, now],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    operatorId,
    queueId: r.queue_id,
    topicId: r.topic_id,
    channel: r.channel,
    context: r.context,
    enqueuedAt: r.enqueued_at,
    offeredAt: r.offered_at,
    expiresAt: r.expires_at,
    anyOperator: r.any_operator,
    waitedMs: now.getTime() - r.enqueued_at.getTime(),
  }));
}
