/**
 * The call report as files: CSV for Russian-locale spreadsheets (UTF-8 with a BOM, `;`, decimal commas,
 * CRLF) and XLSX (exceljs). Both hold the same table: a heading row, one row per key, the total last; the
 * XLSX adds a sheet with the report's parameters (period, breakdown, time zone, the norm used).
 */
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { BY_HEADINGS, type CallReport } from './call-report.js';
import { type CallFigures, FIGURE_HEADINGS } from './figures.js';

export const TOTAL_LABEL = 'Итого';

/** The table's headings: the breakdown, then the figures (the lost calls' heading says which norm). */
export function reportHeadings(report: CallReport): string[] {
  return [
    BY_HEADINGS[report.by],
    ...FIGURE_HEADINGS.map(([key, h]) => (key === 'lostPastNorm' ? `${h} (${report.normNote})` : h)),
  ];
}

/** The table's body: one array per row, figures as numbers (null where nothing was measured), the total last. */
export function reportTable(report: CallReport): Array<Array<string | number | null>> {
  const values = (f: CallFigures) => FIGURE_HEADINGS.map(([key]) => f[key]);
  return [...report.rows.map((r) => [r.label, ...values(r)]), [TOTAL_LABEL, ...values(report.total)]];
}

export function reportToCsv(report: CallReport): string {
  const cell = (v: string | number | null) =>
    v === null ? '' : typeof v === 'number' ? String(v).replace('.', ',') : v;
  return stringify(
    reportTable(report).map((row) => row.map(cell)),
    {
      bom: true,
      delimiter: ';',
      record_delimiter: 'windows',
      header: true,
      columns: reportHeadings(report),
    },
  );
}

export async function reportToXlsx(report: CallReport): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'Отклик 122';
  const sheet = book.addWorksheet('Отчёт', { views: [{ state: 'frozen', ySplit: 1, xSplit: 1 }] });
  sheet.addRow(reportHeadings(report)).font = { bold: true };
  for (const row of reportTable(report)) sheet.addRow(row);
  sheet.lastRow!.font = { bold: true };
  sheet.getColumn(1).width = 32;
  FIGURE_HEADINGS.forEach(([key], i) => {
    const col = sheet.getColumn(i + 2);
    col.width = 16;
    if (key === 'containment' || key === 'serviceLevel') col.numFmt = '0.0%';
  });
  sheet.getRow(1).alignment = { wrapText: true, vertical: 'top' };
  const about = book.addWorksheet('Параметры');
  about.addRows([
    ['Период', `${report.from} — ${report.to}`],
    ['Разбивка', BY_HEADINGS[report.by]],
    ['Часовой пояс', report.timezone],
    ['Норматив ожидания', report.normNote],
  ]);
  about.getColumn(1).width = 22;
  about.getColumn(2).width = 80;
  return Buffer.from(await book.xlsx.writeBuffer());
}
