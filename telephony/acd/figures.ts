import { percentile } from '../../core/stats.js';
import { localDay, withinLocalDays } from '../../store/local-days.js';
import type { Sql } from '../../store/sql.js';
import type { QueueCallState } from './model.js';

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

/**
 * Statistics over calls enqueued in [from, to); `waitNormMs` is the default norm the figures are shown with.
 * A callback's own entries (the line calling back, at the caller's old place) are not callers: the caller
 * counts once, as the call that became a callback.
 */
export async function queueStats(
  sql: Sql,
  waitNormMs: number,
  range: { from?: Date; to?: Date; queueId?: string } = {},
): Promise<QueueStats> {
  const rows = await sql.query<{ state: QueueCallState; wait_ms: number | null; past_norm: boolean }>(
    `SELECT state, wait_ms, past_norm FROM telephony_queue_calls
     WHERE enqueued_at >= $1 AND enqueued_at < $2 AND ($3::text IS NULL OR queue_id = $3)
       AND context->>'callbackId' IS NULL`,
    [range.from ?? new Date(0), range.to ?? new Date('9999-01-01T00:00:00Z'), range.queueId ?? null],
  );
  const count = (s: QueueCallState) => rows.filter((r) => r.state === s).length;
  const waits = rows.filter((r) => r.wait_ms !== null).map((r) => Number(r.wait_ms));
  return {
    offered: rows.length,
    answered: count('answered'),
    abandoned: count('abandoned'),
    lost: rows.filter((r) => r.state === 'abandoned' && r.past_norm).length,
    callbacks: count('callback'),
    waiting: count('waiting') + count('offered'),
    avgWaitMs: waits.length ? Math.round(waits.reduce((a, b) => a + b, 0) / waits.length) : 0,
    p90WaitMs: waits.length ? percentile(waits, 90) : 0,
    waitNormMs,
  };
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
    `SELECT to_char(${localDay('enqueued_at')}, 'YYYY-MM-DD') AS day,
            count(*)::int8 AS offered,
            (count(*) FILTER (WHERE state = 'answered'))::int8 AS answered,
            (count(*) FILTER (WHERE state = 'abandoned' AND past_norm))::int8 AS lost,
            COALESCE(round(avg(wait_ms)), 0)::int8 AS avg_wait,
            -- percentile_disc is the nearest-rank definition of core/stats.ts percentile(), which the live
            -- figures (stats) use: the report's p90 and the overview's are the same number.
            COALESCE(percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_ms), 0)::int8 AS p90_wait
       FROM telephony_queue_calls
      WHERE ${withinLocalDays('enqueued_at')} AND context->>'callbackId' IS NULL
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

/** The supervisor's wall: the day's figures of the whole line (GET /api/desk/wall `figures`). */
export interface WallFigures {
  /** Calls and chats that came to the queue in the range. */
  offered: number;
  answered: number;
  abandoned: number;
  /** Abandoned after waiting longer than their queue's norm. */
  lost: number;
  /** Answered within their queue's norm over offered, 0..1 (1 on a day nobody came). */
  serviceLevel: number;
  /** Average speed of answer: the mean wait of answered calls. */
  asaMs: number;
  /** Average handling time: the mean talk of closed conversations. */
  ahtMs: number;
  waitNormMs: number;
  callbacksPending: number;
}

export async function wallFigures(
  sql: Sql,
  range: { from: Date; to: Date },
  waitNormMs: number,
): Promise<WallFigures> {
  const [r] = await sql.query<Record<string, unknown>>(
    `SELECT count(*)::int8 AS offered,
            (count(*) FILTER (WHERE state = 'answered'))::int8 AS answered,
            (count(*) FILTER (WHERE state = 'answered' AND NOT past_norm))::int8 AS in_norm,
            (count(*) FILTER (WHERE state = 'abandoned'))::int8 AS abandoned,
            (count(*) FILTER (WHERE state = 'abandoned' AND past_norm))::int8 AS lost,
            COALESCE(round(avg(wait_ms) FILTER (WHERE state = 'answered')), 0)::int8 AS asa,
            COALESCE(round(avg(talk_ms) FILTER (WHERE closed_at IS NOT NULL)), 0)::int8 AS aht,
            (SELECT count(*) FROM telephony_callbacks WHERE state IN ('pending', 'scheduled'))::int8 AS callbacks
       FROM telephony_queue_calls WHERE enqueued_at >= $1 AND enqueued_at < $2`,
    [range.from, range.to],
  );
  const offered = Number(r!.offered);
  return {
    offered,
    answered: Number(r!.answered),
    abandoned: Number(r!.abandoned),
    lost: Number(r!.lost),
    serviceLevel: offered === 0 ? 1 : Number(r!.in_norm) / offered,
    asaMs: Number(r!.asa),
    ahtMs: Number(r!.aht),
    waitNormMs,
    callbacksPending: Number(r!.callbacks),
  };
}

/** Per operator over the period: conversations answered, average handling time and average wrap-up. */
export interface OperatorHandling {
  operatorId: string;
  answered: number;
  /** Mean talk of their closed conversations. */
  ahtMs: number;
  /** Mean time from a close to the end of the wrap-up that followed it (the ACD's wrap_up_end). */
  wrapUpMs: number;
}

export async function operatorHandlingFigures(
  sql: Sql,
  range: { from: Date; to: Date },
): Promise<OperatorHandling[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `WITH talk AS (
       SELECT operator_id, count(*)::int8 AS answered,
              COALESCE(round(avg(talk_ms) FILTER (WHERE closed_at IS NOT NULL)), 0)::int8 AS aht
         FROM telephony_queue_calls
        WHERE operator_id IS NOT NULL AND answered_at IS NOT NULL AND enqueued_at >= $1 AND enqueued_at < $2
        GROUP BY operator_id),
     wrap AS (
       SELECT e.operator_id,
              COALESCE(round(avg(EXTRACT(EPOCH FROM (w.at - e.at)) * 1000)), 0)::int8 AS wrap_up
         FROM telephony_acd_events e
         JOIN LATERAL (SELECT x.at FROM telephony_acd_events x
                        WHERE x.operator_id = e.operator_id AND x.event = 'wrap_up_end' AND x.at >= e.at
                        ORDER BY x.at, x.id LIMIT 1) w ON true
        WHERE e.event = 'closed' AND e.operator_id IS NOT NULL AND e.at >= $1 AND e.at < $2
        GROUP BY e.operator_id)
     SELECT COALESCE(t.operator_id, w.operator_id) AS operator_id, COALESCE(t.answered, 0)::int8 AS answered,
            COALESCE(t.aht, 0)::int8 AS aht, COALESCE(w.wrap_up, 0)::int8 AS wrap_up
       FROM talk t FULL JOIN wrap w ON w.operator_id = t.operator_id ORDER BY 1`,
    [range.from, range.to],
  );
  return rows.map((r) => ({
    operatorId: r.operator_id as string,
    answered: Number(r.answered),
    ahtMs: Number(r.aht),
    wrapUpMs: Number(r.wrap_up),
  }));
}
