import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface ReportsPluginOptions {
  sql: Sql;
  /**
   * The region's time zone, the knowledge base's (KnowledgeBase.timezone): a report's days are the line's
   * local days. Asked per report, so a KB import that moves the region applies without a restart.
   */
  timeZone: () => Promise<string>;
}

/** One local day of the line's work, as the regional reporting asks for it. */
export interface DayReport {
  day: string;
  calls: number;
  answeredByBot: number;
  escalated: number;
  forwarded: number;
  inquiries: number;
  emergency: number;
  abandoned: number;
  queueOffered: number;
  queueAnswered: number;
  lostPastNorm: number;
  avgWaitMs: number;
  p90WaitMs: number;
  surveys: number;
  surveyAverage: number | null;
}

/** Column order and Russian headings of the CSV (what a supervisor opens in a spreadsheet). */
const columns: Array<[keyof DayReport, string]> = [
  ['day', 'Дата'],
  ['calls', 'Звонков'],
  ['answeredByBot', 'Отвечено ботом'],
  ['escalated', 'Передано операторам'],
  ['forwarded', 'Переадресовано уполномоченным лицам'],
  ['inquiries', 'Зарегистрировано обращений'],
  ['emergency', 'Экстренных'],
  ['abandoned', 'Сброшено в очереди'],
  ['queueOffered', 'Поступило в очередь'],
  ['queueAnswered', 'Принято операторами'],
  ['lostPastNorm', 'Потеряно сверх норматива ожидания'],
  ['avgWaitMs', 'Среднее ожидание, мс'],
  ['p90WaitMs', 'Ожидание 90-й перцентиль, мс'],
  ['surveys', 'Оценок качества'],
  ['surveyAverage', 'Средняя оценка'],
];

const MAX_DAYS = 92;
const isoDay = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

function dayCount(from: string, to: string): number {
  const ms = Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`);
  if (Number.isNaN(ms))
    throw new OtklikError('VALIDATION_FAILED', `Нет такой даты в календаре: ${from} или ${to}`);
  return ms / 86_400_000 + 1;
}

/**
 * Per-day figures for a period, computed in SQL in the region's time zone: what the bot handled, what went
 * to people, and the queue's service level, including the calls lost after waiting past the norm.
 */
export async function dailyReport(
  sql: Sql,
  timezone: string,
  from: string,
  to: string,
): Promise<DayReport[]> {
  const days = dayCount(from, to);
  if (days < 1 || days > MAX_DAYS) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Отчёт строится за период от 1 до ${MAX_DAYS} дней; запрошено ${from} … ${to}`,
    );
  }
  const rows = await sql.query<Record<string, unknown>>(
    `WITH days AS (
       SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') AS d
     ),
     c AS (
       SELECT (started_at AT TIME ZONE $1)::date AS day,
              count(*) AS calls,
              count(*) FILTER (WHERE outcome = 'answered') AS answered_by_bot,
              count(*) FILTER (WHERE outcome = 'escalated') AS escalated,
              count(*) FILTER (WHERE outcome = 'forwarded') AS forwarded,
              count(*) FILTER (WHERE outcome = 'inquiry') AS inquiries,
              count(*) FILTER (WHERE outcome = 'emergency') AS emergency,
              count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
         FROM calls
        WHERE started_at >= ($2::date::timestamp AT TIME ZONE $1)
          AND started_at < (($3::date + 1)::timestamp AT TIME ZONE $1)
        GROUP BY 1
     ),
     q AS (
       SELECT (enqueued_at AT TIME ZONE $1)::date AS day,
              count(*) AS offered,
              count(*) FILTER (WHERE state = 'answered') AS answered,
              count(*) FILTER (WHERE state = 'abandoned' AND past_norm) AS lost,
              round(avg(wait_ms)) AS avg_wait,
              -- percentile_disc is the nearest-rank definition of core/stats.ts percentile(), which the
              -- live queue figures use: the report's p90 and the overview's are the same number.
              percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_ms) AS p90_wait
         FROM telephony_queue_calls
        WHERE enqueued_at >= ($2::date::timestamp AT TIME ZONE $1)
          AND enqueued_at < (($3::date + 1)::timestamp AT TIME ZONE $1)
        GROUP BY 1
     ),
     s AS (
       SELECT (at AT TIME ZONE $1)::date AS day, count(*) AS surveys, round(avg(score), 2) AS average
         FROM survey_results
        WHERE at >= ($2::date::timestamp AT TIME ZONE $1) AND at < (($3::date + 1)::timestamp AT TIME ZONE $1)
        GROUP BY 1
     )
     SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
            COALESCE(c.calls, 0)::int8 AS calls, COALESCE(c.answered_by_bot, 0)::int8 AS answered_by_bot,
            COALESCE(c.escalated, 0)::int8 AS escalated, COALESCE(c.forwarded, 0)::int8 AS forwarded,
            COALESCE(c.inquiries, 0)::int8 AS inquiries, COALESCE(c.emergency, 0)::int8 AS emergency,
            COALESCE(c.abandoned, 0)::int8 AS abandoned,
            COALESCE(q.offered, 0)::int8 AS queue_offered, COALESCE(q.answered, 0)::int8 AS queue_answered,
            COALESCE(q.lost, 0)::int8 AS lost, COALESCE(q.avg_wait, 0)::int8 AS avg_wait,
            COALESCE(q.p90_wait, 0)::int8 AS p90_wait,
            COALESCE(s.surveys, 0)::int8 AS surveys, s.average::float8 AS survey_average
       FROM days
       LEFT JOIN c ON c.day = days.day
       LEFT JOIN q ON q.day = days.day
       LEFT JOIN s ON s.day = days.day
      ORDER BY days.day`,
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
    queueOffered: Number(r.queue_offered),
    queueAnswered: Number(r.queue_answered),
    lostPastNorm: Number(r.lost),
    avgWaitMs: Number(r.avg_wait),
    p90WaitMs: Number(r.p90_wait),
    surveys: Number(r.surveys),
    surveyAverage: r.survey_average === null ? null : Number(r.survey_average),
  }));
}

/** Semicolon-separated with a BOM: the form Russian-locale spreadsheets open without an import dialog. */
export function reportCsv(days: DayReport[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace('.', ','));
  const lines = [
    columns.map(([, heading]) => heading).join(';'),
    ...days.map((d) => columns.map(([key]) => (key === 'day' ? d.day : cell(d[key]))).join(';')),
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** Supervisors' period reports: GET /api/reports/daily?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]. */
export async function reportsPlugin(app: TypedApp, opts: ReportsPluginOptions): Promise<void> {
  app.get(
    '/api/reports/daily',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        querystring: Type.Object({
          from: isoDay,
          to: isoDay,
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
        }),
      },
    },
    async (request, reply) => {
      const { from, to, format } = request.query;
      const timezone = await opts.timeZone();
      const days = await dailyReport(opts.sql, timezone, from, to);
      if (format === 'csv') {
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="otklik-122-${from}-${to}.csv"`)
          .send(reportCsv(days));
      }
      return { from, to, timezone, days };
    },
  );
}
