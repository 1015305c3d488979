import { OtklikError } from '../core/errors.js';
import { percentile } from '../core/stats.js';
import type { EnqueueOutcome, HandOff, HandOffContext, QueuedCall } from '../media/handoff.js';
import type { Sql } from '../store/sql.js';

/**
 * The operator queue (ACD). Calls wait in PostgreSQL so that any telephony process can pick them up.
 * - Uniform distribution: the operator idle the longest among those with the call's topic as a skill.
 * - Guaranteed reach: a call that waited past the wait norm is opened to any available operator; one that
 *   waited past `callbackAfterMs` becomes a callback request, so nobody is left waiting forever.
 * - Statistics per the regional rules: offered/answered/abandoned, abandoned past the norm counted
 *   separately as lost calls, average and p90 wait.
 * Every state change is a conditional UPDATE (…WHERE state = expected), so two dispatchers never hand the same
 * call or operator out twice, on PGlite and PostgreSQL alike.
 * It is the voice bot's hand-off (media/handoff.ts): a queued call's `context` is everything the bot learned,
 * the one record of the escalation that the operator desk reads.
 */
export type OperatorState = 'available' | 'busy' | 'offline';
export type QueueCallState = 'waiting' | 'offered' | 'answered' | 'abandoned' | 'callback';

export interface Operator {
  id: string;
  name: string;
  sipUri: string;
  state: OperatorState;
  /** Topic ids the operator handles. */
  skills: string[];
  idleSince: Date | null;
}

export interface EnqueueRequest {
  callId: string;
  /** Topic of the call (kb topic id); null means any operator. */
  topicId: string | null;
  /** What the operator sees: transcript, intents, caller number (personal data: never logged in clear). */
  context?: Record<string, unknown>;
}

export interface Assignment {
  callId: string;
  topicId: string | null;
  context: Record<string, unknown>;
  operator: Operator;
  /** True when the call was past the wait norm and given to an operator without the skill. */
  anyOperator: boolean;
  waitedMs: number;
}

export interface QueueStats {
  offered: number;
  answered: number;
  abandoned: number;
  /** Abandoned after waiting longer than the norm ("потерянные вызовы"). */
  lost: number;
  callbacks: number;
  waiting: number;
  /** Over answered, abandoned and callback calls: how long callers waited for a person. */
  avgWaitMs: number;
  p90WaitMs: number;
  waitNormMs: number;
}

export interface QueueOptions {
  /** How long a call may wait for an operator with the right skill (regional norm, e.g. 60 000 ms). */
  waitNormMs: number;
  /** After this wait the call becomes a callback request; defaults to twice the norm. */
  callbackAfterMs?: number;
  now?: () => Date;
}

interface OperatorRow {
  id: string;
  name: string;
  sip_uri: string;
  state: OperatorState;
  skills: string[];
  idle_since: Date | null;
}

interface QueueRow {
  call_id: string;
  topic_id: string | null;
  context: Record<string, unknown>;
  enqueued_at: Date;
  state: QueueCallState;
  operator_id: string | null;
  any_operator: boolean;
}

const toOperator = (r: OperatorRow): Operator => ({
  id: r.id,
  name: r.name,
  sipUri: r.sip_uri,
  state: r.state,
  skills: r.skills,
  idleSince: r.idle_since,
});

/** A call in the queue as the operator side reads it. */
export interface QueueRecord {
  callId: string;
  topicId: string | null;
  state: QueueCallState;
  operatorId: string | null;
  enqueuedAt: Date;
  /** The bot's package (media/handoff.ts), or what telephony knew of a call the bot never had. */
  context: Partial<HandOffContext> & Record<string, unknown>;
}

