import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { reportRunsPlugin } from '../admin/plugins/report-runs.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { engineBuild } from '../admin/report-engine.js';
import type { BuildReport } from '../admin/report-runs.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { createCall, endCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-старшего-смены';

/** The cells of one CSV line: `;`-separated, a cell in double quotes may hold `;` ("" is a quote). */
function cells(line: string): string[] {
  return [...line.matchAll(/(?:^|;)(?:"((?:[^"]|"")*)"|([^;]*))/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? ''),
  );
}

describe('the reports page in a real browser', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  /** Holds a report's second breakdown (the hour chart) until the test lets it go: progress stands still. */
  let gate: { open: () => void; wait: Promise<void> } | null = null;

  before(async () => {
    db = await openTestDb('pglite');
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    const calls: Array<[string, string, 'answered' | 'escalated' | 'inquiry' | 'abandoned']> = [
      ['u-1', '2026-03-02T09:00:00+03:00', 'answered'],
      ['u-2', '2026-03-02T10:15:00+03:00', 'answered'],
      ['u-3', '2026-03-02T12:00:00+03:00', 'escalated'],
      ['u-4', '2026-03-03T11:00:00+03:00', 'inquiry'],
      ['u-5', '2026-03-03T14:00:00+03:00', 'answered'],
      ['u-6', '2026-03-04T09:30:00+03:00', 'abandoned'],
    ];
    for (const [id, at, outcome] of calls) {
      await createCall(db.sql, {
        id,
        channel: 'sip',
        callerNumber: '+79990000000',
        dialledNumber: '122',
        startedAt: new Date(at),
      });
      await endCall(db.sql, id, outcome, new Date(Date.parse(at) + 60_000));
    }
    // The queue: u-3 answered within the 60 s norm, u-6 lost after 90 s.
    for (const [callId, at, waitMs, end] of [
      ['u-3', '2026-03-02T12:01:00+03:00', 20_000, 'answered'],
      ['u-6', '2026-03-04T09:31:00+03:00', 90_000, 'abandoned'],
    ] as const) {
      let clock = Date.parse(at);
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => new Date(clock) });
      await queue.enqueueCall({ callId, topicId: null });
      clock += waitMs;
      if (end === 'abandoned') await queue.abandon(callId);
      else {
        await queue.upsertOperator({
          id: 'ivanova',
          name: 'Иванова',
          sipUri: 'sip:ivanova@10.0.0.21',
          skills: [],
        });
        await queue.setOperatorState('ivanova', 'available');
        await queue.assignNext();
        await queue.answered(callId);
        await queue.releaseOperator('ivanova');
      }
    }
    const kb = createKnowledgeBase(db.sql);
    const engine = engineBuild({ sql: db.sql, kb, defaultNormMs: 60_000 });
    const gated: BuildReport = async (req, onProgress) => {
      if (req.by === 'hour' && gate) await gate.wait;
      return engine(req, onProgress);
    };
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(reportsPlugin, { sql: db.sql, timeZone: kb.timezone }),
        adminArea(reportRunsPlugin, { sql: db.sql, build: gated, log: silentLogger }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  async function openReports(width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 }, acceptDownloads: true });
    await page.goto(base);
    await page.getByLabel('Логин').fill('sidorova');
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: 'Сидорова' }).waitFor();
    await page.getByRole('link', { name: 'Отчёты' }).click();
    return page;
  }

  async function show(page: Page, from: string, to: string) {
    await page.getByLabel('С', { exact: true }).fill(from);
    await page.getByLabel('По', { exact: true }).fill(to);
    await page.getByLabel('Разбивка').selectOption('day');
    await page.getByRole('button', { name: 'Показать' }).click();
  }

  /** The table as the supervisor reads it: headings and each row's cells, the total last. */
  const tableOf = (page: Page) =>
    page.evaluate(`[...document.querySelectorAll('#report-table tr')].map((tr) =>
      [...tr.children].map((c) => (c.textContent ?? '').trim()))`) as Promise<string[][]>;

  async function downloaded(page: Page, button: string): Promise<Buffer> {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: button }).click(),
    ]);
    return readFile((await download.path())!);
  }

  it('a supervisor sees the charts and the table, and the CSV and XLSX hold the same figures', async () => {
    const page = await openReports(1280);
    await show(page, '2026-03-02', '2026-03-04');
    await page.locator('#report-table tbody tr[data-key="2026-03-04"]').waitFor();
    const table = await tableOf(page);
    const [head, ...rows] = table;
    assert.deepEqual(head!.slice(0, 4), [
      'Дата',
      'Поступило обращений',
      'Решено ботом без оператора',
      'Доля решённых ботом',
    ]);
    // Shares read as percent, as in the XLSX (2 of 3 solved by the bot: 66,7 %), not as a fraction.
    assert.deepEqual(
      rows.map((r) => r.slice(0, 4)),
      [
        ['2026-03-02', '3', '2', '66,7 %'],
        ['2026-03-03', '2', '1', '50,0 %'],
        ['2026-03-04', '1', '0', '0,0 %'],
        ['Итого', '6', '3', '50,0 %'],
      ],
    );
    // The service level chart is drawn on its canvas (pixels that are not blank), and says its values.
    const drawn = (await page.evaluate(`(() => {
      const canvas = document.querySelector('#chart-day canvas');
      if (!canvas) return 0;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
      return inked;
    })()`)) as number;
    assert.ok(drawn > 500, `chart pixels drawn: ${drawn}`);
    // 2 March: the one queued call answered within the norm (100 %); 4 March: the one lost past it (0 %).
    assert.match(
      (await page.locator('#chart-day').getAttribute('aria-label')) ?? '',
      /2026-03-02: 100; 2026-03-03: нет данных; 2026-03-04: 0/,
    );

    // The files hold shares as numbers (the XLSX formats them as percent): read as the page shows them.
    const shareColumns = [head!.indexOf('Доля решённых ботом'), head!.indexOf('Уровень обслуживания')];
    const asShown = (rows: string[][]) =>
      rows.map((r, i) =>
        r.map((c, j) =>
          i > 0 && shareColumns.includes(j) && c !== '—'
            ? `${(Number(c.replace(',', '.')) * 100).toFixed(1).replace('.', ',')} %`
            : c,
        ),
      );
    const csv = (await downloaded(page, 'Скачать CSV')).toString('utf8').replace(/^\uFEFF/, '');
    const csvRows = csv
      .trim()
      .split('\r\n')
      .map((l) => cells(l).map((c) => (c === '' ? '—' : c)));
    assert.deepEqual(asShown(csvRows), table);

    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await downloaded(page, 'Скачать XLSX')) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    const xlsxRows: string[][] = [];
    sheet.eachRow((row) => {
      xlsxRows.push(
        Array.from(row.values as unknown[])
          .slice(1)
          .map((v) => (v === null || v === undefined ? '—' : String(v).replace('.', ','))),
      );
    });
    assert.deepEqual(asShown(xlsxRows.map((r) => r.concat(Array(head!.length - r.length).fill('—')))), table);
    await page.close();
  });

  it('a report over a long period runs in the background: its progress shows, then it completes', async () => {
    let open!: () => void;
    gate = { open: () => open(), wait: new Promise<void>((resolve) => (open = resolve)) };
    const page = await openReports(390);
    await show(page, '2025-01-01', '2026-03-31');
    await page.getByText('Строится: 33 %').waitFor();
    assert.equal(await page.locator('#report-progress').getAttribute('value'), '33');
    assert.equal(await page.locator('#report-table tbody tr').count(), 0);
    gate.open();
    await page.locator('#report-table tbody tr[data-key="2026-03-31"]').waitFor();
    await page.getByText('Готово').waitFor();
    const table = await tableOf(page);
    assert.equal(table.length, 1 + 455 + 1);
    assert.deepEqual(table.at(-1)!.slice(0, 3), ['Итого', '6', '3']);
    await page.close();
    gate = null;
  });
});
