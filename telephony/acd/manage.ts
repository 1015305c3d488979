import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import {
  type AcdQueue,
  acdEvent,
  DEFAULT_QUEUE,
  type Operator,
  type OperatorRow,
  type QueueDefaults,
  toOperator,
  toQueue,
} from './model.js';
import { endOffer } from './offers.js';
import { closeConversation, setPresence } from './operators.js';

/**
 * Managing who works the queues (the supervisor's screens, the desk's sign-in): operators with their staff
 * login, SIP URI, skills and queue memberships; queues and their settings; a call moved to another queue.
 * The offering and its locking stay in offers.ts: every act here that touches an offer goes through endOffer.
 */

export interface Membership {
  queueId: string;
  level: number;
  position: number;
}

export interface OperatorInput {
  id: string;
  name: string;
  /** undefined keeps what the row has; null clears it. */
  login?: string | null;
  sipUri?: string | null;
  skills: string[];
  /** The operator's queues; given, it replaces every membership they had. */
  queues?: Array<{ queueId: string; level?: number; position?: number }>;
}

export type { QueueSettings } from './settings.js';

export interface QueueMember extends Membership {
  operatorId: string;
  name: string;
  state: Operator['state'];
}

type At = { defaults: QueueDefaults; now: Date };

const uniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export async function memberships(sql: Sql, operatorId: string): Promise<Membership[]> {
  return sql.query<Membership>(
    `SELECT queue_id AS "queueId", level, position FROM telephony_acd_members WHERE operator_id = $1
      ORDER BY level, position, queue_id`,
    [operatorId],
  );
}

/** Creates or changes an operator; CONFLICT when the login belongs to another operator. */
export async function saveOperator(sql: Sql, op: OperatorInput, now: Date): Promise<Operator> {
  if (!op.id || !op.name) throw new OtklikError('VALIDATION_FAILED', 'Укажите идентификатор и имя оператора');
  if (op.sipUri && !/^sips?:/.test(op.sipUri))
    throw new OtklikError('VALIDATION_FAILED', `SIP URI должен начинаться с sip: (${op.sipUri})`);
  try {
    return await sql.transaction(async (tx) => {
      const rows = await tx.query<OperatorRow>(
        `INSERT INTO telephony_operators (id, name, login, sip_uri, skills, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $8)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, skills = EXCLUDED.skills, updated_at = $8,
           login = CASE WHEN $6 THEN EXCLUDED.login ELSE telephony_operators.login END,
           sip_uri = CASE WHEN $7 THEN EXCLUDED.sip_uri ELSE telephony_operators.sip_uri END
         RETURNING *`,
        [
          op.id,
          op.name,
          op.login ?? null,
          op.sipUri || null,
          JSON.stringify(op.skills),
          op.login !== undefined,
          op.sipUri !== undefined,
          now,
        ],
      );
      if (op.queues) {
        const ids = op.queues.map((q) => q.queueId);
        const known = await tx.query<{ id: string }>(
          'SELECT id FROM telephony_acd_queues WHERE id = ANY($1::text[])',
          [ids],
        );
        const unknown = ids.filter((id) => !known.some((k) => k.id === id));
        if (unknown.length > 0)
          throw new OtklikError('VALIDATION_FAILED', `Нет очереди ${unknown.join(', ')}`, {
            details: { queues: unknown },
          });
        await tx.query(
          'DELETE FROM telephony_acd_members WHERE operator_id = $1 AND NOT (queue_id = ANY($2::text[]))',
          [op.id, ids],
        );
        for (const q of op.queues)
          await tx.query(
            `INSERT INTO telephony_acd_members (queue_id, operator_id, level, position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (queue_id, operator_id) DO UPDATE SET level = EXCLUDED.level, position = EXCLUDED.position`,
            [q.queueId, op.id, q.level ?? 1, q.position ?? 1],
          );
      }
      return toOperator(rows[0]!);
    });
  } catch (err) {
    if (uniqueViolation(err))
      throw new OtklikError('CONFLICT', `Логин ${op.login} уже привязан к другому оператору`);
    throw err;
  }
}

/**
 * The operator row of a staff login, created on first use (id = login, the staff name, no SIP URI: chats
 * only until a supervisor gives one; offline). A CLI-made operator whose id is the login is linked to it.
 */
export async function operatorForLogin(sql: Sql, login: string, name: string, now: Date): Promise<Operator> {
  const found = await sql.query<OperatorRow>('SELECT * FROM telephony_operators WHERE login = $1', [login]);
  if (found[0]) return toOperator(found[0]);
  const made = await sql.query<OperatorRow>(
    `INSERT INTO telephony_operators (id, name, login, state, updated_at) VALUES ($1, $2, $1, 'offline', $3)
     ON CONFLICT (id) DO UPDATE SET login = EXCLUDED.login, updated_at = $3 WHERE telephony_operators.login IS NULL
     RETURNING *`,
    [login, name, now],
  );
  if (made[0]) return toOperator(made[0]);
  // Created meanwhile by another request of the same user, or the id is another login's.
  const again = await sql.query<OperatorRow>('SELECT * FROM telephony_operators WHERE login = $1', [login]);
  if (again[0]) return toOperator(again[0]);
  throw new OtklikError('CONFLICT', `Идентификатор оператора ${login} занят другой учётной записью`);
}

