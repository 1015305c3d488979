import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { ensureSeeded } from '../kb/seed.js';
import { dispatchedInquiry, LINK_SECRET } from '../test/support/agency-answer.js';
import { type Backend, openTestDb, type TestDb } from '../test/support/db.js';
import { startSmtp, waitFor } from '../test/support/smtp.js';
import { listInquiries } from './list.js';
import { ingestAgencyReply, replyText } from './mail-reply.js';

/**
 * An agency replies to the dispatch mail: the reply goes through a real SMTP server (npm smtp-server), is
 * captured there and piped into `otklik inquiries ingest-mail` (PostgreSQL: a child process opens it), and the
 * answer shows up for staff; on PGlite the same function in-process. Unmatched mail exits non-zero and is kept.
 */
const receivedAt = new Date('2026-11-24T11:00:00+03:00');
const root = new URL('../', import.meta.url).pathname;
const answerLink = { secret: LINK_SECRET, publicUrl: 'https://122.example.ru', graceMs: 86_400_000 };

type Smtp = Awaited<ReturnType<typeof startSmtp>>;

/** The agency's mail program: a reply above the quote and a signature, sent through the real SMTP server. */
async function reply(
  smtp: Smtp,
  dispatch: { raw: string },
  from: string,
  answer: string,
  opts: { threaded?: boolean } = {},
): Promise<string> {
  const original = await simpleParser(dispatch.raw);
  const before = smtp.received.length;
  const quoted = (original.text ?? '').split('\n').map((l) => `> ${l}`);
  await nodemailer.createTransport(`smtp://127.0.0.1:${smtp.port}`).sendMail({
    from,
    to: '122-answers@otklik.test',
    subject: `Re: ${original.subject}`,
    ...(opts.threaded !== false ? { inReplyTo: original.messageId, references: [original.messageId!] } : {}),
    text: [
      answer,
      '',
      '-- ',
      'С уважением, Петрова И. С.',
      '',
      `24.11.2026, 11:01, 122@otklik.test пишет:`,
      ...quoted,
    ].join('\n'),
  });
  return waitFor(() => smtp.received[before]?.body, 'the reply');
}

describe('replyText', () => {
  it('keeps what is above the quote and the signature', () => {
    assert.equal(replyText('Ответ: да.\n\n-- \nИванов\n> цитата'), 'Ответ: да.');
    assert.equal(replyText('Да.\r\n\r\nВт, 24 нояб. 2026 г. в 11:01, 122 <122@x.ru> пишет:\r\n> q'), 'Да.');
    assert.equal(replyText('Ок\n-----Original Message-----\nFrom: 122'), 'Ок');
    assert.equal(replyText('Первая строка\nвторая'), 'Первая строка\nвторая');
  });
});

for (const backend of ['pglite', 'postgres'] satisfies Backend[]) {
  describe(`an agency's mail reply becomes the answer (${backend})`, () => {
    let db: TestDb;
    let smtp: Smtp;
    let dir: string;

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      smtp = await startSmtp();
      dir = mkdtempSync(join(tmpdir(), 'otklik-ingest-'));
    });
    after(async () => {
      await smtp?.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** PostgreSQL: the real command in a child, the message on its stdin; PGlite: the same function here. */
    async function ingest(raw: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
      if (backend === 'pglite') {
        try {
          const r = await ingestAgencyReply(db.sql, raw, {
            secret: LINK_SECRET,
            now: new Date('2026-11-24T13:00:00+03:00'),
          });
          return { code: 0, stdout: `${r.inquiryId} ${r.matchedBy}`, stderr: '' };
        } catch (err) {
          return { code: 1, stdout: '', stderr: (err as Error).message };
        }
      }
      const env = {
        ...process.env,
        OTKLIK_DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        DATABASE_URL: db.url!,
        ANSWER_LINK_SECRET: LINK_SECRET,
        UNMATCHED_MAIL_DIR: join(dir, 'unmatched'),
      };
      const child = spawn(
        process.execPath,
        ['bin/otklik.js', 'inquiries', 'ingest-mail', '--now', '2026-11-24T10:00:00Z'],
        { cwd: root, env },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin.end(raw);
      return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
    }

    it('finds the inquiry by In-Reply-To, strips the quote and signature, and staff see the answer', async () => {
      const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink });
      const raw = await reply(
        smtp,
        sent,
        sent.agency.email!,
        'Пособие перечисляется до 25-го числа.\nСправки: окно 3.',
      );
      const result = await ingest(raw);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        backend === 'pglite'
          ? /message-id/
          : new RegExp(
              `обращение № ${sent.id} записан \\(message-id\\); черновик ответа в базе знаний: social\\.benefits v\\d+`,
            ),
      );
      const listed = (await listInquiries(db.sql, new Date('2026-11-24T13:00:00+03:00'))).find(
        (i) => Number(i.id) === sent.id,
      )!;
      assert.equal(listed.status, 'answered');
      assert.equal(listed.answerText, 'Пособие перечисляется до 25-го числа.\nСправки: окно 3.');
      const [row] = await db.sql.query<{
        answered_by: string;
        answer_channel: string;
        answer_draft_intent_id: string;
      }>('SELECT answered_by, answer_channel, answer_draft_intent_id FROM inquiries WHERE id = $1', [
        sent.id,
      ]);
      assert.deepEqual(
        { ...row },
        {
          answered_by: `agency:${sent.agency.id}`,
          answer_channel: 'mail',
          answer_draft_intent_id: 'social.benefits',
        },
      );
      // The same reply again: refused, and kept.
      const again = await ingest(raw);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /уже получен/);
    });

    it('without In-Reply-To, finds it by the signed link in the quoted text', async () => {
      const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt, answerLink });
      const raw = await reply(smtp, sent, 'someone@elsewhere.ru', 'Ответ по ссылке из цитаты.', {
        threaded: false,
      });
      const result = await ingest(raw);
      assert.equal(result.code, 0, result.stderr);
      const [row] = await db.sql.query<{ answer_text: string }>(
        'SELECT answer_text FROM inquiries WHERE id = $1',
        [sent.id],
      );
      assert.equal(row!.answer_text, 'Ответ по ссылке из цитаты.');
    });

    it('unmatched mail exits non-zero with a clear message and is kept', {
      skip: backend === 'pglite' && 'the command runs on PostgreSQL',
    }, async () => {
      const before = smtp.received.length;
      await nodemailer.createTransport(`smtp://127.0.0.1:${smtp.port}`).sendMail({
        from: 'spam@example.com',
        to: '122-answers@otklik.test',
        subject: 'Выгодное предложение [122-999999-нет]',
        text: 'Купите слона',
      });
      const raw = await waitFor(() => smtp.received[before]?.body, 'the stray mail');
      const result = await ingest(raw);
      assert.equal(result.code, 67);
      assert.match(result.stderr, /не удалось сопоставить с обращением/);
      const file = /письмо сохранено: (\S+)/.exec(result.stderr)?.[1];
      assert.ok(file, result.stderr);
      assert.ok(readdirSync(join(dir, 'unmatched')).length >= 1);
      assert.equal(readFileSync(file!, 'utf8'), raw);
    });
  });
}
