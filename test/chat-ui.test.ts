/**
 * The citizen's chat page (admin/ui/chat.html) in a real browser, on the shipped KB and the real NLU: the bot
 * writes like a chat (numbers in digits, «напишите»), answers a greeting and keeps the conversation, keeps
 * the chat open after an emergency, and an ended chat disables its input and says so (at once, over the live
 * socket, when it ends under the page); without the socket a message to an ended chat is refused with a clear
 * error that the page shows, never dropped. The chat's time is fixed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { testChatPlugin } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';

/** A Tuesday, 11:00 Moscow time: the operators work. */
const at = new Date('2026-11-24T11:00:00+03:00');

describe('citizen chat page in a real browser', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let nlu: NluService;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const kb = createKnowledgeBase(db.sql);
    nlu = await createNluService({
      kb,
      modelDir: mkdtempSync(join(tmpdir(), 'otklik-nlu-')),
      log: silentLogger,
    });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [testChatPlugin({ kb, nlu: () => nlu.classifier(), sql: db.sql, now: () => at })],
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

  const bot = (page: Page, text: string | RegExp) => page.locator('.msg.bot').filter({ hasText: text });
  async function write(page: Page, text: string): Promise<void> {
    await page.getByLabel('Ваш вопрос').fill(text);
    await page.getByRole('button', { name: 'Отправить' }).click();
  }

  it('writes like a chat and answers a greeting, keeping the conversation going', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/chat.html`);
    await bot(page, 'единая линия 122').waitFor();
    const menu = bot(page, 'выберите тему');
    await menu.waitFor();
    assert.match(await menu.innerText(), /1 — здоровье и запись к врачу/);
    assert.match(await menu.innerText(), /Напишите коротко ваш вопрос/);
    const greeting = await bot(page, 'единая линия').innerText();
    assert.doesNotMatch(
      `${greeting}\n${await menu.innerText()}`,
      /нажмите|сто двадцать два|скажите|назовите/i,
    );

    await write(page, 'Здравствуйте!');
    await bot(page, 'Здравствуйте! Слушаю вас. Какой у вас вопрос?').waitFor();
    assert.equal(await bot(page, /112|экстренн/).count(), 0, 'a greeting is not an emergency');
    await write(page, 'здравствуйте хочу записаться к терапевту');
    await bot(page, 'регистратуре вашей поликлиники').waitFor();
    await bot(page, 'Остались ли у вас вопросы?').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isEnabled(), true);
    await page.close();
  });

  it('an emergency gives 112 and 103 in digits and the chat stays open, offering an inquiry', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/chat.html`);
    await bot(page, 'выберите тему').waitFor();
    await write(page, 'у соседей пожар');
    await bot(page, 'позвоните по номеру 112 или 103').waitFor();
    // No operator answers chats yet: the chat does not pretend one will, it offers an inquiry.
    await bot(page, 'В чате операторы пока не отвечают').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isEnabled(), true);
    assert.equal(await page.locator('#ended').isVisible(), false);
    await page.close();
  });

  it('an ended chat disables its input and says so', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/chat.html`);
    await bot(page, 'выберите тему').waitFor();
    await write(page, 'хочу записаться к терапевту');
    await bot(page, 'Остались ли у вас вопросы?').waitFor();
    await write(page, 'нет спасибо');
    await bot(page, 'напишите цифру от 1 до 5').waitFor();
    await write(page, '5');
    await bot(page, 'Спасибо за оценку').waitFor();
    await bot(page, 'Спасибо за обращение на линию 122').waitFor();
    await page.getByText('Разговор завершён. Чтобы задать новый вопрос, начните новый разговор.').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Отправить' }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: '5', exact: true }).isDisabled(), true);
    await page.getByRole('button', { name: 'Начать новый разговор' }).click();
    await bot(page, 'выберите тему').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isEnabled(), true);
    await page.close();
  });

  it('a chat that ends under the page (idle timeout, another tab) is shown ended at once', async () => {
    const page = await browser.newPage();
    const started = page.waitForResponse((r) => r.url().endsWith('/api/chat/sessions'));
    // The page listens on the chat's socket once the server has attached it to the chat.
    const attached = new Promise<void>((resolve) =>
      page.on('websocket', (ws) =>
        ws.on('framereceived', (f) => {
          if (String(f.payload).includes('"attached"')) resolve();
        }),
      ),
    );
    await page.goto(`${base}/chat.html`);
    const { id } = (await (await started).json()) as { id: string };
    await bot(page, 'выберите тему').waitFor();
    await attached;
    const res = await fetch(`${base}/api/chat/sessions/${id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    await page.locator('#ended.shown').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isDisabled(), true);
    await page.close();
  });

  it('a message to a chat that ended under the page is refused with a clear error, not lost', async () => {
    const page = await browser.newPage();
    // Without the live socket (a proxy that drops it) the page learns of the end only from the refusal.
    await page.routeWebSocket(/\/api\/chat\/ws$/, () => {});
    const started = page.waitForResponse((r) => r.url().endsWith('/api/chat/sessions'));
    await page.goto(`${base}/chat.html`);
    const { id } = (await (await started).json()) as { id: string };
    await bot(page, 'выберите тему').waitFor();
    // The chat is closed on the server side (idle timeout, the citizen's other tab) while the page is open.
    const res = await fetch(`${base}/api/chat/sessions/${id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    await write(page, 'хочу записаться к терапевту');
    await page.locator('#status').filter({ hasText: 'сообщение не доставлено' }).waitFor();
    await page.locator('.msg.me.failed').filter({ hasText: 'хочу записаться к терапевту' }).waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isDisabled(), true);
    const again = await fetch(`${base}/api/chat/sessions/${id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'алло' }),
    });
    assert.equal(again.status, 409);
    const body = (await again.json()) as { code: string; message: string; retryable: boolean };
    assert.equal(body.code, 'CHAT_ENDED');
    assert.equal(body.retryable, false);
    assert.match(body.message, /Разговор завершён/);
    await page.close();
  });
});
