import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { listAudit } from '../admin/audit.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { recordingsPlugin } from '../admin/plugins/recordings.js';
import { reportRunsPlugin } from '../admin/plugins/report-runs.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { engineBuild } from '../admin/report-engine.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { addTurn, createCall, endCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { encodeWav } from '../media/audio/wav.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { OperatorQueue } from '../telephony/queue.js';
import { recordingFinished, recordingStarted } from '../telephony/records.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { clockFrom, OFFICE_HOURS, testChatPlugin } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';

const password = 'пароль-для-теста';
/** The day of the test's calls: the Tuesday the chat's clock is set to (OFFICE_HOURS), in Moscow. */
const CALL_DAY = OFFICE_HOURS.slice(0, 10);

describe('staff web UI in a real browser', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let nlu: NluService;
  let recordingId: string;
  let recordingPath: string;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const [login, role, name, agency] of [
      ['sidorova', 'supervisor', 'Сидорова А. В.', null],
      ['petrova', 'editor', 'Петрова Е. Н.', null],
      ['ivanov', 'approver', 'Иванов П. С.', 'minzdrav'],
      ['orlova', 'approver', 'Орлова М. И.', 'minsoc'],
      ['kuznetsov', 'operator', 'Кузнецов Д. А.', null],
    ] as const) {
      await addUser(db.sql, { login, role, name, agency, password });
    }
    await createCall(db.sql, {
      id: 'call-ui-1',
      channel: 'text',
      callerNumber: '+79991234567',
      dialledNumber: '122',
      startedAt: new Date(`${CALL_DAY}T10:00:00+03:00`),
    });
    await addTurn(db.sql, 'call-ui-1', 1, {
      who: 'bot',
      text: 'Здравствуйте! Вы позвонили в службу 122.',
      atMs: 0,
    });
    await addTurn(db.sql, 'call-ui-1', 2, {
      who: 'caller',
      text: 'хочу записаться к терапевту',
      atMs: 2500,
      intent: 'health.appointment',
      confidence: 0.93,
    });
    await endCall(db.sql, 'call-ui-1', 'answered', new Date(`${CALL_DAY}T10:03:00+03:00`));
    // Two answered inquiries: one the callbacks could not reach (left for an operator), one relayed.
    for (const [question, attempts, toOperator, relayed] of [
      ['нужна справка о составе семьи', 3, true, false],
      ['где получить направление на мрт', 1, false, true],
    ] as const) {
      const id = await seedInquiry(db.sql, {
        callId: 'call-ui-1',
        question,
        topicId: 'health',
        callbackNumber: '+79991234567',
        receivedAt: new Date(`${CALL_DAY}T10:05:00+03:00`),
        answer: 'Ответ уполномоченного лица.',
      });
      await db.sql.query(
        `UPDATE inquiries SET relay_attempts = $2, relay_needs_operator = $3, relay_last_result = 'no_answer',
                relayed_at = CASE WHEN $4 THEN now() END, status = CASE WHEN $4 THEN 'closed' ELSE status END
          WHERE id = $1`,
        [id, attempts, toOperator, relayed],
      );
    }
    // One still waiting for the agency's answer.
    await seedInquiry(db.sql, {
      callId: 'call-ui-1',
      question: 'как оформить пособие на ребёнка',
      callbackNumber: '+79991234567',
      receivedAt: new Date(`${CALL_DAY}T10:05:00+03:00`),
    });
    // A two-second stereo recording of that call, as telephony leaves it (caller left, bot right).
    recordingPath = join(mkdtempSync(join(tmpdir(), 'otklik-rec-')), 'call-ui-1.wav');
    const stereo = new Int16Array(8000 * 2 * 2).map((_, i) => Math.round(Math.sin(i / 7) * 4000));
    writeFileSync(recordingPath, encodeWav({ samples: stereo, sampleRate: 8000 }, 2));
    recordingId = await recordingStarted(db.sql, {
      callId: 'call-ui-1',
      path: recordingPath,
      legs: ['caller', 'bot'],
      startedAt: new Date(),
    });
    await recordingFinished(db.sql, recordingId);

    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    const health = async () => ({
      status: 'ok',
      components: {
        store: { status: 'ready' },
        asr: { status: 'model_missing', message: 'нет модели Vosk' },
      },
    });
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
        adminArea(incidentsPlugin, { sql: db.sql }),
        // «Today» of the overview is the day of the test's calls, at noon.
        adminArea(callsPlugin, {
          sql: db.sql,
          queue,
          health,
          timeZone: kb.timezone,
          now: clockFrom(`${CALL_DAY}T12:00:00+03:00`),
        }),
        adminArea(inquiriesPlugin, { sql: db.sql, now: clockFrom(`${CALL_DAY}T12:00:00+03:00`) }),
        adminArea(recordingsPlugin, { sql: db.sql }),
        adminArea(reportsPlugin, { sql: db.sql, timeZone: kb.timezone }),
        adminArea(reportRunsPlugin, {
          sql: db.sql,
          build: engineBuild({ sql: db.sql, kb, defaultNormMs: 60_000 }),
          log: silentLogger,
        }),
        testChatPlugin({ kb, nlu: () => nlu.classifier(), sql: db.sql }),
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

  async function signIn(login: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page
      .locator('#whoami')
      .filter({ hasText: login === 'sidorova' ? 'Сидорова' : /./ })
      .waitFor();
    return page;
  }

  it('a citizen asks in the chat widget and gets the approved answer', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/chat.html`);
    await page.locator('.msg.bot').filter({ hasText: '1 — здоровье' }).waitFor();
    await page.getByLabel('Ваш вопрос').fill('мне пришла повестка что делать');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.locator('.msg.bot').filter({ hasText: 'военный комиссариат' }).first().waitFor();
    await page.locator('.msg.bot').filter({ hasText: 'Остались ли у вас вопросы' }).waitFor();
    await page.close();
  });

  it('rejects a wrong password with a message in Russian', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.getByLabel('Логин').fill('sidorova');
    await page.getByLabel('Пароль').fill('не тот пароль');
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.getByText('Неверный логин или пароль').waitFor();
    await page.close();
  });

  it('a supervisor sees the figures, the health of the parts, and a call transcript with a masked number', async () => {
    const page = await signIn('sidorova');
    // A supervisor starts on the wall (admin/ui/roles.js); the overview is one link away.
    await page.locator('#wall > h2').waitFor();
    await page.getByRole('link', { name: 'Обзор' }).click();
    await page.locator('#figures').getByText('Потеряно сверх норматива ожидания').waitFor();
    assert.match(await page.locator('#figures').innerText(), /Отвечено ботом\s+1/);
    assert.match(await page.locator('#health').innerText(), /нет модели/);
    await page.getByRole('link', { name: 'Звонки' }).click();
    const row = page.locator('#calls-table tbody tr[data-id="call-ui-1"]');
    await row.waitFor();
    assert.match(await row.innerText(), /\*+67/);
    assert.doesNotMatch(await row.innerText(), /9991234567/);
    assert.match(await row.innerText(), /отвечено ботом/);
    await row.click();
    await page.locator('#call-detail').getByText('хочу записаться к терапевту').waitFor();
    await page.locator('#call-recordings').getByText('2 с').waitFor();
    await page.getByRole('button', { name: 'Прослушать' }).click();
    await page.locator('#call-recordings audio').waitFor();
    const seconds = await page
      .locator('#call-recordings audio')
      .evaluate(
        (audio: { readyState: number; duration: number; addEventListener(e: string, f: () => void): void }) =>
          new Promise<number>((resolve) =>
            audio.readyState >= 1
              ? resolve(audio.duration)
              : audio.addEventListener('loadedmetadata', () => resolve(audio.duration)),
          ),
      );
    assert.ok(Math.abs(seconds - 2) < 0.1, `the browser plays a 2 s recording, got ${seconds}`);
    await page.close();
  });

  it('inquiries show where relaying the answer stands, and the overview counts them', async () => {
    const page = await signIn('kuznetsov');
    // An operator starts on the desk (admin/ui/roles.js); the overview is one link away.
    await page.locator('#desk > h2').waitFor();
    await page.getByRole('link', { name: 'Обзор' }).click();
    await page.locator('#inquiry-figures').getByText('Не дозвонились — позвонить вручную').waitFor();
    const figures = await page.locator('#inquiry-figures').innerText();
    assert.match(figures, /Не дозвонились — позвонить вручную\s+1/);
    assert.match(figures, /Ответ передан заявителю\s+1/);
    await page.getByRole('link', { name: 'Обращения' }).click();
    const manual = page.locator('#inquiries-table tbody tr', { hasText: 'справка о составе семьи' });
    await manual.getByText('не дозвонились — позвонить вручную').waitFor();
    assert.match(await manual.innerText(), /попыток 3/);
    const relayed = page.locator('#inquiries-table tbody tr', { hasText: 'направление на мрт' });
    assert.match(await relayed.innerText(), /передан заявителю/);
    await page.close();
  });

  it("an operator writes down the agency's answer, and marks one told to the citizen by phone", async () => {
    const page = await signIn('kuznetsov');
    await page.getByRole('link', { name: 'Обращения' }).click();
    const waiting = page.locator('#inquiries-table tbody tr', { hasText: 'пособие на ребёнка' });
    await waiting
      .getByLabel('Ответ уполномоченного лица')
      .fill('Пособие оформляется через Госуслуги или в МФЦ, решение в течение 10 рабочих дней.');
    await waiting.getByRole('button', { name: 'Записать ответ' }).click();
    await waiting.getByText('ожидает обратного звонка').waitFor();
    assert.match(await waiting.innerText(), /получен ответ/);

    const manual = page.locator('#inquiries-table tbody tr', { hasText: 'справка о составе семьи' });
    assert.match(await manual.innerText(), /Телефон: \+79991234567/);
    await manual.getByRole('button', { name: 'Сообщил заявителю по телефону' }).click();
    await manual.getByText('(kuznetsov, по телефону)').waitFor();
    assert.doesNotMatch(
      await manual.innerText(),
      /79991234567/,
      'the number is shown only while it must be called',
    );
    await page.close();

    const rows = await db.sql.query<{
      question: string;
      status: string;
      answered_by: string | null;
      relayed_by: string | null;
    }>(
      `SELECT question, status, answered_by, relayed_by FROM inquiries
        WHERE question IN ('как оформить пособие на ребёнка', 'нужна справка о составе семьи') ORDER BY question`,
    );
    assert.deepEqual(
      rows.map((r) => [r.question, r.status, r.answered_by, r.relayed_by]),
      [
        ['как оформить пособие на ребёнка', 'answered', 'kuznetsov', null],
        ['нужна справка о составе семьи', 'closed', 'sidorova', 'kuznetsov'],
      ],
    );
    const audited = await db.sql.query<{ action: string }>(
      // The changes (reading the list is audited too, as inquiry.list).
      `SELECT action FROM audit_log WHERE login = 'kuznetsov' AND action LIKE 'inquiry.%'
          AND action <> 'inquiry.list' ORDER BY id`,
    );
    assert.deepEqual(
      audited.map((a) => a.action),
      ['inquiry.answer', 'inquiry.relayed'],
    );
  });

  it('a supervisor shows the daily report for a period and downloads it as CSV', async () => {
    const today = CALL_DAY;
    const page = await signIn('sidorova');
    await page.getByRole('link', { name: 'Отчёты' }).click();
    await page.getByLabel('С', { exact: true }).fill(today);
    await page.getByLabel('По', { exact: true }).fill(today);
    await page.getByRole('button', { name: 'Показать' }).click();
    const row = page.locator(`#report-table tbody tr[data-key="${today}"]`);
    await row.waitFor();
    // That day: call-ui-1, answered by the bot, and the citizen's chat of the first test (still open), whose
    // clock is set to the same Tuesday (test/support/chat.ts).
    assert.match(await row.innerText(), new RegExp(`^${today}\\s+2\\s+1\\s`));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Скачать CSV' }).click(),
    ]);
    const csv = await download.createReadStream().then(
      (stream) =>
        new Promise<string>((resolve) => {
          let text = '';
          stream.on('data', (c: Buffer) => {
            text += c.toString('utf8');
          });
          stream.on('end', () => resolve(text));
        }),
    );
    assert.match(csv, /Дата;Поступило обращений;Решено ботом без оператора/);
    assert.match(csv, new RegExp(`\\r\\n${today};2;1;`));
    await page.close();
  });

  it('recordings: an operator is refused and audited, a tampered file is refused, no one listens unsigned', async () => {
    const tokenOf = async (login: string) => {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    const audioUrl = `${base}/api/recordings/${recordingId}/audio`;
    assert.equal((await fetch(audioUrl)).status, 401);

    const operator = await tokenOf('kuznetsov');
    const refused = await fetch(audioUrl, { headers: { authorization: `Bearer ${operator}` } });
    assert.equal(refused.status, 403);
    const list = await fetch(`${base}/api/calls/call-ui-1/recordings`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    assert.equal(list.status, 403);

    const supervisor = await tokenOf('sidorova');
    const ok = await fetch(audioUrl, { headers: { authorization: `Bearer ${supervisor}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'audio/wav');
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.equal((await ok.arrayBuffer()).byteLength, 44 + 8000 * 2 * 2 * 2);

    appendFileSync(recordingPath, Buffer.alloc(10));
    const tampered = await fetch(audioUrl, { headers: { authorization: `Bearer ${supervisor}` } });
    assert.equal(tampered.status, 409);
    assert.match(((await tampered.json()) as { message: string }).message, /контрольная сумма не совпадает/);

    const access = await listAudit(db.sql, { action: 'recording.listen', object: recordingId });
    assert.deepEqual(
      access.map((a) => [a.login, a.details.granted, a.details.reason, a.details.role]),
      [
        ['sidorova', true, null, 'supervisor'],
        ['kuznetsov', false, 'role', 'operator'],
        ['sidorova', true, null, 'supervisor'],
        ['sidorova', false, 'checksum', 'supervisor'],
      ],
    );
    assert.equal(access[0]?.details.callId, 'call-ui-1');
  });

  it('an approver approves a script the editor sent, and only then it is served', async () => {
    const editor = createKbEditor(db.sql);
    const draft = await editor.createDraft('health.checkup', {
      speech: 'Новая редакция: диспансеризацию можно пройти в своей поликлинике.',
      screen: 'Новая редакция скрипта о диспансеризации.',
      author: 'petrova',
    });
    await editor.submitForApproval('health.checkup', draft.version, 'petrova');
    const kb = createKnowledgeBase(db.sql);
    assert.notEqual((await kb.approvedAnswer('health.checkup'))?.version, draft.version);

    // An approver of another agency is told why not, and nothing is served.
    const other = await signIn('orlova');
    await other.getByRole('link', { name: 'База знаний' }).click();
    await other.locator(`button[data-intent="health.checkup"][data-act="approve"]`).click();
    await other
      .locator('.answer', { hasText: 'health.checkup' })
      .getByRole('alert')
      .filter({ hasText: 'Скрипты темы «Здравоохранение» согласует Министерство здравоохранения' })
      .waitFor();
    await other.close();
    assert.notEqual((await kb.approvedAnswer('health.checkup'))?.version, draft.version);

    const page = await signIn('ivanov');
    await page.getByRole('link', { name: 'База знаний' }).click();
    const button = page.locator(`button[data-intent="health.checkup"][data-act="approve"]`);
    await button.click();
    const checkup = page.locator('.answer', { hasText: 'health.checkup' });
    await checkup.getByText(`v${draft.version}: согласовано`).waitFor();
    const served = await kb.approvedAnswer('health.checkup');
    assert.equal(served?.version, draft.version);
    assert.equal(served?.approvedBy, 'ivanov');
    await page.close();
  });

  it('a supervisor turns on an incident announcement from the UI', async () => {
    const page = await signIn('sidorova');
    await page.getByRole('link', { name: 'Инциденты' }).click();
    await page.getByLabel('Заголовок').fill('Отключение теплоснабжения');
    await page
      .getByLabel('Текст объявления для звонящих')
      .fill('В Северном районе отключено отопление, аварийные бригады работают.');
    await page.getByRole('button', { name: 'Включить объявление' }).click();
    await page.locator('#incident-list').getByText('Отключение теплоснабжения').waitFor();
    const active = await createKnowledgeBase(db.sql).activeIncidents(new Date());
    assert.ok(active.some((i) => i.title === 'Отключение теплоснабжения'));
    await page.close();
  });

  it('the API refuses an editor who tries to approve, and a request without sign-in', async () => {
    const anonymous = await fetch(`${base}/api/calls`);
    assert.equal(anonymous.status, 401);
    const signIn = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'petrova', password }),
    });
    const { token } = (await signIn.json()) as { token: string };
    const res = await fetch(`${base}/api/kb/answers/health.covid/versions/1/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 403);
    const bad = await fetch(`${base}/api/kb/answers/health.covid/versions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ speech: '' }),
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'VALIDATION_FAILED');
  });
});
