/**
 * The citizen's chat page (admin/ui/chat.html) in a real browser when an operator takes the chat: the line
 * that the operator joined, their messages as «Оператор Имя» arriving live (the citizen did nothing to fetch
 * them), the citizen's reply, and the operator's close, which ends the chat on the page. The real operator
 * queue on PGlite, the shipped KB and NLU; the chat's time is fixed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { getTurns } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { OperatorQueue } from '../telephony/queue.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';

/** A Tuesday, 11:00 Moscow time: the operators work. */
const at = new Date('2026-11-24T11:00:00+03:00');
const anna = { id: 'anna', name: 'Анна' };

describe('citizen chat page with an operator, in a real browser', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let nlu: NluService;
  let queue: OperatorQueue;
  let chats: ChatSessions;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const kb = createKnowledgeBase(db.sql);
    nlu = await createNluService({
      kb,
      modelDir: mkdtempSync(join(tmpdir(), 'otklik-nlu-')),
      log: silentLogger,
    });
    queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => at });
    await queue.upsertOperator({ id: anna.id, name: anna.name, sipUri: 'sip:anna@desk.test', skills: [] });
    await queue.setPresence(anna.id, 'available');
    const deps = {
      kb,
      nlu: () => nlu.classifier(),
      sql: db.sql,
      log: silentLogger,
      handOff: queue,
      now: () => at,
    };
    chats = new ChatSessions(deps);
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(textChatPlugin, { deps, chats })],
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

  it('shows the operator joining, their messages live as «Оператор Анна», and their close', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/chat.html`);
    await page.locator('.msg.bot').filter({ hasText: 'выберите тему' }).waitFor();
    await page.getByRole('button', { name: '0', exact: true }).click();
    await page.locator('.msg.bot').filter({ hasText: 'порядке очереди' }).waitFor();

    const [offer] = await queue.assignNext();
    assert.equal(offer?.channel, 'text');
    await queue.accept(offer.callId, anna.id);
    assert.equal(await chats.operatorJoined(offer.callId, anna), true);
    await page.locator('.notice').filter({ hasText: 'К разговору подключился оператор Анна' }).waitFor();
    await chats.operatorSays(offer.callId, anna, 'Здравствуйте! Чем могу помочь?');
    const said = page.locator('.msg.operator');
    await said.waitFor();
    assert.equal(await said.locator('.who').innerText(), 'Оператор Анна');
    assert.match(await said.innerText(), /Здравствуйте! Чем могу помочь\?/);
    assert.equal(await page.locator('.msg.bot').filter({ hasText: 'Чем могу помочь' }).count(), 0);

    await page.getByLabel('Ваш вопрос').fill('Мне не пришла пенсия за ноябрь');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.locator('.msg.me').filter({ hasText: 'пенсия за ноябрь' }).waitFor();
    await chats.operatorSays(offer.callId, anna, 'Уточните, пожалуйста, ваш район.');
    await page.locator('.msg.operator').filter({ hasText: 'ваш район' }).waitFor();
    // Each message once, though it may come both over the socket and in a reply.
    assert.equal(await page.locator('.msg.operator').count(), 2);

    await queue.closeConversation(offer.callId, anna.id);
    await chats.operatorClosed(offer.callId, anna);
    await page.locator('.notice').filter({ hasText: 'Оператор завершил разговор' }).waitFor();
    await page.locator('#ended.shown').waitFor();
    assert.equal(await page.getByLabel('Ваш вопрос').isEnabled(), false);
    const turns = await getTurns(db.sql, offer.callId);
    assert.ok(turns.some((t) => t.who === 'caller' && t.text === 'Мне не пришла пенсия за ноябрь'));
    await page.close();
  });
});
