/**
 * «Ответы» in a real browser, on the shipped KB and the real NLU, with a real SMTP server on loopback: the
 * health agency withdrew its script for «Вызов врача на дом», so the web chat says the answer is not prepared
 * yet; an editor drafts a new one (spoken, chat and operator texts, a note, the handling) and sends it; the
 * agency's approver is mailed, sees the author, the note and the diff, and returns it with a comment; the
 * author is mailed, sees the comment, edits and resubmits; a working day later the draft is marked overdue on
 * the studio's page and on the supervisor's overview; the approver approves and the chat serves the new text.
 * The line's time is the test's (a Tuesday in office hours, then the next day).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { setStaffEmail } from '../admin/answer-notices.js';
import { listAudit } from '../admin/audit.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { kbAnswersPlugin, noticeKick } from '../admin/plugins/kb-answers.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { smtpMailer } from '../inquiries/dispatch.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { OperatorQueue } from '../telephony/queue.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { testChatPlugin } from './support/chat.js';
import { openTestDb, type TestDb } from './support/db.js';
import { decodeMail, startSmtp, waitFor } from './support/smtp.js';

const password = 'пароль-для-студии';
const INTENT = 'health.home_visit';
const shots = process.env.ANSWERS_SCREENSHOTS;

describe('an answer drafted, returned, edited, approved, and only then served (real browser)', {
  skip: browserMissing,
}, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let nlu: NluService;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const clock = { t: Date.parse('2026-11-24T11:00:00+03:00') }; // a Tuesday
  const now = () => new Date(clock.t);

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    // The agency withdrew its script: nothing is served for the question until a new one is approved.
    await createKbEditor(db.sql, { now }).retire(INTENT, 1);
    const users = [
      { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', email: 'petrova@line122.example.ru' },
      {
        login: 'ivanova',
        role: 'approver',
        name: 'Иванова М. С.',
        agency: 'minzdrav',
        email: 'ivanova@minzdrav.example.ru',
      },
      {
        login: 'orlov',
        role: 'approver',
        name: 'Орлов П. П.',
        agency: 'voenkomat',
        email: 'orlov@voenkomat.example.ru',
      },
      { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.' },
    ] as const;
    for (const u of users) {
      await addUser(db.sql, { ...u, password });
      if ('email' in u) await setStaffEmail(db.sql, u.login, u.email);
    }
    smtp = await startSmtp();
    const kb = createKnowledgeBase(db.sql);
    nlu = await createNluService({
      kb,
      modelDir: mkdtempSync(join(tmpdir(), 'otklik-nlu-')),
      log: silentLogger,
    });
    const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
    const notices = {
      sql: db.sql,
      log: silentLogger,
      mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, 'Служба 122 <noreply@line122.example.ru>'),
      baseUrl: 'https://122.example.ru/',
    };
    const health = async () => ({ status: 'ok', components: { store: { status: 'ready' } } });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(kbPlugin, { sql: db.sql, onSubmit: noticeKick(notices, now), now }),
        adminArea(kbAnswersPlugin, { sql: db.sql, log: silentLogger, notices, now }),
        adminArea(callsPlugin, { sql: db.sql, queue, health, timeZone: kb.timezone, now }),
        testChatPlugin({ kb, nlu: () => nlu.classifier(), sql: db.sql, now, handOff: queue }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await nlu?.close();
    await smtp?.close();
    await db?.drop();
  });

  async function signIn(login: string, name: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(base);
    await page.getByLabel('Логин').fill(login);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.locator('#whoami').filter({ hasText: name }).waitFor();
    return page;
  }
  const openAnswers = async (page: Page) => {
    await page.getByRole('link', { name: 'Ответы', exact: true }).click();
    await page.locator('#answers-root h3').first().waitFor();
  };
  const shot = async (page: Page, name: string) => {
    if (!shots) return;
    await page.screenshot({ path: `${shots}/answers-${name}-1280.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${shots}/answers-${name}-390.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  };
  async function chatAsks(question: string, expect: string): Promise<void> {
    const page = await browser.newPage();
    await page.goto(`${base}/chat.html`);
    await page.locator('.msg.bot').filter({ hasText: 'выберите тему' }).waitFor();
    await page.getByLabel('Ваш вопрос').fill(question);
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.locator('.msg.bot').filter({ hasText: expect }).waitFor();
    await page.close();
  }
  const mailTo = (address: string, subject: RegExp) =>
    waitFor(
      () => smtp.received.find((m) => m.to.includes(address) && subject.test(decodeHeader(m.body))),
      `mail to ${address}`,
    );

  it('before approval the chat says the answer is not prepared yet', async () => {
    await chatAsks('нужно вызвать врача на дом', 'согласованный ответ пока не подготовлен');
  });

  it('an editor drafts the answer and sends it; the approver of the agency is mailed', async () => {
    const page = await signIn('petrova', 'Петрова');
    await openAnswers(page);
    const block = page.locator('.studio-drafts article', { hasText: INTENT });
    await block.getByText('Согласованного ответа нет').waitFor();
    await block.getByText('Новая версия').click();
    await block
      .getByLabel('Текст для озвучивания')
      .fill('Врача на дом вызывают через регистратуру поликлиники.');
    await block.getByLabel('Текст для чата').fill('Вызовите врача на дом через регистратуру поликлиники.');
    await block.getByLabel('Карточка оператора').fill('Вызов врача на дом: регистратура, до 12:00.');
    await block.getByLabel('Записка для согласующего').fill('Прежний текст снят, нужен новый');
    await block.getByLabel('Что делает линия').selectOption({ label: 'бот отвечает' });
    await block.getByRole('button', { name: 'Создать черновик' }).click();
    await block.getByText('Черновик, версия 2').waitFor();
    await block.getByRole('button', { name: 'Отправить на согласование' }).click();
    await page.locator('.studio-queue article', { hasText: INTENT }).waitFor();
    const mail = await mailTo('ivanova@minzdrav.example.ru', /на согласование/);
    const text = decodeMail(mail.body);
    assert.match(text, /Вызов врача на дом/);
    assert.match(text, /Прежний текст снят, нужен новый/);
    assert.match(text, /https:\/\/122\.example\.ru\/#answers/);
    // Another agency's approver hears only of her own topics (the sample KB has one of hers waiting).
    const others = smtp.received.filter((m) => m.to.includes('orlov@voenkomat.example.ru'));
    assert.ok(others.every((m) => !decodeMail(m.body).includes('Вызов врача на дом')));
    await page.close();
  });

  it('the approver sees author, note and the diff, and returns it with a comment; the author is mailed', async () => {
    const page = await signIn('ivanova', 'Иванова');
    await openAnswers(page);
    const card = page.locator('.studio-queue article', { hasText: INTENT });
    await card.getByText('Автор: petrova').waitFor();
    await card.getByText('Прежний текст снят, нужен новый').waitFor();
    assert.equal(
      await card.locator('[data-text="chat"] ins').innerText(),
      'Вызовите врача на дом через регистратуру поликлиники.',
    );
    await shot(page, 'approver');
    // A return needs a comment: the browser does not send an empty one.
    await card.getByRole('button', { name: 'Вернуть на доработку' }).click();
    assert.equal(
      await card
        .getByLabel('Комментарий автору')
        .evaluate((e) => (e as unknown as { validity: { valid: boolean } }).validity.valid),
      false,
    );
    await card.getByLabel('Комментарий автору').fill('Добавьте, до которого часа принимают вызовы');
    await card.getByRole('button', { name: 'Вернуть на доработку' }).click();
    await page.getByText('Ничего не ждёт согласования.').waitFor();
    const mail = await mailTo('petrova@line122.example.ru', /возвращён на доработку/);
    assert.match(decodeMail(mail.body), /Добавьте, до которого часа принимают вызовы/);
    await page.close();
  });

  it('the author sees the comment, edits and resubmits; a working day later it is overdue for the line', async () => {
    clock.t = Date.parse('2026-11-24T14:00:00+03:00');
    const page = await signIn('petrova', 'Петрова');
    await openAnswers(page);
    const block = page.locator('.studio-drafts article', { hasText: INTENT });
    await block.getByText('Возвращено на доработку (ivanova').waitFor();
    await block.getByText('Добавьте, до которого часа принимают вызовы').waitFor();
    await block
      .getByLabel('Текст для чата')
      .fill('Вызовите врача на дом через регистратуру поликлиники до 12:00.');
    await block.getByRole('button', { name: 'Отправить на согласование' }).click();
    await block.getByText('на согласовании до').waitFor();
    await page.close();

    // Wednesday 14:01: more than one working day since the submit.
    clock.t = Date.parse('2026-11-25T14:01:00+03:00');
    const editor = await signIn('petrova', 'Петрова');
    await openAnswers(editor);
    await editor
      .locator('.studio-queue article', { hasText: INTENT })
      .getByText('ждёт дольше рабочего дня')
      .waitFor();
    await shot(editor, 'editor');
    await editor.close();
    const supervisor = await signIn('sidorova', 'Сидорова');
    // A supervisor lands on «Монитор»; the approval figures are on «Обзор».
    await supervisor.locator('#wall > h2').waitFor();
    await supervisor.getByRole('link', { name: 'Обзор' }).click();
    await supervisor.locator('#overview > h2').waitFor();
    const figures = supervisor.locator('#approval-figures');
    await figures.getByText('Ждут дольше рабочего дня').waitFor();
    // Ours and the sample KB's military script, waiting since 17.11.
    assert.match(await figures.innerText(), /Скрипты на согласовании\s*2/);
    assert.match(await figures.innerText(), /Ждут дольше рабочего дня\s*2/);
    await shot(supervisor, 'overview');
    await supervisor.close();
  });

  it('the approver approves, and only now the chat serves the new text', async () => {
    await chatAsks('нужно вызвать врача на дом', 'согласованный ответ пока не подготовлен');
    const page = await signIn('ivanova', 'Иванова');
    await openAnswers(page);
    const card = page.locator('.studio-queue article', { hasText: INTENT });
    await card.getByText('ждёт дольше рабочего дня').waitFor();
    await card.locator('[data-text="chat"] ins', { hasText: 'до 12:00.' }).waitFor();
    await card.getByRole('button', { name: 'Согласовать' }).click();
    await page.getByText('Ничего не ждёт согласования.').waitFor();
    await page.close();
    await chatAsks(
      'нужно вызвать врача на дом',
      'Вызовите врача на дом через регистратуру поликлиники до 12:00.',
    );
    const audit = await listAudit(db.sql, { object: `${INTENT}@v2` });
    assert.deepEqual(
      audit.map((a) => `${a.login} ${a.action}`),
      [
        'petrova answer.draft',
        'petrova answer.edit',
        'petrova answer.submit',
        'ivanova answer.return',
        'petrova answer.edit',
        'petrova answer.submit',
        'ivanova answer.approve',
      ],
    );
  });
});

/** The Subject header, decoded from its RFC 2047 words (nodemailer encodes Cyrillic). */
function decodeHeader(raw: string): string {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(head)?.[1] ?? '';
  return subject
    .replace(/\r\n[ \t]/g, '')
    .replace(/=\?utf-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeURIComponent(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
    );
}
