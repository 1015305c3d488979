import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import type { KnowledgeBaseReader } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import {
  buildCallReport,
  type CallReport,
  type CallReportDeps,
  periodDays,
  REPORT_BY,
  type ReportBy,
} from '../reports/call-report.js';
import { reportToCsv, reportToXlsx } from '../reports/export.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface CallReportsPluginOptions {
  sql: Sql;
  kb: CallReportDeps['kb'] & Pick<KnowledgeBaseReader, 'timezone'>;
  /** QUEUE_WAIT_NORM_MS. */
  defaultNormMs: number;
  now?: () => Date;
  /** The situational centre's feed (config.reports); without a token the feed answers 404. */
  feed?: { token?: string; ratePerMinute: number };
}

/** The feed's longest period: it is polled, not an archive export. */
export const FEED_MAX_DAYS = 92;

const isoDay = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'ГГГГ-ММ-ДД, местная дата региона',
});
const byParam = Type.Union(
  REPORT_BY.map((b) => Type.Literal(b)),
  { description: 'разбивка строк отчёта' },
);

/** Equal tokens compared in constant time (the digests have one length whatever the input). */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * The call report over HTTP: supervisors' GET /api/reports/calls (any period, any breakdown, JSON, CSV or XLSX)
 * and the situational centre's GET /api/feed/figures (API token, figures by day and by topic, no personal data).
 */
export async function callReportsPlugin(app: TypedApp, opts: CallReportsPluginOptions): Promise<void> {
  const deps: CallReportDeps = {
    sql: opts.sql,
    kb: opts.kb,
    defaultNormMs: opts.defaultNormMs,
    now: opts.now ?? (() => new Date()),
  };

  app.get(
    '/api/reports/calls',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['reports'],
        summary: 'Отчёт по звонкам за период с разбивкой (JSON, CSV или XLSX)',
        querystring: Type.Object({
          from: isoDay,
          to: isoDay,
          by: Type.Optional(byParam),
          format: Type.Optional(
            Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('xlsx')]),
          ),
          normMs: Type.Optional(
            Type.Integer({ minimum: 1, description: 'норматив ожидания для отчёта, мс' }),
          ),
        }),
      },
    },
    async (request, reply) => {
      const { from, to, format, normMs } = request.query;
      const by: ReportBy = request.query.by ?? 'day';
      const report = await buildCallReport(deps, { from, to, by, ...(normMs ? { normMs } : {}) });
      if (format === 'csv' || format === 'xlsx') {
        // Figures only, no personal data; a file that leaves the line is on record all the same.
        await writeAudit(opts.sql, request.staff!.login, 'report.export', `${from}..${to}`, {
          format,
          by,
          rows: report.rows.length,
        });
        const name = `otklik-122-${by}-${from}-${to}.${format}`;
        reply.header('content-disposition', `attachment; filename="${name}"`);
        if (format === 'csv')
          return reply.header('content-type', 'text/csv; charset=utf-8').send(reportToCsv(report));
        return reply.header('content-type', XLSX).send(await reportToXlsx(report));
      }
      return report;
    },
  );

  const feed = opts.feed;
  app.get(
    '/api/feed/figures',
    {
      config: { rateLimit: { max: feed?.ratePerMinute ?? 30, timeWindow: 60_000 } },
      schema: {
        tags: ['feed'],
        summary: 'Показатели линии 122 для ситуационного центра (по дням и темам, без персональных данных)',
        description:
          'Доступ по API-токену: заголовок Authorization: Bearer <REPORTS_FEED_TOKEN>. Периоды до 92 дней.',
        querystring: Type.Object({ from: isoDay, to: isoDay }),
      },
    },
    async (request) => {
      if (!feed?.token) throw new OtklikError('NOT_FOUND', 'Канал показателей не настроен');
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!given || !sameToken(given, feed.token))
        throw new OtklikError('UNAUTHORIZED', 'Нужен действующий API-токен канала показателей');
      const { from, to } = request.query;
      const days = periodDays(from, to);
      if (days > FEED_MAX_DAYS)
        throw new OtklikError(
          'VALIDATION_FAILED',
          `Канал показателей отдаёт не больше ${FEED_MAX_DAYS} дней за запрос`,
        );
      const [byDay, byTopic] = [
        await buildCallReport(deps, { from, to, by: 'day' }),
        await buildCallReport(deps, { from, to, by: 'topic' }),
      ];
      return feedBody(byDay, byTopic);
    },
  );
}

/** The feed's body: figures and the KB's topic titles only; no operator, no number, no text of a call. */
function feedBody(byDay: CallReport, byTopic: CallReport) {
  return {
    from: byDay.from,
    to: byDay.to,
    timezone: byDay.timezone,
    normNote: byDay.normNote,
    byDay: byDay.rows,
    byTopic: byTopic.rows,
    total: byDay.total,
  };
}
