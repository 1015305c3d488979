/**
 * «Справочники» in a real browser, as an editor: an agency's contacts and its schedule changed (a bad e-mail
 * and a bad interval refused with the reason), a holiday and a working Saturday added to the production
 * calendar and the agency seen closed and open on those dates, an outcome code added and retired.
 * Screenshots at 1280 and 390 px (REFS_SCREENSHOTS=dir) were looked at. Incident mode: admin-ui-incident-topic.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { studioRefsPlugin } from '../admin/plugins/studio-refs.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { listOutcomes } from '../kb/outcomes.js';
import { ensureSeeded } from '../kb/seed.js';
import { browserMissing, launchBrowser, signInPage } from './support/browser.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-для-теста';
const shots = process.env.REFS_SCREENSHOTS;

describe('«Справочники»: agencies, schedules, the production calendar and outcome codes (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  const now = clockFrom(OFFICE_HOURS);

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const [login, role, name, agency] of [['petrova', 'editor', 'Петрова Е. Н.', null]] as const)
      await addUser(db.sql, { login, role, name, agency, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(studioRefsPlugin, { sql: db.sql, now })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  async function signIn(login: string, name: string, width = 1280, height = 900): Promise<Page> {
    const page = await signInPage(browser, base, { login, password, name, width, height });
    return page;
  }

  async function shot(page: Page, name: string) {
    if (!shots) return;
    for (const [w, h] of [
      [1280, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: join(shots, `refs-${name}-${w}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  const row = (page: Page, id: string) => page.locator(`#agencies-table tr[data-agency="${id}"]`);

  it("an editor changes an agency's contacts and schedule, and the calendar closes and opens it", async () => {
    const page = await signIn('petrova', 'Петрова');
    await page.getByRole('link', { name: 'Справочники' }).click();
    await page.getByRole('tab', { name: 'Уполномоченные лица и расписания' }).waitFor();
    const hotline = row(page, 'health_hotline');
    await hotline.getByText('Горячая линия министерства здравоохранения').waitFor();

    await hotline.getByRole('button', { name: 'Изменить' }).click();
    const form = page.locator('#agency-form');
    await form.getByLabel('Контактное лицо').fill('Смирнова Ольга Петровна');
    await form.getByLabel('Электронная почта').fill('не почта');
    await form.getByRole('button', { name: 'Сохранить уполномоченное лицо' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: 'Электронная почта — ожидается адрес вида name@example.ru' })
      .waitFor();
    await form.getByLabel('Электронная почта').fill('smirnova@example.ru');
    await form.getByLabel('Номер переадресации').fill('+7 000 000-00-77');
    await form.getByRole('button', { name: 'Сохранить уполномоченное лицо' }).click();
    await form.getByText('Сохранено: «Горячая линия министерства здравоохранения»').waitFor();
    await hotline.getByText('Смирнова Ольга Петровна').waitFor();
    await hotline.getByText('smirnova@example.ru').waitFor();
    await hotline.getByText('переадресация: +7 000 000-00-77').waitFor();

    // The schedule: Friday until 18:00 now; a broken interval is refused with the reason.
    await page
      .locator('#schedules-table tr[data-schedule="office"]')
      .getByRole('button', { name: 'Изменить' })
      .click();
    const sform = page.locator('#schedule-form');
    await sform.getByLabel('Пт', { exact: true }).fill('с девяти');
    await sform.getByRole('button', { name: 'Сохранить расписание' }).click();
    await sform.getByRole('alert').filter({ hasText: 'Часы работы (пятница) — «с девяти»' }).waitFor();
    await sform.getByLabel('Пт', { exact: true }).fill('09:00-18:00');
    await sform.getByLabel('Название расписания').fill('Пн-Пт 9:00-18:00');
    await sform.getByRole('button', { name: 'Сохранить расписание' }).click();
    await sform.getByText('Расписание «Пн-Пт 9:00-18:00» сохранено').waitFor();
    await page.locator('#schedules-table tr[data-schedule="office"]').getByText('Пт 09:00-18:00').waitFor();

    // Tuesday 8 December 2026 and Saturday 12 December, 11:00 of the region.
    const at = async (local: string) => {
      await page.getByLabel('Дата и время').fill(local);
      await page.getByRole('button', { name: 'Показать' }).click();
      await page
        .locator('#agencies-at-head')
        .filter({ hasText: `${local.slice(8, 10)}.${local.slice(5, 7)}` })
        .waitFor();
      return (await hotline.locator('.open-state').innerText()).split(/\s/)[0];
    };
    assert.equal(await at('2026-12-08T11:00'), 'открыто');
    assert.equal(await at('2026-12-12T11:00'), 'закрыто');

    await page.getByRole('tab', { name: 'Производственный календарь' }).click();
    const cform = page.locator('#calendar-form');
    await cform.getByLabel('Дата').fill('2026-12-09');
    await cform.getByLabel('Вид дня').selectOption('working_day');
    await cform.getByRole('button', { name: 'Сохранить день' }).click();
    await cform
      .getByRole('alert')
      .filter({ hasText: 'среда: рабочим по переносу может быть только суббота или воскресенье' })
      .waitFor();
    await cform.getByLabel('Дата').fill('2026-12-08');
    await cform.getByLabel('Вид дня').selectOption('holiday');
    await cform.getByLabel('Название дня').fill('Региональный праздник');
    await cform.getByRole('button', { name: 'Сохранить день' }).click();
    await page
      .locator('#calendar-table tr[data-day="2026-12-08"]')
      .getByText('Региональный праздник')
      .waitFor();
    await cform.getByLabel('Дата').fill('2026-12-12');
    await cform.getByLabel('Вид дня').selectOption('working_day');
    await cform.getByLabel('Название дня').fill('Рабочая суббота');
    await cform.getByLabel('Работает как').selectOption('tue');
    await cform.getByRole('button', { name: 'Сохранить день' }).click();
    await page
      .locator('#calendar-table tr[data-day="2026-12-12"]')
      .getByText('рабочий (перенос) (часы: Вт)')
      .waitFor();
    await shot(page, 'calendar');

    await page.getByRole('tab', { name: 'Уполномоченные лица и расписания' }).click();
    assert.equal(await at('2026-12-08T11:00'), 'закрыто');
    assert.equal(await at('2026-12-12T11:00'), 'открыто');
    await shot(page, 'agencies');
    const actions = (await listAudit(db.sql, { login: 'petrova' }))
      .filter((e) => e.action !== 'login')
      .map((e) => `${e.action} ${e.object}`);
    assert.deepEqual(actions, [
      'agency.save health_hotline',
      'schedule.save office',
      'calendar.save 2026-12-08',
      'calendar.save 2026-12-12',
    ]);
    await page.close();
  });

  it('an editor adds an outcome code and retires it', async () => {
    const page = await signIn('petrova', 'Петрова');
    await page.getByRole('link', { name: 'Справочники' }).click();
    await page.getByRole('tab', { name: 'Коды результатов' }).click();
    const table = page.locator('#outcomes-table');
    await table.getByText('Вопрос решён').waitFor();
    const form = page.locator('#outcome-form');
    await form.getByLabel('Код результата').fill('answered');
    await form.getByLabel('Название результата').fill('Ещё один');
    await form.getByRole('button', { name: 'Добавить код' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: 'Код «answered» уже занят итогом «Вопрос решён»' })
      .waitFor();
    await form.getByLabel('Код результата').fill('duplicate');
    await form.getByLabel('Название результата').fill('Повторное обращение');
    await form.getByRole('button', { name: 'Добавить код' }).click();
    await form.getByText('Код «Повторное обращение» добавлен').waitFor();
    const added = table.locator('tr[data-outcome="duplicate"]');
    assert.deepEqual((await added.locator('td').allInnerTexts()).slice(0, 3), [
      'duplicate',
      'Повторное обращение',
      'действует',
    ]);
    await added.getByRole('button', { name: 'Снять' }).click();
    await form.getByText('Код «Повторное обращение» снят').waitFor();
    assert.equal(await added.locator('td').nth(2).innerText(), 'снят');
    await shot(page, 'outcomes');
    assert.ok(!(await listOutcomes(db.sql)).some((o) => o.id === 'duplicate'));
    await page.close();
  });
});
