/**
 * «Обращения» in a real browser: staff pass a registered question to one more agency and record an agency's
 * extension with its reason; one past the agreement's maximum is refused with the Russian reason on screen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { extensionsOf } from '../inquiries/extension.js';
import { inquiriesOfRequest } from '../inquiries/register.js';
import { ensureSeeded } from '../kb/seed.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedRegistered } from './support/inquiries.js';

const password = 'пароль-для-теста';
const msk = (local: string) => new Date(`${local}+03:00`);

describe('a second agency and an extension in «Обращения» (real browser)', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(inquiriesPlugin, { sql: db.sql, now: () => msk('2026-11-24T12:00') })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  async function signIn(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(base);
    await page.getByLabel('Логин').fill('sidorova');
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: 'Сидорова' }).waitFor();
    await page.getByRole('link', { name: 'Обращения' }).click();
    return page;
  }

  it('adds an agency to the request, extends a term and shows a refusal past the maximum', async () => {
    const question = 'мне отказали в пособии на ребёнка и не записывают к врачу';
    const first = await seedRegistered(db.sql, { question, receivedAt: msk('2026-11-24T10:00') });
    const page = await signIn();
    const row = page.locator(`#inquiries-table tbody tr[data-id="${first.id}"]`);
    await row.getByText('Ещё ведомство').click();
    await row.locator('form.add-agency select').selectOption('health_hotline');
    await row.getByRole('button', { name: 'Направить' }).click();
    await page.locator('#inquiries-table tbody tr').nth(1).waitFor();
    const request = await inquiriesOfRequest(db.sql, first.id);
    assert.deepEqual(
      request.map((r) => r.agencyId),
      [null, 'health_hotline'],
    );
    const second = page.locator(`#inquiries-table tbody tr[data-id="${request[1]!.id}"]`);
    await second.getByText(`запрос № ${first.id}`).waitFor();

    const extend = async (amount: string, reason: string) => {
      const r = page.locator(`#inquiries-table tbody tr[data-id="${first.id}"]`);
      await r.getByText('Продлить срок').click();
      await r.getByLabel('На сколько рабочих дней').fill(amount);
      await r.getByLabel('Причина (со слов ведомства)').fill(reason);
      await r.getByRole('button', { name: 'Продлить' }).click();
      return r;
    };
    const extended = await extend('2', 'Нужна справка из архива');
    await extended.getByText('(срок продлён)').waitFor();
    const [record] = await extensionsOf(db.sql, first.id);
    assert.equal(record?.reason, 'Нужна справка из архива');
    assert.equal(record?.recordedBy, 'sidorova');
    const refused = await extend('3', 'Ещё запрос');
    await refused.getByText(/не больше 5 рабочих дней, уже установлено 3 рабочих дня/).waitFor();
    assert.equal((await extensionsOf(db.sql, first.id)).length, 1);
    await page.close();
  });
});
