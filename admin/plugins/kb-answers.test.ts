import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { smtpMailer } from '../../inquiries/dispatch.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { decodeMail, startSmtp } from '../../test/support/smtp.js';
import { signInStaff, staffRequest } from '../../test/support/staff-api.js';
import { mailAnswerNotices, setStaffEmail } from '../answer-notices.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { kbPlugin } from './kb.js';
import { kbAnswersPlugin } from './kb-answers.js';

/**
 * The answer studio's API on PostgreSQL, with a real SMTP server that is down for the first tries: a submit
 * is stored whatever the mail does, and the notice goes out on a later sweep, once; a return needs a
 * comment; an approver's queue holds only her agency's scripts, with the diff against the approved version.
 */
const password = 'пароль-для-студии-ответов';

describe('the answer studio API', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const tokens = new Map<string, string>();
  const at = new Date('2026-11-24T11:00:00+03:00');
  const now = () => at;
  const notices = () => ({
    sql: db.sql,
    log: silentLogger,
    mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, 'noreply@line122.example.ru'),
    now,
  });

  const asStaff = staffRequest(() => base, tokens);
  const call = (login: string, method: string, path: string, body?: unknown) =>
    asStaff(method, path, login, body);

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    smtp = await startSmtp({ outage: 3 });
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова', password });
    await addUser(db.sql, {
      login: 'ivanova',
      role: 'approver',
      name: 'Иванова',
      agency: 'minzdrav',
      password,
    });
    await addUser(db.sql, { login: 'orlov', role: 'approver', name: 'Орлов', agency: 'voenkomat', password });
    await setStaffEmail(db.sql, 'ivanova', 'Ivanova@Minzdrav.example.ru');
    await assert.rejects(setStaffEmail(db.sql, 'orlov', 'не адрес'));
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(kbPlugin, { sql: db.sql, now }),
        adminArea(kbAnswersPlugin, { sql: db.sql, log: silentLogger, now }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['petrova', 'ivanova', 'orlov']) {
      tokens.set(login, await signInStaff(base, login, password));
    }
  });
  after(async () => {
    await app?.close();
    await smtp?.close();
    await db?.drop();
  });

  it('drafts, edits and submits; the submit stands while the mail relay is down, and is mailed once later', async () => {
    const created = await call('petrova', 'POST', '/api/kb/answers/health.checkup/versions', {
      speech: 'Диспансеризацию проходят в поликлинике по месту прикрепления.',
      screen: 'Диспансеризация: поликлиника.',
      note: 'Короче',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const version = Number(created.body.version);
    const edited = await call('petrova', 'PUT', `/api/kb/answers/health.checkup/versions/${version}`, {
      chat: 'Диспансеризация — в вашей поликлинике.',
      handling: 'inquiry',
    });
    assert.equal(edited.body.chat, 'Диспансеризация — в вашей поликлинике.');
    assert.equal(edited.body.handling, 'inquiry');
    const submitted = await call(
      'petrova',
      'POST',
      `/api/kb/answers/health.checkup/versions/${version}/submit`,
      {},
    );
    assert.equal(submitted.status, 200);

    // The relay refuses the first connections: nothing is sent, the submit is kept, the next sweep mails it.
    await assert.rejects(mailAnswerNotices(notices()));
    const queue = await call('ivanova', 'GET', '/api/kb/approvals');
    const mine = (queue.body.approvals as Array<Record<string, unknown>>).filter(
      (p) => p.intentId === 'health.checkup',
    );
    assert.equal(mine.length, 1);
    const diff = mine[0]!.diff as { speech: Array<{ op: string; text: string }> };
    assert.ok(diff.speech.some((d) => d.op === 'del') && diff.speech.some((d) => d.op === 'add'));
    assert.equal(mine[0]!.overdue, false);
    for (let i = 0; i < 5 && !smtp.received.some((m) => m.to.includes('ivanova@minzdrav.example.ru')); i++)
      await mailAnswerNotices(notices()).catch(() => {});
    const mails = smtp.received.filter((m) => m.to.includes('ivanova@minzdrav.example.ru'));
    assert.equal(mails.length, 1);
    assert.match(decodeMail(mails[0]!.body), /Диспансеризация/);
    await mailAnswerNotices(notices());
    assert.equal(smtp.received.filter((m) => m.to.includes('ivanova@minzdrav.example.ru')).length, 1);

    // Another agency's approver neither sees it nor may return it.
    const other = await call('orlov', 'GET', '/api/kb/approvals');
    assert.ok(
      !(other.body.approvals as Array<{ intentId: string }>).some((p) => p.intentId === 'health.checkup'),
    );
    const refused = await call('orlov', 'POST', `/api/kb/answers/health.checkup/versions/${version}/return`, {
      comment: 'нет',
    });
    assert.equal(refused.body.code, 'APPROVER_OTHER_AGENCY');
  });

  it('a return needs a comment, and the editor sees it on her draft', async () => {
    const list = await call('ivanova', 'GET', '/api/kb/approvals?intent=health.checkup');
    const version = (list.body.approvals as Array<{ version: { version: number } }>)[0]!.version.version;
    const empty = await call('ivanova', 'POST', `/api/kb/answers/health.checkup/versions/${version}/return`, {
      comment: '   ',
    });
    assert.equal(empty.status, 400);
    const editorTries = await call(
      'petrova',
      'POST',
      `/api/kb/answers/health.checkup/versions/${version}/return`,
      {
        comment: 'сама себе',
      },
    );
    assert.equal(editorTries.status, 403);
    const back = await call('ivanova', 'POST', `/api/kb/answers/health.checkup/versions/${version}/return`, {
      comment: 'Укажите часы работы',
    });
    assert.equal(back.status, 200);
    const answers = await call('petrova', 'GET', '/api/kb/answers');
    const checkup = (
      answers.body.answers as Array<{ intentId: string; versions: Array<Record<string, unknown>> }>
    ).find((a) => a.intentId === 'health.checkup')!;
    const draft = checkup.versions.find((v) => v.version === version)!;
    assert.equal(draft.status, 'draft');
    assert.equal(draft.reviewNote, 'Укажите часы работы');
    assert.equal(draft.returnedBy, 'ivanova');
    const figures = await call('petrova', 'GET', '/api/kb/approvals/figures');
    assert.equal(typeof figures.body.pending, 'number');
  });
});
