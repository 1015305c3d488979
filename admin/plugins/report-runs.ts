import { Type } from 'typebox';
import type { Logger } from '../../core/log.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import { listSchedules, saveSchedule } from '../report-mail.js';
import { type BuildReport, breakdowns, getReportRun, startReportRun } from '../report-runs.js';
import { reportHeadings, reportToCsv, reportToXlsx } from '../reports/export.js';
import { FIGURE_HEADINGS } from '../reports/figures.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface ReportRunsPluginOptions {
  sql: Sql;
  build: BuildReport;
  log: Logger;
  now?: () => Date;
}

/** The longest period of a background report: five years of the line's work. */
const MAX_DAYS = 1827;
const isoDay = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const Breakdown = Type.Union(breakdowns.map((b) => Type.Literal(b)));
const tags = ['reports'];

/**
 * Background reports (POST /api/reports/runs, then poll GET /api/reports/runs/:id and download it as json, csv
 * or xlsx) and the mailed reports' settings (GET/PUT /api/reports/schedules). Supervisors and admins.
 */
export async function reportRunsPlugin(app: TypedApp, opts: ReportRunsPluginOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const supervisor = requireRole('supervisor');

  app.post(
    '/api/reports/runs',
    {
      preHandler: supervisor,
      schema: {
        tags,
        summary: 'Запустить отчёт за длинный период в фоне',
        body: Type.Object({ from: isoDay, to: isoDay, by: Type.Optional(Breakdown) }),
      },
    },
    async (request, reply) => {
      const { from, to, by = 'day' } = request.body;
      const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
      if (!(days >= 1 && days <= MAX_DAYS))
        return reply.code(400).send({
          code: 'VALIDATION_FAILED',
          error: 'VALIDATION_FAILED',
          message: `Фоновый отчёт строится за период от 1 до ${MAX_DAYS} дней; запрошено ${from} … ${to}`,
          retryable: false,
        });
      const { run } = await startReportRun(
        { sql: opts.sql, build: opts.build, log: opts.log, now },
        request.staff!.login,
        { from, to, by },
      );
      await writeAudit(opts.sql, request.staff!.login, 'report.run', run.id, { from, to, by });
      return reply.code(202).send({ run });
    },
  );

  app.get(
    '/api/reports/runs/:id',
    {
      preHandler: supervisor,
      schema: {
        tags,
        summary: 'Ход фонового отчёта и его результат (JSON, CSV или XLSX)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({
          format: Type.Optional(
            Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('xlsx')]),
          ),
        }),
      },
    },
    async (request, reply) => {
      const { run, result } = await getReportRun(opts.sql, request.params.id, now());
      const format = request.query.format ?? 'json';
      // The table's headings as the CSV and XLSX have them, figures in the engine's column order.
      if (format === 'json')
        return {
          run,
          result,
          columns: result ? reportHeadings(result.report) : null,
          keys: FIGURE_HEADINGS.map(([key]) => key),
        };
      if (!result)
        return reply.code(409).send({
          code: 'CONFLICT',
          error: 'CONFLICT',
          message: run.state === 'failed' ? 'Отчёт не построен' : 'Отчёт ещё строится',
          retryable: run.state === 'running',
        });
      await writeAudit(opts.sql, request.staff!.login, 'report.export', `${run.from}..${run.to}`, {
        format,
        by: run.by,
        run: run.id,
        rows: result.report.rows.length,
      });
      const name = `otklik-122-${run.from}-${run.to}-${run.by}.${format}`;
      reply.header('content-disposition', `attachment; filename="${name}"`);
      if (format === 'csv')
        return reply.header('content-type', 'text/csv; charset=utf-8').send(reportToCsv(result.report));
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .send(await reportToXlsx(result.report));
    },
  );

  app.get(
    '/api/reports/schedules',
    { preHandler: supervisor, schema: { tags, summary: 'Рассылка отчётов: ежедневный и еженедельный' } },
    async () => ({ schedules: await listSchedules(opts.sql) }),
  );

  app.put(
    '/api/reports/schedules/:kind',
    {
      preHandler: supervisor,
      schema: {
        tags,
        summary: 'Изменить рассылку отчёта (адреса, формат, час отправки)',
        params: Type.Object({ kind: Type.Union([Type.Literal('daily'), Type.Literal('weekly')]) }),
        body: Type.Object({
          enabled: Type.Boolean(),
          recipients: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50 }),
          format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]),
          by: Breakdown,
          sendHour: Type.Integer({ minimum: 0, maximum: 23 }),
        }),
      },
    },
    async (request) => {
      const schedule = await saveSchedule(
        opts.sql,
        request.params.kind,
        request.body,
        request.staff!.login,
        now(),
      );
      await writeAudit(opts.sql, request.staff!.login, 'report.schedule', request.params.kind, {
        ...request.body,
      });
      return { schedule };
    },
  );
}
