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