export class OperatorQueue implements HandOff {
  readonly waitNormMs: number;
  readonly callbackAfterMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly sql: Sql,
    opts: QueueOptions,
  ) {
    if (!(opts.waitNormMs > 0)) throw new OtklikError('CONFIG_INVALID', 'queue wait norm must be positive');
    this.waitNormMs = opts.waitNormMs;
    this.callbackAfterMs = opts.callbackAfterMs ?? opts.waitNormMs * 2;
    this.now = opts.now ?? (() => new Date());
  }

  async upsertOperator(op: { id: string; name: string; sipUri: string; skills: string[] }): Promise<void> {
    if (!op.id || !op.sipUri)
      throw new OtklikError('VALIDATION_FAILED', 'operator needs an id and a SIP URI');
    await this.sql.query(
      `INSERT INTO telephony_operators (id, name, sip_uri, skills) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sip_uri = EXCLUDED.sip_uri, skills = EXCLUDED.skills,
         updated_at = now()`,
      [op.id, op.name, op.sipUri, JSON.stringify(op.skills)],
    );
  }

  /** Becoming available (from busy or offline) puts the operator at the back of the idle line. */
  async setOperatorState(id: string, state: OperatorState): Promise<void> {
    const rows = await this.sql.query(
      `UPDATE telephony_operators SET state = $2, updated_at = $3,
         idle_since = CASE WHEN $2 = 'available' AND state <> 'available' THEN $3::timestamptz
                           WHEN $2 = 'available' THEN idle_since ELSE NULL END
       WHERE id = $1 RETURNING id`,
      [id, state, this.now()],
    );
    if (rows.length === 0) throw new OtklikError('NOT_FOUND', `no operator ${id}`);
  }

  async operators(): Promise<Operator[]> {
    const rows = await this.sql.query<OperatorRow>('SELECT * FROM telephony_operators ORDER BY id');
    return rows.map(toOperator);
  }

  async operator(id: string): Promise<Operator | null> {
    const rows = await this.sql.query<OperatorRow>('SELECT * FROM telephony_operators WHERE id = $1', [id]);
    return rows[0] ? toOperator(rows[0]) : null;
  }

  /** Puts a call in the queue; enqueuing the same call again changes nothing. */
  async enqueueCall(req: EnqueueRequest): Promise<void> {
    await enqueueCall(this.sql, req, this.now());
  }

  /**
   * The voice bot's hand-off. Operators take calls on phones (a SIP bridge), and the desk has no chat yet:
   * a web chat is unserved, so the bot offers the citizen an inquiry instead of a wait nobody ends.
   */
  async enqueue(call: QueuedCall): Promise<EnqueueOutcome> {
    if (call.channel === 'text') return 'unserved';
    await enqueueCall(
      this.sql,
      { callId: call.callId, topicId: call.topicId, context: { ...call.context } },
      call.at,
    );
    return 'queued';
  }

  /** Hands waiting calls to available operators; returns what it assigned, oldest call first. */
  async assignNext(): Promise<Assignment[]> {
    const now = this.now();
    const waiting = await this.sql.query<QueueRow>(
      `SELECT * FROM telephony_queue_calls WHERE state = 'waiting' ORDER BY enqueued_at, call_id`,
    );
    if (waiting.length === 0) return [];
    let available = (
      await this.sql.query<OperatorRow>(
        `SELECT * FROM telephony_operators WHERE state = 'available' ORDER BY idle_since NULLS FIRST, id`,
      )
    ).map(toOperator);
    const assigned: Assignment[] = [];
    for (const call of waiting) {
      if (available.length === 0) break;
      const waitedMs = now.getTime() - call.enqueued_at.getTime();
      const anyOperator = call.any_operator || waitedMs >= this.waitNormMs;
      const candidate = available.find(
        (op) => anyOperator || call.topic_id === null || op.skills.includes(call.topic_id),
      );
      if (!candidate) continue;
      const ok = await this.sql.transaction(async (tx) => {
        const op = await tx.query(
          `UPDATE telephony_operators SET state = 'busy', updated_at = $2 WHERE id = $1 AND state = 'available'
           RETURNING id`,
          [candidate.id, now],
        );
        if (op.length === 0) return false;
        const c = await tx.query(
          `UPDATE telephony_queue_calls SET state = 'offered', operator_id = $2, offered_at = $3,
             any_operator = $4, attempts = attempts + 1
           WHERE call_id = $1 AND state = 'waiting' RETURNING call_id`,
          [call.call_id, candidate.id, now, anyOperator],
        );
        if (c.length === 0) {
          await tx.query(`UPDATE telephony_operators SET state = 'available' WHERE id = $1`, [candidate.id]);
          return false;
        }
        return true;
      });
      available = available.filter((op) => op.id !== candidate.id);
      if (!ok) continue;
      assigned.push({
        callId: call.call_id,
        topicId: call.topic_id,
        context: call.context,
        operator: { ...candidate, state: 'busy' },
        anyOperator,
        waitedMs,
      });
    }
    return assigned;
  }

  /** The operator picked up: the wait ends here. */
  async answered(callId: string): Promise<void> {
    await this.finish(callId, 'answered', ['offered']);
  }

  /**
   * The offered operator did not pick up (or was busy): the call goes back to the queue with its original
   * place, and the operator is set offline so the queue stops ringing a phone nobody answers.
   */
  async declined(callId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const rows = await tx.query<{ operator_id: string | null }>(
        `SELECT operator_id FROM telephony_queue_calls WHERE call_id = $1 AND state = 'offered'`,
        [callId],
      );
      await tx.query(
        `UPDATE telephony_queue_calls SET state = 'waiting', operator_id = NULL WHERE call_id = $1 AND state = 'offered'`,
        [callId],
      );
      const operatorId = rows[0]?.operator_id;
      if (operatorId) {
        await tx.query(`UPDATE telephony_operators SET state = 'offline', idle_since = NULL WHERE id = $1`, [
          operatorId,
        ]);
      }
    });
  }

  /**
   * The caller hung up while waiting (or while an operator's phone was ringing). `at` is the call's own
   * clock, the one it was queued on (the voice bot's simulated calls), so the wait is measured on it.
   */
  async abandon(callId: string, at: Date = this.now()): Promise<void> {
    const rows = await this.sql.query<{ operator_id: string | null; state: QueueCallState }>(
      'SELECT operator_id, state FROM telephony_queue_calls WHERE call_id = $1',
      [callId],
    );
    const row = rows[0];
    if (!row || (row.state !== 'waiting' && row.state !== 'offered')) return;
    await this.finish(callId, 'abandoned', ['waiting', 'offered'], this.sql, at);
    if (row.state === 'offered' && row.operator_id) await this.releaseOperator(row.operator_id, at);
  }

  /** The operator finished a call and takes the next one. */
  async releaseOperator(operatorId: string, at: Date = this.now()): Promise<void> {
    await this.sql.query(
      `UPDATE telephony_operators SET state = 'available', idle_since = $2, updated_at = $2
       WHERE id = $1 AND state = 'busy'`,
      [operatorId, at],
    );
  }

  /** Calls that waited past `callbackAfterMs` become callback requests; returns their ids. */
  async moveOverdueToCallback(
    phoneOf: (callId: string, context: Record<string, unknown>) => string | null = defaultPhone,
  ): Promise<string[]> {
    const now = this.now();
    const cutoff = new Date(now.getTime() - this.callbackAfterMs);
    const overdue = await this.sql.query<QueueRow>(
      `SELECT * FROM telephony_queue_calls WHERE state = 'waiting' AND enqueued_at <= $1 ORDER BY enqueued_at`,
      [cutoff],
    );
    const moved: string[] = [];
    for (const call of overdue) {
      const done = await this.sql.transaction(async (tx) => {
        const ended = await this.finish(call.call_id, 'callback', ['waiting'], tx);
        if (!ended) return false;
        await tx.query(
          `INSERT INTO telephony_callbacks (call_id, phone, topic_id, context, created_at)
           VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (call_id) DO NOTHING`,
          [
            call.call_id,
            phoneOf(call.call_id, call.context),
            call.topic_id,
            JSON.stringify(call.context),
            now,
          ],
        );
        return true;
      });
      if (done) moved.push(call.call_id);
    }
    return moved;
  }

  async callState(callId: string): Promise<{ state: QueueCallState; operatorId: string | null } | null> {
    const call = await queuedCall(this.sql, callId);
    return call ? { state: call.state, operatorId: call.operatorId } : null;
  }

  /** Statistics over calls enqueued in [from, to). */
  async stats(range: { from?: Date; to?: Date } = {}): Promise<QueueStats> {
    const rows = await this.sql.query<{ state: QueueCallState; wait_ms: number | null; past_norm: boolean }>(
      `SELECT state, wait_ms, past_norm FROM telephony_queue_calls
       WHERE enqueued_at >= $1 AND enqueued_at < $2`,
      [range.from ?? new Date(0), range.to ?? new Date('9999-01-01T00:00:00Z')],
    );
    const count = (s: QueueCallState) => rows.filter((r) => r.state === s).length;
    const waits = rows.filter((r) => r.wait_ms !== null).map((r) => r.wait_ms as number);
    return {
      offered: rows.length,
      answered: count('answered'),
      abandoned: count('abandoned'),
      lost: rows.filter((r) => r.state === 'abandoned' && r.past_norm).length,
      callbacks: count('callback'),
      waiting: count('waiting') + count('offered'),
      avgWaitMs: waits.length ? Math.round(waits.reduce((a, b) => a + b, 0) / waits.length) : 0,
      p90WaitMs: waits.length ? percentile(waits, 90) : 0,
      waitNormMs: this.waitNormMs,
    };
  }

  private async finish(
    callId: string,
    state: QueueCallState,
    from: QueueCallState[],
    sql: Sql = this.sql,
    now: Date = this.now(),
  ): Promise<boolean> {
    const rows = await sql.query(
      `UPDATE telephony_queue_calls SET state = $2, ended_at = $3,
         wait_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000)::bigint),
         past_norm = (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000) > $5
       WHERE call_id = $1 AND state = ANY($4::text[]) RETURNING call_id`,
      [callId, state, now, from, this.waitNormMs],
    );
    return rows.length > 0;
  }
}