/** An operator leaves the line: offline (an offer goes back), out of every queue, the row gone; events stay. */
export async function removeOperator(sql: Sql, id: string, o: At): Promise<void> {
  const open = await sql.query(
    `SELECT 1 FROM telephony_queue_calls WHERE operator_id = $1 AND state = 'answered' AND closed_at IS NULL`,
    [id],
  );
  if (open.length > 0)
    throw new OtklikError('CONFLICT', 'У оператора открыт разговор: удалить его можно после завершения');
  await setPresence(sql, id, 'offline', null, o);
  await sql.query('DELETE FROM telephony_operators WHERE id = $1', [id]);
}

/** A queue is removed only when empty: no call waits, rings or talks in it; `default` always stays. */
export async function removeQueue(sql: Sql, id: string): Promise<void> {
  if (id === DEFAULT_QUEUE) throw new OtklikError('CONFLICT', 'Общую очередь удалить нельзя');
  await sql.transaction(async (tx) => {
    const busy = await tx.query(
      `SELECT 1 FROM telephony_queue_calls WHERE queue_id = $1
          AND (state IN ('waiting', 'offered') OR (state = 'answered' AND closed_at IS NULL)) LIMIT 1`,
      [id],
    );
    if (busy.length > 0)
      throw new OtklikError('CONFLICT', 'В очереди есть вызовы: переместите их, затем удалите очередь');
    const gone = await tx.query('DELETE FROM telephony_acd_queues WHERE id = $1 RETURNING id', [id]);
    if (gone.length === 0) throw new OtklikError('NOT_FOUND', `Нет очереди ${id}`);
  });
}

/** Every queue (default first) with its members in tier order. */
export async function queuesWithMembers(
  sql: Sql,
  d: QueueDefaults,
): Promise<Array<AcdQueue & { members: QueueMember[] }>> {
  const queues = await sql.query<Parameters<typeof toQueue>[0] & { id: string }>(
    `SELECT * FROM telephony_acd_queues ORDER BY id <> 'default', id`,
  );
  const members = await sql.query<QueueMember & { queueId: string }>(
    `SELECT m.queue_id AS "queueId", m.operator_id AS "operatorId", o.name, o.state, m.level, m.position
       FROM telephony_acd_members m JOIN telephony_operators o ON o.id = m.operator_id
      ORDER BY m.level, m.position, m.operator_id`,
  );
  return queues.map((r) => ({
    ...toQueue(r, r.id, d),
    members: members.filter((m) => m.queueId === r.id),
  }));
}

async function queueExists(tx: Sql, queueId: string): Promise<void> {
  const q = await tx.query('SELECT 1 FROM telephony_acd_queues WHERE id = $1', [queueId]);
  if (q.length === 0) throw new OtklikError('NOT_FOUND', `Нет очереди ${queueId}`);
}

/**
 * A supervisor moves a waiting (or ringing) call to another queue: it keeps its enqueued_at, so its place is
 * by how long it has waited; a ringing offer is withdrawn without counting against the operator.
 */
export async function moveCall(sql: Sql, callId: string, queueId: string, o: At): Promise<{ from: string }> {
  return sql.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 FOR UPDATE', [callId]);
    const rows = await tx.query<{ queue_id: string; state: string }>(
      'SELECT queue_id, state FROM telephony_queue_calls WHERE call_id = $1 FOR UPDATE',
      [callId],
    );
    const call = rows[0];
    if (!call) throw new OtklikError('NOT_FOUND', `Нет вызова ${callId} в очереди`);
    if (call.state !== 'waiting' && call.state !== 'offered')
      throw new OtklikError('CONFLICT', 'Переместить можно только ожидающий вызов', { details: { callId } });
    await queueExists(tx, queueId);
    const offers = await tx.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id',
      [callId],
    );
    for (const f of offers) await endOffer(tx, callId, f.operator_id, 'withdrawn', o);
    await tx.query('UPDATE telephony_queue_calls SET queue_id = $2 WHERE call_id = $1', [callId, queueId]);
    await acdEvent(tx, o.now, { event: 'moved', callId, queueId, details: { from: call.queue_id } });
    return { from: call.queue_id };
  });
}

/**
 * The operator hands their conversation to another queue: the conversation is closed for them (talk time,
 * wrap-up, as a close) and the call waits anew in the target queue with its context, the transfer noted in
 * `context.transfers[]` so that the next operator sees who had it.
 */
