import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import {
  acdEvent,
  loadQueue,
  type OperatorRow,
  type QueueCallRow,
  type QueueColumns,
  type QueueDefaults,
  skipLocked,
  toOperator,
  toQueue,
} from './model.js';
import { type Candidate, type ChooseContext, choose } from './strategies.js';

/**
 * Offering calls to operators, and an offer's end: accepted, declined, unanswered within the ring timeout,
 * or withdrawn. Each act is one transaction that locks what it changes — the call row and the operator rows,
 * with `SKIP LOCKED` on PostgreSQL, so dispatchers on several nodes pass each other by instead of waiting —
 * and still changes a row only from the state it read (…WHERE state = 'waiting'): on PGlite, one process,
 * that conditional UPDATE is the whole guard. One operator holds at most one offer (a unique index), and
 * a call is offered once per round (to several operators only under ring-all).
 * Lock order, everywhere: offers, then the call, then the queue, then operators.
 */

export interface Offer {
  callId: string;
  operatorId: string;
  queueId: string;
  topicId: string | null;
  channel: 'phone' | 'text';
  context: Record<string, unknown>;
  enqueuedAt: Date;
  offeredAt: Date;
  expiresAt: Date;
  /** True when the call was past the wait norm and given to an operator without the queue or skill. */
  anyOperator: boolean;
  waitedMs: number;
}

export interface DispatchOptions {
  defaults: QueueDefaults;
  now: Date;
  random?: () => number;
}

type CandidateRow = OperatorRow & { level: number | null; position: number | null };

/** What one offering act did: the offers made, and how many available operators it saw left over. */
export interface Offering {
  offers: Array<Offer & { operator: OperatorRow }>;
  freeLeft: number;
}

/**
 * Offers one waiting call to whom its queue's strategy picks among the available operators who may take it.
 * No offers when the call is gone, locked by another dispatcher, or nobody may take it.
 */
export async function offerCall(sql: Sql, callId: string, o: DispatchOptions): Promise<Offering> {
  return sql.transaction(async (tx) => {
    const calls = await tx.query<QueueCallRow & QueueColumns>(
      `SELECT c.*, q.name, q.strategy, q.wait_norm_ms, q.wrap_up_ms, q.max_no_answer, q.ring_timeout_ms,
              q.rr_last_operator
         FROM telephony_queue_calls c LEFT JOIN telephony_acd_queues q ON q.id = c.queue_id
        WHERE c.call_id = $1 AND c.state = 'waiting'${skipLocked(tx, 'c')}`,
      [callId],
    );
    const call = calls[0];
    if (!call) return { offers: [], freeLeft: -1 };
    const queue = toQueue(call.name === null ? undefined : call, call.queue_id, o.defaults);
    let rrLast = call.rr_last_operator;
    // Round-robin's cursor is one row: dispatchers on several nodes take turns at it.
    if (queue.strategy === 'round-robin' && tx.backend === 'postgres')
      rrLast =
        (
          await tx.query<{ rr_last_operator: string | null }>(
            'SELECT rr_last_operator FROM telephony_acd_queues WHERE id = $1 FOR UPDATE',
            [call.queue_id],
          )
        )[0]?.rr_last_operator ?? null;
    const rows = await tx.query<CandidateRow>(
      `SELECT o.*, m.level, m.position FROM telephony_operators o
         LEFT JOIN telephony_acd_members m ON m.operator_id = o.id AND m.queue_id = $1
        WHERE o.state = 'available' ORDER BY o.id${skipLocked(tx, 'o')}`,
      [call.queue_id],
    );
    const waitedMs = o.now.getTime() - call.enqueued_at.getTime();
    // Past the wait norm the call is opened to any available operator: nobody waits forever for a skill.
    const anyOperator = call.any_operator || waitedMs >= queue.waitNormMs;
    const eligible = rows.filter(
      (r) =>
        // A phone call rides a SIP bridge: an operator without a SIP URI takes chats only.
        (call.channel !== 'phone' || r.sip_uri !== null) &&
        (anyOperator ||
          call.topic_id === null ||
          r.level !== null ||
          (call.topic_id !== null && r.skills.includes(call.topic_id))),
    );
    const candidates: Candidate[] = eligible.map((r) => ({
      id: r.id,
      level: r.level ?? 1,
      position: r.position ?? 1,
      idleSince: r.idle_since,
      callsAnswered: r.calls_answered,
      talkMs: Number(r.talk_ms),
    }));
    const ctx: ChooseContext = { lastOperatorId: rrLast };
    if (o.random) ctx.random = o.random;
    const chosen = choose(queue.strategy, candidates, ctx);
    if (chosen.length === 0) return { offers: [], freeLeft: rows.length };
    const expiresAt = new Date(o.now.getTime() + queue.ringTimeoutMs);
    // The operators, the call, the offers and their events in one statement (a dispatcher round is the hot
    // path); the call moves only if some operator did, and each only from the state read above.
    const taken = await tx.query<{ operator_id: string }>(
      `WITH op AS (
         UPDATE telephony_operators SET state = 'offered', state_since = $3, updated_at = $3
          WHERE id = ANY($2::text[]) AND state = 'available' RETURNING id),
       c AS (
         UPDATE telephony_queue_calls SET state = 'offered', offered_at = $3, any_operator = $6,
           attempts = attempts + 1,
           operator_id = CASE WHEN (SELECT count(*) FROM op) = 1 THEN (SELECT id FROM op) END
          WHERE call_id = $1 AND state = 'waiting' AND EXISTS (SELECT 1 FROM op) RETURNING call_id),
       f AS (
         INSERT INTO telephony_acd_offers (call_id, operator_id, offered_at, expires_at)
         SELECT c.call_id, op.id, $3, $4 FROM c, op RETURNING operator_id)
       INSERT INTO telephony_acd_events (at, call_id, operator_id, queue_id, event, details)
       SELECT $3, $1, f.operator_id, $5, 'offered', $7::jsonb FROM f ORDER BY f.operator_id
       RETURNING operator_id`,
      [
        call.call_id,
        chosen,
        o.now,
        expiresAt,
        call.queue_id,
        anyOperator,
        JSON.stringify({ strategy: queue.strategy, waitedMs, anyOperator }),
      ],
    );
    const ids = chosen.filter((id) => taken.some((t) => t.operator_id === id));
    if (ids.length === 0) return { offers: [], freeLeft: rows.length };
    if (queue.strategy === 'round-robin')
      await tx.query('UPDATE telephony_acd_queues SET rr_last_operator = $2 WHERE id = $1', [
        call.queue_id,
        ids[ids.length - 1],
      ]);
    const offers = ids.map((operatorId) => ({
      callId: call.call_id,
      operatorId,
      queueId: call.queue_id,
      topicId: call.topic_id,
      channel: call.channel,
      context: call.context,
      enqueuedAt: call.enqueued_at,
      offeredAt: o.now,
      expiresAt,
      anyOperator,
      waitedMs,
      operator: { ...rows.find((r) => r.id === operatorId)!, state: 'offered' as const },
    }));
    return { offers, freeLeft: rows.length - ids.length };
  });
}

