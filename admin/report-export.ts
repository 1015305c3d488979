/**
 * A report as a file: CSV (semicolons, BOM, decimal commas, as Russian-locale spreadsheets open it) and XLSX
 * (exceljs), the same Russian headings as the reports page. Also `dailyBuild`, a report engine over the daily
 * figures (admin/plugins/reports.ts dailyReport) for the day breakdown, computed in chunks of 31 days so that a
 * long period reports its progress; the full engine (buildCallReport) replaces it where it is wired.
 */
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { OtklikError } from '../core/errors.js';
import { addDays } from '../kb/zoned-time.js';
import type { Sql } from '../store/sql.js';
import { dailyReport } from './plugins/reports.js';
import type { BuildReport, ReportResult } from './report-runs.js';

/** Russian headings of the figures; a figure without one is shown under its own name. */
export const figureHeadings: Record<string, string> = {
  label: 'Строка',
  calls: 'Звонков',
  answeredByBot: 'Отвечено ботом',
  escalated: 'Передано операторам',
  forwarded: 'Переадресовано',
  inquiries: 'Обращений',
  emergency: 'Экстренных',
  abandoned: 'Сброшено в очереди',
  queueOffered: 'Поступило в очередь',
  queueAnswered: 'Принято операторами',
  lostPastNorm: 'Потеряно сверх норматива',
  avgWaitMs: 'Среднее ожидание, мс',
  p90WaitMs: 'Ожидание 90-й перцентиль, мс',
  surveys: 'Оценок качества',
  surveyAverage: 'Средняя оценка',
};

/** The columns of a report: its label, then every figure of its rows in their order. */
export function reportColumns(report: ReportResult): Array<[string, string]> {
  const keys = new Set<string>();
  for (const row of [...report.rows, report.total])
    for (const [k, v] of Object.entries(row))
      if (k !== 'key' && k !== 'label' && (typeof v === 'number' || v === null)) keys.add(k);
  // The known figures in the headings' order, then any other the engine gives, in its order.
  const known = Object.keys(figureHeadings);
  const rank = (k: string) => (known.includes(k) ? known.indexOf(k) : known.length);
  const ordered = [...keys].sort((a, b) => rank(a) - rank(b));
  return [
    ['label', figureHeadings.label!],
    ...ordered.map((k): [string, string] => [k, figureHeadings[k] ?? k]),
  ];
}

const cellValue = (v: unknown) =>
  typeof v === 'number' || v === null || v === undefined ? (v ?? null) : String(v);

/** The rows as the table shows them, the total last («Итого»). */
export function reportMatrix(report: ReportResult): Array<Array<string | number | null>> {
  const cols = reportColumns(report);
  const line = (r: Record<string, unknown>) => cols.map(([k]) => cellValue(r[k]) as string | number | null);
  return [...report.rows.map(line), line({ ...report.total, label: 'Итого' })];
}

export function exportCsv(report: ReportResult): string {
  const cell = (v: string | number | null) =>
    v === null ? '' : typeof v === 'number' ? String(v).replace('.', ',') : v;
  return stringify(
    reportMatrix(report).map((r) => r.map(cell)),
    {
      bom: true,
      delimiter: ';',
      record_delimiter: 'windows',
      header: true,
      columns: reportColumns(report).map(([, h]) => h),
    },
  );
}

export async function exportXlsx(report: ReportResult): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet(`Отчёт ${report.from} — ${report.to}`.slice(0, 31));
  sheet.addRow(reportColumns(report).map(([, h]) => h)).font = { bold: true };
  for (const row of reportMatrix(report)) sheet.addRow(row);
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await book.xlsx.writeBuffer());
}

const CHUNK_DAYS = 31;

/** The day breakdown over the daily figures, 31 days at a time (each chunk one step of progress). */
export function dailyBuild(sql: Sql, timeZone: () => Promise<string>): BuildReport {
  return async (req, onProgress) => {
    if (req.by !== 'day')
      throw new OtklikError('VALIDATION_FAILED', `Разбивка «${req.by}» пока не поддерживается`);
    const tz = await timeZone();
    const days = [];
    let from = req.from;
    const totalDays = (Date.parse(req.to) - Date.parse(req.from)) / 86_400_000 + 1;
    while (from <= req.to) {
      const end = addDays(from, CHUNK_DAYS - 1) < req.to ? addDays(from, CHUNK_DAYS - 1) : req.to;
      days.push(...(await dailyReport(sql, tz, from, end)));
      onProgress?.(days.length / totalDays);
      from = addDays(end, 1);
    }
    const total: Record<string, number | null> = {};
    for (const d of days)
      for (const [k, v] of Object.entries(d))
        if (typeof v === 'number' && k !== 'surveyAverage' && k !== 'avgWaitMs' && k !== 'p90WaitMs')
          total[k] = (total[k] ?? 0) + v;
    return {
      from: req.from,
      to: req.to,
      by: 'day',
      normMs: req.normMs ?? 0,
      rows: days.map((d) => ({ ...d, key: d.day, label: d.day })),
      total,
    };
  };
}
