/**
 * The agency answers without an account: the dispatch mail (through a real SMTP server) carries a signed,
 * expiring link; through the real fastify app a valid link opens the form (200), an expired one gets a Russian
 * page with 410, a tampered one 403; the one answer is recorded as from the agency, becomes a KB draft for the
 * inquiry's intent, and a second is refused (409). The form itself in a real browser. The clock is the test's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { agencyAnswerPlugin } from '../admin/plugins/agency-answer.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { ensureSeeded } from '../kb/seed.js';
import { dispatchedInquiry, LINK_SECRET } from './support/agency-answer.js';
import { browserMissing, launchBrowser } from './support/browser.js';
import { openTestDb, type TestDb } from './support/db.js';
import { startSmtp } from './support/smtp.js';

const receivedAt = new Date('2026-11-24T11:00:00+03:00');
const DAY = 86_400_000;

describe('the agency answer link', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let clock = receivedAt;
  let staffToken: string;
  const link = () => ({ secret: LINK_SECRET, publicUrl: base, graceMs: 2 * DAY });

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    smtp = await startSmtp();
    await addUser(db.sql, {
      login: 'smirnova',
      role: 'supervisor',
      name: 'Смирнова Е. П.',
      password: 'пароль-руководителя',
    });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(inquiriesPlugin, { sql: db.sql, now: () => clock }),
        adminArea(agencyAnswerPlugin, {
          sql: db.sql,
          secret: LINK_SECRET,
          now: () => clock,
          rateLimit: { max: 40, timeWindowMs: 60_000 },
        }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'smirnova', password: 'пароль-руководителя' }),
    });
    staffToken = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await app?.close();
    await smtp?.close();
    await db?.drop();
  });

  it('mails a signed link, a Message-ID and the reference; the form shows no personal data', async () => {
    clock = receivedAt;
    const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink: link() });
    assert.match(sent.raw, /^Message-ID: <inquiry-\d+\.[^>]+@otklik\.test>/im);
    assert.match(sent.text, new RegExp(`Код обращения: \\[122-${sent.id}-${sent.agency.id}\\]`));
    assert.match(sent.text, /ссылка действует до 27\.11\.2026, 11:00:00/);
    const page = await fetch(sent.link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Ответ гражданину/);
    const res = await fetch(`${base}/api/agency-answer?t=${encodeURIComponent(sent.token)}`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.ok(!body.includes('9161234567') && !body.includes('123-45-67'), body);
    assert.ok(!body.includes('ivanova@mail.ru'), 'the e-mail is masked');
    const { inquiry } = JSON.parse(body) as {
      inquiry: { question: string; timezone: string; excerpt: unknown[] };
    };
    assert.match(inquiry.question, /Звоните \[скрыто\]/);
    assert.equal(inquiry.timezone, 'Europe/Moscow');
    assert.equal(inquiry.excerpt.length, 3);
  });

  it('an expired link: a Russian page with 410, and no answer taken', async () => {
    clock = receivedAt;
    const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink: link() });
    // Due 25 November 11:00 Moscow, the link 2 days longer: on the 27th at 11:00:01 it has expired.
    clock = new Date('2026-11-27T11:00:01+03:00');
    const page = await fetch(sent.link);
    assert.equal(page.status, 410);
    const html = await page.text();
    assert.match(html, /Срок действия ссылки истёк/);
    assert.match(html, /ответным письмом/);
    const post = await fetch(`${base}/api/agency-answer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ t: sent.token, text: 'Поздний ответ' }),
    });
    assert.equal(post.status, 410);
    assert.equal(((await post.json()) as { code: string }).code, 'LINK_EXPIRED');
    clock = new Date('2026-11-27T10:59:59+03:00');
    assert.equal((await fetch(sent.link)).status, 200, 'a second earlier it still opens');
  });

  it('a tampered link: 403 with a Russian page, whatever was changed', async () => {
    clock = receivedAt;
    const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink: link() });
    const [payload, signature] = sent.token.split('.') as [string, string];
    const other = Buffer.from(
      JSON.stringify([sent.id + 1, sent.agency.id, receivedAt.getTime() + 10 * DAY]),
    ).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const token of [`${other}.${signature}`, `${payload}.${flipped}`, payload, 'мусор', '']) {
      const page = await fetch(`${base}/agency/answer?t=${encodeURIComponent(token)}`);
      assert.equal(page.status, 403, token);
      assert.match(await page.text(), /Ссылка недействительна/);
    }
    const post = await fetch(`${base}/api/agency-answer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ t: `${other}.${signature}`, text: 'Подделка' }),
    });
    assert.equal(post.status, 403);
  });

  it('takes one answer as from the agency, makes a KB draft, and refuses a second (409)', async () => {
    clock = receivedAt;
    const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink: link() });
    clock = new Date('2026-11-24T15:00:00+03:00');
    const answer = (text: string) =>
      fetch(`${base}/api/agency-answer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ t: sent.token, text }),
      });
    const first = await answer('Пособие перечисляется до 25-го числа месяца.');
    assert.equal(first.status, 200);
    const { draft } = (await first.json()) as { draft: { intentId: string; version: number } };
    assert.equal(draft.intentId, 'social.benefits');
    const second = await answer('Другой ответ');
    assert.equal(second.status, 409);
    assert.match(
      ((await second.json()) as { message: string }).message,
      /уже получен 24\.11\.2026, 15:00:00/,
    );
    const [row] = await db.sql.query<Record<string, unknown>>(
      'SELECT answer_text, answered_by, answer_channel, answer_draft_intent_id, answer_draft_version, status FROM inquiries WHERE id = $1',
      [sent.id],
    );
    assert.deepEqual(row, {
      answer_text: 'Пособие перечисляется до 25-го числа месяца.',
      answered_by: `agency:${sent.agency.id}`,
      answer_channel: 'web',
      answer_draft_intent_id: 'social.benefits',
      answer_draft_version: draft.version,
      status: 'answered',
    });
    const version = (await createKbEditor(db.sql).versions('social.benefits')).find(
      (v) => v.version === draft.version,
    )!;
    assert.equal(version.status, 'draft', 'never approved by the answer');
    assert.equal(version.speech, 'Пособие перечисляется до 25-го числа месяца.');
    // Staff see it in «Обращения».
    const list = await fetch(`${base}/api/inquiries`, { headers: { authorization: `Bearer ${staffToken}` } });
    const listed = ((await list.json()) as { inquiries: Array<{ id: number; answerText: string | null }> })
      .inquiries;
    assert.equal(
      listed.find((i) => Number(i.id) === sent.id)?.answerText,
      'Пособие перечисляется до 25-го числа месяца.',
    );
  });

  it('limits the requests of one address', async () => {
    let limited = 0;
    for (let i = 0; i < 45; i++) if ((await fetch(`${base}/agency/answer?t=x`)).status === 429) limited++;
    assert.ok(limited > 0, 'some requests were refused with 429');
  });
});

describe('the agency answer form in a real browser', { skip: browserMissing }, () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let browser: Browser;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const clock = new Date('2026-11-24T12:00:00+03:00');

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    smtp = await startSmtp();
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(agencyAnswerPlugin, { sql: db.sql, secret: LINK_SECRET, now: () => clock })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.close();
    await db?.drop();
  });

  it('shows the question, the masked excerpt and the deadline; submits once; then says it is answered', async () => {
    const sent = await dispatchedInquiry(db.sql, smtp, {
      receivedAt: new Date('2026-11-24T11:00:00+03:00'),
      answerLink: { secret: LINK_SECRET, publicUrl: base, graceMs: 2 * DAY },
    });
    const page = await browser.newPage();
    await page.goto(sent.link);
    await page.getByText(`Обращение № ${sent.id}`).waitFor();
    const shown = await page.locator('main').innerText();
    assert.match(shown, /Срок ответа: 25 ноября 2026 г\.,? (в )?11:00 \(время региона, Europe\/Moscow\)/);
    assert.match(shown, /Когда придёт пособие на ребёнка\?/);
    assert.match(shown, /Мой телефон \[скрыто\], почта \[скрыто\]/);
    assert.ok(!shown.includes('916'), 'no phone number on the page');
    await page.getByLabel('Ответ гражданину').fill('Пособие придёт до 25-го числа.');
    await page.getByRole('button', { name: 'Отправить ответ' }).click();
    await page.getByText('Ответ принят').waitFor();
    await page.reload();
    await page.getByText(/Ответ на это обращение уже получен 24 ноября 2026 г\.,? (в )?12:00/).waitFor();
    assert.equal(await page.locator('#answer-form').isVisible(), false);
    const expired = await browser.newPage();
    await expired.goto(`${base}/agency/answer?t=${encodeURIComponent(`${sent.token}x`)}`);
    await expired.getByText('Ссылка недействительна').waitFor();
  });
});
