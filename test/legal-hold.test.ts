import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { RETENTION_LOGIN, runRetention } from '../admin/jobs/retention.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { recordingsPlugin } from '../admin/plugins/recordings.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';
import { leftOf, NOW, type SeededCall, seedCall } from './support/retention.js';

const password = 'пароль-для-удержания';
const policy = { recordingsDays: 90, transcriptsDays: 180, chatsDays: 180, callerNumbersDays: 365 };

describe('legal hold on a call, and audited exports of personal data', () => {
  let db: TestDb;
  let dir: string;
  let app: TypedApp;
  let base: string;
  let browser: Browser | undefined;
  const calls: Record<string, SeededCall> = {};
  const tokens: Record<string, string> = {};

  async function call(login: string, path: string, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${tokens[login]}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const type = res.headers.get('content-type') ?? '';
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the API's JSON as it comes
    const body: any = type.includes('json') ? await res.json() : await res.text();
    return { status: res.status, body };
  }

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    dir = mkdtempSync(join(tmpdir(), 'otklik-hold-'));
    calls.a = await seedCall(db.sql, dir, 'hold-a', 400);
    calls.b = await seedCall(db.sql, dir, 'hold-b', 400);
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
    const kb = createKnowledgeBase(db.sql);
    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(callsPlugin, {
          sql: db.sql,
          queue,
          health: async () => ({}),
          timeZone: kb.timezone,
          now: () => NOW,
        }),
        adminArea(inquiriesPlugin, { sql: db.sql, now: () => NOW }),
        adminArea(recordingsPlugin, { sql: db.sql }),
        adminArea(reportsPlugin, { sql: db.sql, timeZone: kb.timezone }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['sidorova', 'kuznetsov']) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      tokens[login] = ((await res.json()) as { token: string }).token;
    }
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a supervisor holds a call with a reason (audited); an operator may not; retention keeps a held call', async () => {
    const refused = await call('kuznetsov', '/api/calls/hold-a/legal-hold', {
      method: 'POST',
      body: { reason: 'суд' },
    });
    assert.equal(refused.status, 403);
    const short = await call('sidorova', '/api/calls/hold-a/legal-hold', {
      method: 'POST',
      body: { reason: '  а ' },
    });
    assert.equal(short.status, 400);
    assert.equal(
      (await call('sidorova', '/api/calls/nope/legal-hold', { method: 'POST', body: { reason: 'суд' } }))
        .status,
      404,
    );
    const held = await call('sidorova', '/api/calls/hold-a/legal-hold', {
      method: 'POST',
      body: { reason: 'запрос Октябрьского районного суда № 2-15/2026' },
    });
    assert.equal(held.status, 200);
    const card = await call('kuznetsov', '/api/calls/hold-a');
    assert.equal(card.body.call.legalHold.reason, 'запрос Октябрьского районного суда № 2-15/2026');
    assert.equal(card.body.call.legalHold.by, 'sidorova');
    const [audit] = await listAudit(db.sql, { action: 'call.legal_hold', object: 'hold-a' });
    assert.deepEqual(
      [audit?.login, audit?.details.reason],
      ['sidorova', 'запрос Октябрьского районного суда № 2-15/2026'],
    );

    const before = await leftOf(db.sql, calls.a!);
    await runRetention(db.sql, policy, { now: NOW });
    assert.deepEqual(await leftOf(db.sql, calls.a!), before, 'the held call keeps everything');
    assert.equal((await leftOf(db.sql, calls.b!)).turns, 0, 'the other old call lost its transcript');
  });

  it('released (audited with its reason), the call goes at the next run', async () => {
    const res = await call('sidorova', '/api/calls/hold-a/legal-hold/release', {
      method: 'POST',
      body: { reason: 'решение суда вступило в силу' },
    });
    assert.deepEqual([res.status, res.body.released], [200, true]);
    const [audit] = await listAudit(db.sql, { action: 'call.legal_hold_release', object: 'hold-a' });
    assert.equal(audit?.details.reason, 'решение суда вступило в силу');
    assert.equal((await call('sidorova', '/api/calls/hold-a')).body.call.legalHold, null);
    await runRetention(db.sql, policy, { now: NOW });
    const left = await leftOf(db.sql, calls.a!);
    assert.deepEqual([left.turns, left.recordings, left.file, left.callerNumber], [0, 0, false, null]);
    const removed = await listAudit(db.sql, {
      login: RETENTION_LOGIN,
      action: 'retention.remove',
      object: 'recordings',
    });
    assert.deepEqual(
      removed.flatMap((a) => a.details.callIds),
      ['hold-b', 'hold-a'],
    );
    const card = await call('sidorova', '/api/calls/hold-a');
    assert.equal(card.body.call.retention.transcriptRemovedAt, NOW.toISOString());
  });

  it('every export of personal data over HTTP writes who, what and how many rows', async () => {
    await call('kuznetsov', '/api/calls?limit=10');
    const [list] = await listAudit(db.sql, { action: 'call.list', login: 'kuznetsov' });
    assert.equal(list?.details.count, 2);
    await call('sidorova', '/api/calls/hold-b');
    const views = await listAudit(db.sql, { action: 'call.view', object: 'hold-b', login: 'sidorova' });
    assert.deepEqual(views.at(-1)?.details, { turns: 0, number: 'none' });
    await call('kuznetsov', '/api/inquiries');
    const [inquiries] = await listAudit(db.sql, { action: 'inquiry.list', login: 'kuznetsov' });
    assert.deepEqual(inquiries?.details, { count: 2, numbers: 0 });
    const csv = await call('sidorova', '/api/reports/daily?from=2026-05-01&to=2026-05-31&format=csv');
    assert.equal(csv.status, 200);
    const [report] = await listAudit(db.sql, { action: 'report.export', login: 'sidorova' });
    assert.deepEqual(
      [report?.object, report?.details],
      ['2026-05-01..2026-05-31', { format: 'csv', rows: 31 }],
    );
  });

  describe('in the browser', { skip: browserMissing }, () => {
    async function cardOf(login: string, width: number, id: string): Promise<Page> {
      browser ??= await launchBrowser();
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(base);
      await page.getByLabel('Логин').fill(login);
      await page.getByLabel('Пароль').fill(password);
      await page.getByRole('button', { name: 'Войти' }).click();
      await page.locator('#whoami').filter({ hasText: /./ }).waitFor();
      await page.getByRole('link', { name: 'Звонки' }).click();
      await page.locator(`#calls-table tbody tr[data-id="${id}"]`).click();
      await page.locator('#call-legal-hold h4').waitFor();
      return page;
    }

    it('a supervisor puts the call on hold from the call card and releases it; an operator sees the hold only', async () => {
      const page = await cardOf('sidorova', 1280, 'hold-b');
      const box = page.locator('#call-legal-hold');
      assert.match(await box.innerText(), /Номер телефона удалён по сроку хранения/);
      await box.getByLabel('Основание удержания').fill('проверка Роскомнадзора, письмо № 77-1234');
      await box.getByRole('button', { name: 'Поставить на удержание' }).click();
      await box.getByText('На удержании для суда или проверки').waitFor();
      assert.match(await box.innerText(), /проверка Роскомнадзора, письмо № 77-1234/);
      await page.screenshot({ path: '/tmp/shots/legal-hold-1280.png', fullPage: true });
      const [audit] = await listAudit(db.sql, { action: 'call.legal_hold', object: 'hold-b' });
      assert.equal(audit?.details.reason, 'проверка Роскомнадзора, письмо № 77-1234');
      await page.close();

      const narrow = await cardOf('kuznetsov', 390, 'hold-b');
      const seen = narrow.locator('#call-legal-hold');
      await seen.getByText('На удержании для суда или проверки').waitFor();
      assert.equal(await seen.getByRole('button').count(), 0, 'an operator has no hold button');
      await narrow.close();

      const again = await cardOf('sidorova', 390, 'hold-b');
      const box2 = again.locator('#call-legal-hold');
      await box2.getByLabel('Основание снятия удержания').fill('проверка завершена');
      await again.screenshot({ path: '/tmp/shots/legal-hold-390.png', fullPage: true });
      await box2.getByRole('button', { name: 'Снять удержание' }).click();
      await box2.getByText('Удержание для суда или проверки не установлено').waitFor();
      await box2.getByRole('button', { name: 'Поставить на удержание' }).waitFor();
      await again.close();
    });
  });
});
