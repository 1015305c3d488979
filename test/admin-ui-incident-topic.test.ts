/**
 * Incident mode's one form in a real browser. A supervisor starts an incident with a new topic,
 * intent and answer: it waits for approval («ожидает согласования»); the agency's approver approves the answer,
 * and then the incident is «объявлено», a new chat hears its announcement and gets the approved answer to the
 * new question (the NLU retrained with `retrainIfStale`). Screenshots (REFS_SCREENSHOTS=dir) were looked at.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { studioRefsPlugin } from '../admin/plugins/studio-refs.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { browserMissing, launchBrowser, signInPage } from './support/browser.js';
import { clockFrom, OFFICE_HOURS, testChatPlugin } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-для-теста';
const shots = process.env.REFS_SCREENSHOTS;

describe('an incident with its own question and answer (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let nlu: NluService;
  const now = clockFrom(OFFICE_HOURS);

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const [login, role, name, agency] of [
      ['sidorova', 'supervisor', 'Сидорова А. В.', null],
      ['ivanov', 'approver', 'Иванов П. С.', 'minzdrav'],
    ] as const)
      await addUser(db.sql, { login, role, name, agency, password });
    const kb = createKnowledgeBase(db.sql);
    nlu = await createNluService({
      kb,
      modelDir: mkdtempSync(join(tmpdir(), 'otklik-nlu-')),
      log: silentLogger,
    });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(kbPlugin, { sql: db.sql }),
        adminArea(incidentsPlugin, { sql: db.sql, now }),
        adminArea(studioRefsPlugin, { sql: db.sql, now }),
        testChatPlugin({ kb, nlu: () => nlu.classifier(), sql: db.sql, now }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await nlu?.close();
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

  it('a supervisor starts an incident with its question; after approval it is announced and answered', async () => {
    const page = await signIn('sidorova', 'Сидорова');
    await page.getByRole('link', { name: 'Инциденты' }).click();
    const form = page.locator('#incident-topic-form');
    await form.getByLabel('Название инцидента').fill('Авария на теплотрассе');
    await form
      .getByLabel('Объявление для звонящих')
      .fill('В Северном районе отключено отопление, аварийные бригады уже работают.');
    await form.getByLabel('Код темы').fill('heating');
    await form.getByLabel('Название темы').fill('Теплоснабжение');
    await form.getByLabel('Уполномоченное лицо темы').selectOption('health_hotline');
    await form.getByLabel('Код вопроса').fill('heating.outage');
    await form.getByLabel('Вопрос', { exact: true }).fill('Когда дадут отопление');
    await form
      .getByLabel('Фразы граждан (по одной в строке)')
      .fill(
        [
          'когда дадут отопление',
          'нет отопления в квартире',
          'отключили отопление',
          'батареи холодные когда включат',
          'когда включат тепло',
          'почему нет отопления',
        ].join('\n'),
      );
    await form
      .getByLabel('Ответ для озвучивания')
      .fill('Отопление в Северном районе восстановят до восьми вечера.');
    await form
      .getByLabel('Ответ для чата и экрана оператора')
      .fill('Отопление в Северном районе восстановят сегодня до 20:00.');
    await form.getByRole('button', { name: 'Отправить ответ на согласование' }).click();
    await form.getByText('отправлен на согласование (heating.outage@v1)').waitFor();
    const item = page.locator('#incident-list li', { hasText: 'Авария на теплотрассе' });
    await item.getByText('ожидает согласования').waitFor();
    await shot(page, 'incident');
    const kb = createKnowledgeBase(db.sql);
    assert.ok(!(await kb.activeIncidents(now())).some((i) => i.title === 'Авария на теплотрассе'));

    const approver = await signIn('ivanov', 'Иванов');
    await approver.getByRole('link', { name: 'База знаний' }).click();
    await approver.locator('button[data-intent="heating.outage"][data-act="approve"]').click();
    await approver.locator('.answer', { hasText: 'heating.outage' }).getByText('v1: согласовано').waitFor();
    await approver.close();

    await page.reload();
    await item.getByText('объявлено').waitFor();
    await page.close();

    // The new intent is learned (the serve retrains in the background; the test waits for it), then a citizen
    // hears the announcement and gets the approved text.
    await nlu.retrainIfStale();
    const chat = await browser.newPage();
    await chat.goto(`${base}/chat.html`);
    await chat.locator('.msg.bot').filter({ hasText: 'В Северном районе отключено отопление' }).waitFor();
    await chat.getByLabel('Ваш вопрос').fill('когда дадут отопление');
    await chat.getByRole('button', { name: 'Отправить' }).click();
    await chat.locator('.msg.bot').filter({ hasText: 'восстановят до восьми вечера' }).first().waitFor();
    if (shots) await chat.screenshot({ path: join(shots, 'refs-chat-1280.png'), fullPage: true });
    await chat.close();
  });
});
