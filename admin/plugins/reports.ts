import { stringify } from 'csv-stringify/sync';
import { Type } from 'typebox';
import { type CallDayFigures, callFiguresByDay } from '../../calls/figures.js';
import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import { queueFiguresByDay } from '../../telephony/queue.js';
import { writeAudit } from '../audit.js';
import { parseDay, periodDays } from '../reports/call-report.js';
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

/** One local day of the line's work, as the regional reporting asks for it: the calls' figures and the queue's. */
export interface DayReport extends CallDayFigures {
  queueOffered: number;
  queueAnswered: number;
  lostPastNorm: number;
  avgWaitMs: number;
  p90WaitMs: number;
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

/**
 * Per-day figures for a period in the region's time zone: what the bot handled, what went to people (from the
 * calls part), and the queue's service level, including the calls lost after waiting past the norm (from
 * telephony's queue). Days without any of it are rows of zeros.
 */
export async function dailyReport(
  sql: Sql,
  timezone: string,
  from: string,
  to: string,
): Promise<DayReport[]> {
  const days = periodDays(from, to);
  if (days > MAX_DAYS) {
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Отчёт строится за период от 1 до ${MAX_DAYS} дней; запрошено ${from} … ${to}`,
    );
  }
  const [calls, queue] = await Promise.all([
    callFiguresByDay(sql, timezone, from, to),
    queueFiguresByDay(sql, timezone, from, to),
  ]);
  const callsOf = new Map(calls.map((c) => [c.day, c]));
  const queueOf = new Map(queue.map((q) => [q.day, q]));
  const start = parseDay(from);
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    const c = callsOf.get(day);
    const q = queueOf.get(day);
    return {
      ...(c ?? { ...noCalls, day }),
      queueOffered: q?.offered ?? 0,
      queueAnswered: q?.answered ?? 0,
      lostPastNorm: q?.lost ?? 0,
      avgWaitMs: q?.avgWaitMs ?? 0,
      p90WaitMs: q?.p90WaitMs ?? 0,
    };
  });
}

/** A day without calls or scores. */
const noCalls: Omit<CallDayFigures, 'day'> = {
  calls: 0,
  answeredByBot: 0,
  escalated: 0,
  forwarded: 0,
  inquiries: 0,
  emergency: 0,
  abandoned: 0,
  surveys: 0,
  surveyAverage: null,
};

/**
 * Semicolon-separated with a BOM and decimal commas: the form Russian-locale spreadsheets open without an
 * import dialog. csv-stringify quotes a cell that holds the separator, a quote or a line break.
 */
export function reportCsv(days: DayReport[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace('.', ','));
  return stringify(
    days.map((d) => columns.map(([key]) => (key === 'day' ? d.day : cell(d[key])))),
    {
      bom: true,
      delimiter: ';',
      record_delimiter: 'windows',
      header: true,
      columns: columns.map(([, h]) => h),
    },
  );
}

/** Supervisors' period reports: GET /api/reports/daily?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]. */
export async function reportsPlugin(app: TypedApp, opts: ReportsPluginOptions): Promise<void> {
  app.get(
    '/api/reports/daily',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['reports'],
        summary: 'Отчёт за день (JSON или CSV)',
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
        // Figures only, no personal data; a file that leaves the line is on record all the same.
        await writeAudit(opts.sql, request.staff!.login, 'report.export', `${from}..${to}`, {
          format: 'csv',
          rows: days.length,
        });
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="otklik-122-${from}-${to}.csv"`)
          .send(reportCsv(days));
      }
      return { from, to, timezone, days };
    },
  );
}