export async function requeueTransferred(
  sql: Sql,
  callId: string,
  operatorId: string,
  queueId: string,
  now: Date,
  briefing: string | null = null,
): Promise<void> {
  await sql.transaction(async (tx) => {
    await queueExists(tx, queueId);
    const rows = await tx.query<{ queue_id: string; context: Record<string, unknown> }>(
      `SELECT queue_id, context FROM telephony_queue_calls WHERE call_id = $1 AND operator_id = $2
          AND state = 'answered' FOR UPDATE`,
      [callId, operatorId],
    );
    const call = rows[0];
    if (!call) throw new OtklikError('CONFLICT', 'Это не разговор этого оператора', { details: { callId } });
    const transfers = Array.isArray(call.context.transfers) ? call.context.transfers : [];
    const context = {
      ...call.context,
      transfers: [
        ...transfers,
        {
          operatorId,
          fromQueue: call.queue_id,
          toQueue: queueId,
          at: now.toISOString(),
          ...(briefing ? { briefing } : {}),
        },
      ],
    };
    // bridged_at goes too: a phone call is bridged anew to the next operator who accepts it on the desk.
    await tx.query(
      `UPDATE telephony_queue_calls SET state = 'waiting', queue_id = $2, context = $3::jsonb, enqueued_at = $4,
         operator_id = NULL, answered_at = NULL, closed_at = NULL, ended_at = NULL, offered_at = NULL, bridged_at = NULL,
         wait_ms = NULL, talk_ms = NULL, past_norm = false, any_operator = false
        WHERE call_id = $1`,
      [callId, queueId, JSON.stringify(context), now],
    );
    await acdEvent(tx, now, {
      event: 'moved',
      callId,
      operatorId,
      queueId,
      details: { from: call.queue_id, transfer: true },
    });
  });
}

/**
 * An operator's live phone conversation went to a colleague's phone (a blind transfer telephony has made):
 * closed for the first (outcome `transferred`, wrap-up follows) and answered by the second at once (on a call,
 * the conversation theirs on the desk), the hand-over and its briefing noted in `context.transfers`.
 */
export async function handOverConversation(
  sql: Sql,
  h: { callId: string; from: string; to: string; briefing: string | null },
  o: { defaults: QueueDefaults; now: Date },
): Promise<void> {
  const { callId, from, to, briefing } = h;
  const { now } = o;
  await sql.transaction(async (tx) => {
    const rows = await tx.query<{ queue_id: string; context: Record<string, unknown> }>(
      `SELECT queue_id, context FROM telephony_queue_calls WHERE call_id = $1 AND operator_id = $2
          AND state = 'answered' AND closed_at IS NULL FOR UPDATE`,
      [callId, from],
    );
    const call = rows[0];
    if (!call) throw new OtklikError('CONFLICT', 'Это не разговор этого оператора', { details: { callId } });
    await closeConversation(tx, callId, from, { outcome: 'transferred' }, o);
    const transfers = Array.isArray(call.context.transfers) ? call.context.transfers : [];
    const context = {
      ...call.context,
      transfers: [
        ...transfers,
        {
          operatorId: from,
          toOperator: to,
          fromQueue: call.queue_id,
          at: now.toISOString(),
          ...(briefing ? { briefing } : {}),
        },
      ],
    };
    await tx.query(
      `UPDATE telephony_queue_calls SET operator_id = $2, answered_at = $3, closed_at = NULL, talk_ms = NULL,
         bridged_at = $3, context = $4::jsonb WHERE call_id = $1`,
      [callId, to, now, JSON.stringify(context)],
    );
    await tx.query(
      `UPDATE telephony_operators SET state = 'on_call', state_since = $2, updated_at = $2, no_answer_count = 0,
         calls_answered = calls_answered + 1, break_reason = NULL WHERE id = $1`,
      [to, now],
    );
    await acdEvent(tx, now, {
      event: 'accepted',
      callId,
      operatorId: to,
      queueId: call.queue_id,
      details: { transferFrom: from },
    });
  });
}

/** An operator as the CLI sets one up: id, name, SIP URI and skills (the desk's management: saveOperator). */
export async function upsertOperator(
  sql: Sql,
  op: { id: string; name: string; sipUri: string; skills: string[] },
): Promise<void> {
  if (!op.id || !op.sipUri) throw new OtklikError('VALIDATION_FAILED', 'operator needs an id and a SIP URI');
  await sql.query(
    `INSERT INTO telephony_operators (id, name, sip_uri, skills) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sip_uri = EXCLUDED.sip_uri, skills = EXCLUDED.skills,
       updated_at = now()`,
    [op.id, op.name, op.sipUri, JSON.stringify(op.skills)],
  );
}

/**
 * A queue for each of these (the KB's topics at start-up), unless it exists: staff then set its strategy and
 * norm; an existing queue keeps its settings and name. Returns the ids created.
 */
export async function ensureQueues(sql: Sql, queues: Array<{ id: string; name: string }>): Promise<string[]> {
  const made: string[] = [];
  for (const q of queues) {
    const rows = await sql.query<{ id: string }>(
      `INSERT INTO telephony_acd_queues (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [q.id, q.name],
    );
    if (rows[0]) made.push(rows[0].id);
  }
  return made;
}