export type OfferEnd = 'declined' | 'no_answer' | 'withdrawn';

/**
 * Ends one offer without an accept. A declined or unanswered offer counts against the operator (max-no-answer
 * in a row: a break, reason 'no_answer'; otherwise the end of the idle line); a withdrawn one (the caller hung
 * up, another operator took a ring-all call, the operator changed presence) does not. When no offer of the
 * call is left the call is waiting again at its old place: its enqueued_at never changes.
 */
export async function endOffer(
  tx: Sql,
  callId: string,
  operatorId: string,
  how: OfferEnd,
  o: { defaults: QueueDefaults; now: Date; operatorBecomes?: 'available' | null },
): Promise<boolean> {
  const gone = await tx.query<{ queue_id: string }>(
    `DELETE FROM telephony_acd_offers f USING telephony_queue_calls c
      WHERE f.call_id = $1 AND f.operator_id = $2 AND c.call_id = f.call_id RETURNING c.queue_id`,
    [callId, operatorId],
  );
  if (gone.length === 0) return false;
  const queueId = gone[0]!.queue_id;
  const queue = await loadQueue(tx, queueId, o.defaults);
  if (how === 'withdrawn') {
    if (o.operatorBecomes !== null)
      await tx.query(
        `UPDATE telephony_operators SET state = 'available', state_since = $2, updated_at = $2
          WHERE id = $1 AND state = 'offered'`,
        [operatorId, o.now],
      );
  } else {
    const rows = await tx.query<OperatorRow>(
      `UPDATE telephony_operators SET no_answer_count = no_answer_count + 1, updated_at = $2
        WHERE id = $1 RETURNING *`,
      [operatorId, o.now],
    );
    const op = rows[0] ? toOperator(rows[0]) : null;
    if (op && op.state === 'offered') {
      const toBreak = op.noAnswerCount >= queue.maxNoAnswer;
      await tx.query(
        `UPDATE telephony_operators SET state = $2, break_reason = $3, state_since = $4,
           idle_since = CASE WHEN $2 = 'available' THEN $4::timestamptz ELSE NULL END
          WHERE id = $1`,
        [operatorId, toBreak ? 'break' : 'available', toBreak ? 'no_answer' : null, o.now],
      );
      if (toBreak)
        await acdEvent(tx, o.now, {
          event: 'presence',
          operatorId,
          queueId,
          details: { state: 'break', reason: 'no_answer', noAnswerCount: op.noAnswerCount },
        });
    }
  }
  await acdEvent(tx, o.now, { event: how, callId, operatorId, queueId });
  const left = await tx.query('SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 LIMIT 1', [callId]);
  if (left.length === 0)
    await tx.query(
      `UPDATE telephony_queue_calls SET state = 'waiting', operator_id = NULL WHERE call_id = $1 AND state = 'offered'`,
      [callId],
    );
  return true;
}