function defaultPhone(_callId: string, context: Record<string, unknown>): string | null {
  const phone = context.callerNumber ?? context.from;
  return typeof phone === 'string' ? phone : null;
}

/**
 * Puts the call in the operator queue with its context package (the voice bot's hand-off, telephony's own
 * calls the bot could not take). Idempotent per call id.
 */
export async function enqueueCall(sql: Sql, req: EnqueueRequest, at: Date = new Date()): Promise<void> {
  if (!req.callId) throw new OtklikError('VALIDATION_FAILED', 'enqueueCall needs a callId');
  await sql.query(
    `INSERT INTO telephony_queue_calls (call_id, topic_id, context, enqueued_at)
     VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (call_id) DO NOTHING`,
    [req.callId, req.topicId, JSON.stringify(req.context ?? {}), at],
  );
}

export interface QueueDayFigures {
  /** YYYY-MM-DD, the region's local day. */
  day: string;
  offered: number;
  answered: number;
  /** Abandoned after waiting longer than the norm ("потерянные вызовы"). */
  lost: number;
  avgWaitMs: number;
  p90WaitMs: number;
}

/**
 * The queue's service level per local day (time zone `timezone`) from `from` to `to` (YYYY-MM-DD, inclusive),
 * for the daily report; a day nobody was queued on is absent.
 */
