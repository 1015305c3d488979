/**
 * «Обращения» in a real browser: an inquiry no topic fitted is registered without an agency, is not mailed,
 * and waits until a supervisor chooses its agency; the choice is audited and the mail sweep then sends it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { callsPlugin } from '../admin/plugins/calls.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { dispatchInquiry, undispatchedInquiries } from '../inquiries/dispatch.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';

const password = 'пароль-для-теста';

describe('staff choose the agency of an inquiry in «Обращения» (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    const health = async () => ({ status: 'ok', components: { store: { status: 'ready' } } });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(callsPlugin, {
          sql: db.sql,
          queue,
          health,
          timeZone: createKnowledgeBase(db.sql).timezone,
        }),
        adminArea(inquiriesPlugin, { sql: db.sql }),
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

  async function signIn(login: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: 'Сидорова' }).waitFor();
    return page;
  }

  it('an inquiry no agency fits waits unsent until a supervisor chooses its agency in «Обращения»', async () => {
    const question = 'у меня сломался лифт в доме кто должен его чинить';
    const id = await seedInquiry(db.sql, { question, topicId: null, receivedAt: new Date() });
    const jobDeps = { sql: db.sql, mailer: { send: async () => {} }, log: silentLogger };
    assert.ok(!(await undispatchedInquiries(db.sql)).includes(id), 'not picked by the mail sweep');
    assert.equal(await dispatchInquiry(jobDeps, id), 'no_agency');

    const page = await signIn('sidorova');
    await page.getByRole('link', { name: 'Обращения' }).click();
    const row = page.locator('#inquiries-table tbody tr', { hasText: question });
    await row.getByText('Не выбрано: обращение не отправлено').waitFor();
    // An agency the knowledge base does not have is refused in Russian (the form offers only real ones).
    const refused = await page.evaluate(async (inquiryId) => {
      const res = await fetch(`/api/inquiries/${inquiryId}/agency`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${(globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('otklik.token')}`,
        },
        body: JSON.stringify({ agencyId: 'no_such_agency' }),
      });
      return { status: res.status, body: (await res.json()) as { message: string } };
    }, id);
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /нет в базе знаний/);
    await row.getByLabel('Уполномоченное лицо').selectOption({ label: 'Центр управления регионом' });
    await row.getByRole('button', { name: 'Передать' }).click();
    await row.locator('td.agency').getByText('Центр управления регионом').waitFor();
    assert.equal(await row.locator('form.choose-agency').count(), 0);
    await page.close();

    const [stored] = await db.sql.query<{ agency_id: string; question: string }>(
      'SELECT agency_id, question FROM inquiries WHERE id = $1',
      [id],
    );
    assert.deepEqual(stored, { agency_id: 'regional_center', question });
    const [audited] = await db.sql.query<{ login: string; object: string; details: { agencyId: string } }>(
      `SELECT login, object, details FROM audit_log WHERE action = 'inquiry.agency' ORDER BY id DESC LIMIT 1`,
    );
    assert.deepEqual(audited, {
      login: 'sidorova',
      object: String(id),
      details: { agencyId: 'regional_center' },
    });
    // Now the mail sweep sends it to the chosen agency.
    assert.ok((await undispatchedInquiries(db.sql)).includes(id));
    assert.equal(await dispatchInquiry(jobDeps, id), 'sent');
  });
});
