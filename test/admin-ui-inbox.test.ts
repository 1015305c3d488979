/**
 * «Входящие фразы» in a real browser, as an editor, on PGlite with the sample KB and the real NLU: what callers
 * said (one call through the voice bot, whose «нет» to the confirmation marks its question; the others' turns
 * as the bot recorded them, classified by the same model) shows grouped by wording with counts and the weekly
 * unrecognized share; the editor adds a phrase to an intent, the NLU retrains through its service
 * (retrainIfStale) and the next model recognizes the phrase; a dismissed group leaves the inbox; the
 * conversation opens with the caller's number masked. A supervisor reads and may not decide.
 * Screenshots (INBOX_SCREENSHOTS=dir) at 1280 and 390 px were looked at by hand.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { inboxPlugin } from '../admin/plugins/inbox.js';
import { adminArea, build } from '../admin/server.js';
import { addUser } from '../admin/users.js';
import { addTurn, createCall, endCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { OperatorQueue } from '../telephony/queue.js';
import { simulateTextCall } from '../voicebot/simulator/text.js';
import { onTestLine } from './calls-text-support.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';

const password = 'пароль-для-теста';
const shots = process.env.INBOX_SCREENSHOTS;
// Thursday 26 November 2026, 13:00 in Moscow (the sample KB's zone).
const NOW = new Date('2026-11-26T10:00:00Z');
const POOL = 'справка в бассейн';

describe('«Входящие фразы»: an editor trains the line from what callers said (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let nlu: NluService;
  let browser: Browser;
  let base: string;
  let close: () => Promise<void>;
  let confirmCall = '';
  /** The editor's one signed-in page: the editor's tests go on from what the one before left. */
  let editor: Page;
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-inbox-nlu-'));

  /** A caller's chat as the bot recorded it: each message classified by the serving model. */
  async function chat(
    id: string,
    startedAt: string,
    texts: string[],
    outcome: 'answered' | 'operator' = 'answered',
  ) {
    await createCall(db.sql, {
      id,
      channel: 'text',
      callerNumber: '+79145550011',
      dialledNumber: '122',
      startedAt: new Date(startedAt),
      flowId: 'main',
    });
    let seq = 0;
    await addTurn(db.sql, id, ++seq, { who: 'bot', text: 'Здравствуйте! Чем помочь?', atMs: 0 });
    for (const [i, text] of texts.entries()) {
      const c = nlu.classifier().classify(text);
      await addTurn(db.sql, id, ++seq, {
        who: 'caller',
        text,
        atMs: 5000 * (i + 1),
        intent: c.intent,
        confidence: c.confidence,
      });
      await addTurn(db.sql, id, ++seq, {
        who: 'bot',
        text: 'Извините, я не поняла.',
        atMs: 5000 * (i + 1) + 500,
      });
    }
    await endCall(db.sql, id, outcome, new Date(Date.parse(startedAt) + 60_000));
  }

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const kb = createKnowledgeBase(db.sql);
    nlu = await createNluService({ kb, modelDir, log: silentLogger });
    for (const [login, role, name] of [
      ['petrova', 'editor', 'Петрова Е. Н.'],
      ['sidorova', 'supervisor', 'Сидорова А. В.'],
    ] as const)
      await addUser(db.sql, { login, role, name, password });

    // This week: three callers asked about the pool certificate, two about hot water, one gave a number.
    await chat('c-pool-1', '2026-11-23T07:00:00Z', [POOL]);
    await chat('c-pool-2', '2026-11-24T08:00:00Z', [POOL, 'когда отключат горячую воду']);
    await chat('c-pool-3', '2026-11-25T09:00:00Z', ['справку в бассейн где взять']);
    await chat('c-water', '2026-11-25T10:00:00Z', ['когда отключат горячую воду']);
    await chat('c-fare', '2026-11-25T11:00:00Z', [
      'сколько стоит проезд в автобусе, мой номер 8 914 555 00 11',
    ]);
    // One call through the voice bot: the model is unsure, asks, and the caller says «нет».
    const call = await simulateTextCall(
      {
        caller: '+79145550022',
        at: '2026-11-26T12:00:00+03:00',
        turns: [{ say: 'помогите с документами и выплатами' }, { say: 'нет' }],
      },
      onTestLine({ kb, nlu: () => nlu.classifier(), sql: db.sql, log: silentLogger }),
    );
    confirmCall = call.callId;
    // The week before: four turns understood, none missed.
    await chat('c-last-week', '2026-11-17T09:00:00Z', [
      'как записаться к врачу',
      'хочу записаться на прививку',
    ]);

    const app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(inboxPlugin, { sql: db.sql, kb, retrain: () => nlu.retrainIfStale(), now: () => NOW }),
        adminArea(callsPlugin, {
          sql: db.sql,
          queue: new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => NOW }),
          health: async () => ({ components: {} }),
          timeZone: kb.timezone,
          now: () => NOW,
        }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    close = async () => {
      await browser.close();
      await app.close();
    };
  });
  after(async () => {
    await close?.();
    await nlu?.close();
    await db?.drop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  async function signIn(login: string, name: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: width > 500 ? 900 : 844 } });
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: name }).waitFor();
    await page.getByRole('link', { name: 'Входящие фразы' }).click();
    await page.locator('#inbox-groups-title').filter({ hasText: 'Группы фраз:' }).waitFor();
    return page;
  }
  const group = (page: Page, label: string) =>
    page.locator('.inbox-group', { has: page.locator('h4.inbox-title q', { hasText: label }) });

  it('shows the groups with counts, reasons and the weekly unrecognized share', async () => {
    const page = await signIn('petrova', 'Петрова');
    editor = page;
    const pool = group(page, POOL);
    await pool.waitFor();
    assert.match(
      await pool.locator('h4.inbox-title').innerText(),
      /справка в бассейн» 3 раза, разговоров: 3|справка в бассейн 3 раза, разговоров: 3/,
    );
    assert.match(await pool.innerText(), /не понял: 3/);
    // The voice bot's call: the question the caller said «нет» to.
    const misread = group(page, 'помогите с документами и выплатами');
    assert.match(await misread.innerText(), /«нет» после уточнения: 1/);
    assert.match(await misread.innerText(), /Бот предполагал: Выплаты/);
    // The number the caller gave is masked.
    const fare = group(page, 'сколько стоит проезд');
    assert.match(await fare.locator('h4.inbox-title').innerText(), /мой номер \*\*\*/);
    assert.doesNotMatch(await page.locator('#inbox-root').innerText(), /914/);
    // This week (from 23.11): 7 caller turns read, 6 of them not understood; the week before none of 2.
    const weeks = page.locator('#inbox-weeks li');
    assert.equal(await weeks.count(), 8);
    assert.match(
      await page.locator('#inbox-weeks li[data-week="2026-11-23"]').innerText(),
      /неделя с 23\.11.*\n?.*/,
    );
    const thisWeek = await page.locator('#inbox-weeks li[data-week="2026-11-23"] .bar-value').innerText();
    const lastWeek = await page.locator('#inbox-weeks li[data-week="2026-11-16"] .bar-value').innerText();
    assert.ok(/\(\d+ из 8\)/.test(thisWeek), thisWeek);
    assert.equal(lastWeek, '0 % (0 из 2)');
    assert.equal(
      await page.locator('#inbox-weeks li[data-week="2026-11-09"] .bar-value').innerText(),
      '— (реплик нет)',
    );
    if (shots) {
      await page.screenshot({ path: join(shots, 'inbox-1280.png'), fullPage: true });
      const phone = await signIn('petrova', 'Петрова', 390);
      await phone.screenshot({ path: join(shots, 'inbox-390.png'), fullPage: true });
      await phone.close();
    }
  });

  it('the conversation opens masked', async () => {
    const page = editor;
    const fare = group(page, 'сколько стоит проезд');
    await fare.getByRole('button', { name: 'разговор' }).first().click();
    const transcript = fare.locator('.conversation .transcript');
    await transcript.waitFor();
    assert.match(await transcript.innerText(), /Абонент: сколько стоит проезд в автобусе, мой номер \*\*\*/);
    if (shots) {
      await fare.getByRole('button', { name: 'Новое намерение из группы' }).click();
      await fare.screenshot({ path: join(shots, 'inbox-group-1280.png') });
    }
    const audit = await listAudit(db.sql, { action: 'kb.inbox.call' });
    assert.equal(audit[0]?.object, 'c-fare');
  });

  it('assigns a phrase to an intent, and the next model recognizes it', async () => {
    assert.equal(nlu.classifier().classify(POOL).intent, 'out_of_scope');
    const page = editor;
    const pool = group(page, POOL);
    await pool.getByLabel('Намерение').selectOption({ label: 'Сведения о медорганизациях' });
    await pool.getByRole('button', { name: 'Добавить в намерение' }).click();
    await page
      .getByText(`Фраза «${POOL}» добавлена в намерение «Сведения о медорганизациях». Модель переобучается.`)
      .waitFor();
    // The group left the inbox, the similar wording with it.
    assert.equal(await group(page, POOL).count(), 0);
    assert.equal(await group(page, 'справку в бассейн где взять').count(), 0);
    const kb = createKnowledgeBase(db.sql);
    assert.ok((await kb.intent('health.clinic_info'))?.phrases.includes(POOL));
    // The retraining the assignment started: the new model knows the phrase.
    await nlu.retrainIfStale();
    const c = nlu.classifier().classify(POOL);
    assert.equal(c.intent, 'health.clinic_info');
    const audit = await listAudit(db.sql, { action: 'kb.inbox.assign' });
    assert.equal(audit[0]?.object, 'health.clinic_info');
    assert.equal(audit[0]?.login, 'petrova');
  });

  it('refuses a phrase that already trains another intent', async () => {
    const page = editor;
    const water = group(page, 'когда отключат горячую воду');
    await water.getByLabel('Фраза').fill(POOL);
    await water.getByLabel('Намерение').selectOption({ label: 'Запись на приём к врачу' });
    await water.getByRole('button', { name: 'Добавить в намерение' }).click();
    await water.getByText(`Фраза «${POOL}» уже обучает намерение «Сведения о медорганизациях»`).waitFor();
  });

  it('a dismissed group leaves the inbox, also after a reload', async () => {
    const page = editor;
    await group(page, 'когда отключат горячую воду').getByRole('button', { name: 'Отклонить' }).click();
    await page.getByText('Группа «когда отключат горячую воду» отклонена.').waitFor();
    assert.equal(await group(page, 'когда отключат горячую воду').count(), 0);
    await page.reload();
    await page.locator('#inbox-groups-title').filter({ hasText: 'Группы фраз:' }).waitFor();
    await group(page, 'сколько стоит проезд').waitFor();
    assert.equal(await group(page, 'когда отключат горячую воду').count(), 0);
  });

  it('a supervisor reads the inbox with links to the calls, and may not decide', async () => {
    const page = await signIn('sidorova', 'Сидорова');
    const misread = group(page, 'помогите с документами и выплатами');
    assert.equal(
      await misread.getByRole('link', { name: 'звонок' }).getAttribute('href'),
      `#call/${confirmCall}`,
    );
    assert.equal(await misread.getByRole('button', { name: 'Добавить в намерение' }).count(), 0);
    const token = await page.evaluate(() =>
      (globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem(
        'otklik.token',
      ),
    );
    const res = await fetch(`${base}/api/kb/inbox/dismiss`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keys: ['x'] }),
    });
    assert.equal(res.status, 403);
    // The link opens the call's card, with the caller's words in clear for the supervisor.
    await misread.getByRole('link', { name: 'звонок' }).click();
    await page.locator('#call-detail h3', { hasText: `Звонок ${confirmCall}` }).waitFor();
    await page.locator('#call-detail').getByText('помогите с документами и выплатами').first().waitFor();
    await page.close();
  });
});