export async function queueFiguresByDay(
  sql: Sql,
  timezone: string,
  from: string,
  to: string,
): Promise<QueueDayFigures[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT to_char((enqueued_at AT TIME ZONE $1)::date, 'YYYY-MM-DD') AS day,
            count(*)::int8 AS offered,
            (count(*) FILTER (WHERE state = 'answered'))::int8 AS answered,
            (count(*) FILTER (WHERE state = 'abandoned' AND past_norm))::int8 AS lost,
            COALESCE(round(avg(wait_ms)), 0)::int8 AS avg_wait,
            -- percentile_disc is the nearest-rank definition of core/stats.ts percentile(), which the live
            -- figures (stats) use: the report's p90 and the overview's are the same number.
            COALESCE(percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_ms), 0)::int8 AS p90_wait
       FROM telephony_queue_calls
      WHERE enqueued_at >= ($2::date::timestamp AT TIME ZONE $1)
        AND enqueued_at < (($3::date + 1)::timestamp AT TIME ZONE $1)
      GROUP BY 1
      ORDER BY 1`,
    [timezone, from, to],
  );
  return rows.map((r) => ({
    day: r.day as string,
    offered: Number(r.offered),
    answered: Number(r.answered),
    lost: Number(r.lost),
    avgWaitMs: Number(r.avg_wait),
    p90WaitMs: Number(r.p90_wait),
  }));
}

/** A call's queue record with its context package (the operator desk's view of it); null if never queued. */
export async function queuedCall(sql: Sql, callId: string): Promise<QueueRecord | null> {
  const rows = await sql.query<QueueRow>('SELECT * FROM telephony_queue_calls WHERE call_id = $1', [callId]);
  const r = rows[0];
  if (!r) return null;
  return {
    callId: r.call_id,
    topicId: r.topic_id,
    state: r.state,
    operatorId: r.operator_id,
    enqueuedAt: r.enqueued_at,
    context: r.context,
  };
}
