/**
 * Figures of the call records for reports: per local day of the region, what the calls ended with and how
 * the callers scored the line. One definition of what is counted, for the daily report and today's overview.
 */
import { localDay, withinLocalDays } from '../store/local-days.js';
import type { Sql } from '../store/sql.js';

export interface CallDayFigures {
  /** YYYY-MM-DD, the region's local day. */
  day: string;
  calls: number;
  answeredByBot: number;
  escalated: number;
  forwarded: number;
  inquiries: number;
  emergency: number;
  abandoned: number;
  surveys: number;
  surveyAverage: number | null;
}

/**
 * Days from `from` to `to` (YYYY-MM-DD, inclusive) in time zone `timezone` that had calls or scores; a day
 * without either is absent. An outbound call nobody answered (a callback that did not reach the citizen) is
 * a dial attempt, not a call, and is not counted.
 */
export async function callFiguresByDay(
  sql: Sql,
  timezone: string,
  from: string,
  to: string,
): Promise<CallDayFigures[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `WITH c AS (
       SELECT ${localDay('started_at')} AS day,
              count(*) AS calls,
              count(*) FILTER (WHERE outcome = 'answered') AS answered_by_bot,
              count(*) FILTER (WHERE outcome IN ('escalated', 'operator')) AS escalated,
              count(*) FILTER (WHERE outcome = 'forwarded') AS forwarded,
              count(*) FILTER (WHERE outcome = 'inquiry') AS inquiries,
              count(*) FILTER (WHERE outcome = 'emergency') AS emergency,
              count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
         FROM calls
        WHERE ${withinLocalDays('started_at')}
          AND (direction IS DISTINCT FROM 'outbound' OR answered_at IS NOT NULL)
        GROUP BY 1
     ),
     s AS (
       SELECT ${localDay('at')} AS day, count(*) AS surveys, round(avg(score), 2) AS average
         FROM survey_results
        WHERE ${withinLocalDays('at')}
        GROUP BY 1
     )
     SELECT to_char(COALESCE(c.day, s.day), 'YYYY-MM-DD') AS day,
            COALESCE(c.calls, 0)::int8 AS calls, COALESCE(c.answered_by_bot, 0)::int8 AS answered_by_bot,
            COALESCE(c.escalated, 0)::int8 AS escalated, COALESCE(c.forwarded, 0)::int8 AS forwarded,
            COALESCE(c.inquiries, 0)::int8 AS inquiries, COALESCE(c.emergency, 0)::int8 AS emergency,
            COALESCE(c.abandoned, 0)::int8 AS abandoned,
            COALESCE(s.surveys, 0)::int8 AS surveys, s.average::float8 AS survey_average
       FROM c FULL JOIN s ON s.day = c.day
      ORDER BY 1`,
    [timezone, from, to],
  );
  return rows.map((r) => ({
    day: r.day as string,
    calls: Number(r.calls),
    answeredByBot: Number(r.answered_by_bot),
    escalated: Number(r.escalated),
    forwarded: Number(r.forwarded),
    inquiries: Number(r.inquiries),
    emergency: Number(r.emergency),
    abandoned: Number(r.abandoned),
    surveys: Number(r.surveys),
    surveyAverage: r.survey_average === null ? null : Number(r.survey_average),
  }));
}