/**
 * The sweep of a dispatcher round: offers past their ring timeout are unanswered (an operator who closed the
 * desk or lost the network mid-offer: the call goes back to the head of its queue), and operators whose
 * wrap-up time is over are available again, at the end of the idle line as of the wrap-up's end.
 */
export async function sweep(
  sql: Sql,
  o: { defaults: QueueDefaults; now: Date },
): Promise<{ lapsed: Array<{ callId: string; operatorId: string }>; wrapUpsEnded: string[] }> {
  const lapsed: Array<{ callId: string; operatorId: string }> = [];
  const expired = await sql.query<{ call_id: string; operator_id: string }>(
    `SELECT call_id, operator_id FROM telephony_acd_offers WHERE expires_at <= $1 ORDER BY expires_at, call_id`,
    [o.now],
  );
  for (const e of expired) {
    await sql.transaction(async (tx) => {
      const locked = await tx.query(
        `SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 AND operator_id = $2 AND expires_at <= $3${skipLocked(tx)}`,
        [e.call_id, e.operator_id, o.now],
      );
      if (locked.length > 0 && (await endOffer(tx, e.call_id, e.operator_id, 'no_answer', o)))
        lapsed.push({ callId: e.call_id, operatorId: e.operator_id });
    });
  }
  const ended = await sql.query<{ operator_id: string }>(
    `WITH d AS (
       UPDATE telephony_operators SET state = 'available', idle_since = wrap_up_until,
         state_since = wrap_up_until, updated_at = $1
        WHERE state = 'wrap_up' AND wrap_up_until <= $1 RETURNING id, wrap_up_until)
     INSERT INTO telephony_acd_events (at, operator_id, event)
     SELECT wrap_up_until, id, 'wrap_up_end' FROM d ORDER BY wrap_up_until, id RETURNING operator_id`,
    [o.now],
  );
  return { lapsed, wrapUpsEnded: ended.map((r) => r.operator_id) };
}

/** The operator takes the call: CONFLICT when it is no longer theirs to take (taken, gone, lapsed). */
export async function acceptOffer(
  sql: Sql,
  callId: string,
  operatorId: string,
  o: { defaults: QueueDefaults; now: Date },
): Promise<void> {
  await sql.transaction(async (tx) => {
    // Every offer of the call goes at once; the transaction puts them back if this accept fails.
    const offers = await tx.query<{ operator_id: string; expires_at: Date }>(
      'DELETE FROM telephony_acd_offers WHERE call_id = $1 RETURNING operator_id, expires_at',
      [callId],
    );
    const mine = offers.find((f) => f.operator_id === operatorId);
    if (!mine || mine.expires_at.getTime() <= o.now.getTime())
      throw new OtklikError('CONFLICT', 'Вызов уже принят другим оператором или больше не ждёт', {
        details: { callId },
      });
    const accepted = await tx.query<{ queue_id: string }>(
      `WITH c AS (
         UPDATE telephony_queue_calls c SET state = 'answered', operator_id = $2, answered_at = $3, ended_at = $3,
           wait_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000)::bigint),
           past_norm = (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000) >
             COALESCE((SELECT q.wait_norm_ms FROM telephony_acd_queues q WHERE q.id = c.queue_id), $4)
          WHERE call_id = $1 AND state = 'offered' RETURNING queue_id),
       op AS (
         UPDATE telephony_operators SET state = 'on_call', state_since = $3, updated_at = $3, no_answer_count = 0,
           calls_answered = calls_answered + 1, break_reason = NULL
          WHERE id = $2 AND EXISTS (SELECT 1 FROM c) RETURNING id)
       INSERT INTO telephony_acd_events (at, call_id, operator_id, queue_id, event)
       SELECT $3, $1, op.id, c.queue_id, 'accepted' FROM c, op RETURNING queue_id`,
      [callId, operatorId, o.now, o.defaults.waitNormMs],
    );
    if (accepted.length === 0) throw new OtklikError('CONFLICT', 'Вызов больше не ждёт оператора');
    // Ring-all: the others rang in vain, through no fault of theirs.
    const others = offers.filter((f) => f.operator_id !== operatorId).map((f) => f.operator_id);
    if (others.length > 0)
      await tx.query(
        `WITH op AS (
           UPDATE telephony_operators SET state = 'available', state_since = $3, updated_at = $3
            WHERE id = ANY($2::text[]) AND state = 'offered' RETURNING id)
         INSERT INTO telephony_acd_events (at, call_id, operator_id, queue_id, event)
         SELECT $3, $1, id, $4, 'withdrawn' FROM op ORDER BY id`,
        [callId, others, o.now, accepted[0]!.queue_id],
      );
  });
}
