/**
 * `otklik report calls --from YYYY-MM-DD --to YYYY-MM-DD [--by …] [--format table|csv|json|xlsx] [--out FILE]`
 * (../shared/contracts/cli.md): the call report (admin/reports/call-report.ts) for the line's local days
 * from..to, inclusive. `json` prints `{"from","to","by","rows":[{"key",…figures}],"total":{…figures}}`; `csv`
 * is for Russian-locale spreadsheets; `xlsx` needs `--out`.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  buildCallReport,
  type CallReport,
  REPORT_BY,
  type ReportBy,
} from '../../admin/reports/call-report.js';
import { reportToCsv, reportToXlsx, TOTAL_LABEL } from '../../admin/reports/export.js';
import { FIGURE_HEADINGS } from '../../admin/reports/figures.js';
import { OtklikError } from '../../core/errors.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { createCliContext } from '../context.js';

type Format = 'table' | 'csv' | 'json' | 'xlsx';
const FORMATS: readonly Format[] = ['table', 'csv', 'json', 'xlsx'];

/** The contract's JSON: the figures of each row under its key (and its label), the total's. */
export function reportJson(r: CallReport): string {
  return `${JSON.stringify({
    from: r.from,
    to: r.to,
    by: r.by,
    timezone: r.timezone,
    normMs: r.normMs,
    normNote: r.normNote,
    rows: r.rows,
    total: r.total,
  })}\n`;
}

/** A plain text table for a terminal: the main figures per row. */
export function reportTable(r: CallReport): string {
  const keys = [
    'offered',
    'botOnly',
    'escalated',
    'answeredByOperators',
    'forwarded',
    'abandoned',
    'lostPastNorm',
    'inquiries',
  ] as const;
  const heads = ['', ...keys.map((k) => FIGURE_HEADINGS.find(([h]) => h === k)![1])];
  const lines = [
    ...r.rows.map((row) => [row.label, ...keys.map((k) => String(row[k]))]),
    [TOTAL_LABEL, ...keys.map((k) => String(r.total[k]))],
  ];
  const all = [heads, ...lines];
  const widths = heads.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  const fmt = (l: string[]) =>
    l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return `Отчёт по звонкам ${r.from} — ${r.to} (${r.timezone}); потерянные: ${r.normNote}\n${all.map(fmt).join('\n')}\n`;
}

export function register(program: Command): void {
  const cmd = program.command('report').description('отчёты линии 122');
  cmd
    .command('calls')
    .description('показатели звонков и чатов за местные дни региона с разбивкой')
    .requiredOption('--from <day>', 'первый день, ГГГГ-ММ-ДД')
    .requiredOption('--to <day>', 'последний день, ГГГГ-ММ-ДД (включительно)')
    .option('--by <key>', `разбивка: ${REPORT_BY.join('|')}`, 'day')
    .option('--format <format>', 'table|csv|json|xlsx', 'table')
    .option('--norm-ms <ms>', 'норматив ожидания для отчёта вместо норматива каждой очереди, мс')
    .option('--out <file>', 'записать в файл, а не на стандартный вывод')
    .action(
      async (opts: {
        from: string;
        to: string;
        by: string;
        format: string;
        normMs?: string;
        out?: string;
      }) => {
        if (!REPORT_BY.includes(opts.by as ReportBy))
          throw new OtklikError(
            'VALIDATION_FAILED',
            `--by: нет такой разбивки «${opts.by}» (есть ${REPORT_BY.join(', ')})`,
          );
        if (!FORMATS.includes(opts.format as Format))
          throw new OtklikError(
            'VALIDATION_FAILED',
            `--format: нет такого формата «${opts.format}» (есть ${FORMATS.join(', ')})`,
          );
        if (opts.format === 'xlsx' && !opts.out)
          throw new OtklikError('VALIDATION_FAILED', '--format xlsx пишет файл: укажите --out FILE.xlsx');
        const normMs = opts.normMs === undefined ? undefined : Number(opts.normMs);
        const ctx = createCliContext();
        try {
          const sql = await ctx.store();
          const report = await buildCallReport(
            {
              sql,
              kb: createKnowledgeBase(sql),
              defaultNormMs: ctx.config.telephony.queueWaitNormMs,
              now: () => new Date(),
            },
            {
              from: opts.from,
              to: opts.to,
              by: opts.by as ReportBy,
              ...(normMs === undefined ? {} : { normMs }),
            },
          );
          const out: string | Buffer =
            opts.format === 'json'
              ? reportJson(report)
              : opts.format === 'csv'
                ? reportToCsv(report)
                : opts.format === 'xlsx'
                  ? await reportToXlsx(report)
                  : reportTable(report);
          if (opts.out) writeFileSync(opts.out, out);
          else process.stdout.write(out);
        } finally {
          await ctx.close();
        }
      },
    );
}
