import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { ensureSeeded } from '../kb/seed.js';
import { dispatchedInquiry, LINK_SECRET, MAIL_FROM } from '../test/support/agency-answer.js';
import { type Backend, openTestDb, type TestDb } from '../test/support/db.js';
import { decodeMail, startSmtp } from '../test/support/smtp.js';
import { recordAnswerFromAgency } from './agency-answer.js';
import { smtpMailer } from './dispatch.js';
import { remindAndEscalate } from './reminders.js';

/**
 * Reminders two hours before an agency's deadline and the escalation to the supervisor after it, through a
 * real SMTP server, each sent once, at times the test sets (never the wall clock); on both stores.
 */
const msk = (local: string) => new Date(`${local}+03:00`);
const answerLink = { secret: LINK_SECRET, publicUrl: 'https://122.example.ru', graceMs: 86_400_000 };

for (const backend of ['pglite', 'postgres'] satisfies Backend[]) {
  describe(`inquiry reminders and escalation (${backend})`, () => {
    let db: TestDb;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      smtp = await startSmtp();
    });
    after(async () => {
      await smtp?.close();
      await db?.drop();
    });

    const run = (local: string) =>
      remindAndEscalate({
        sql: db.sql,
        mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, MAIL_FROM),
        log: silentLogger,
        now: () => msk(local),
        beforeMs: 2 * 3_600_000,
        supervisorEmail: 'supervisor@otklik.test',
      });

    it('reminds the agency once before the deadline and tells the supervisor once after it', async () => {
      // Received Tuesday 24 November 11:00: due Wednesday 25 November 11:00 (Moscow).
      const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt: msk('2026-11-24T11:00'), answerLink });
      const answered = await dispatchedInquiry(db.sql, smtp, {
        receivedAt: msk('2026-11-24T11:00'),
        answerLink,
      });
      await recordAnswerFromAgency(db.sql, {
        inquiryId: answered.id,
        agencyId: answered.agency.id,
        text: 'Ответ уже дан.',
        channel: 'web',
        now: msk('2026-11-24T12:00'),
      });
      const mails = smtp.received.length;
      assert.deepEqual(await run('2026-11-25T08:59'), { reminders: 0, escalations: 0 }, 'too early');
      assert.deepEqual(await run('2026-11-25T09:00'), { reminders: 1, escalations: 0 });
      assert.deepEqual(await run('2026-11-25T10:30'), { reminders: 0, escalations: 0 }, 'sent once');
      assert.deepEqual(
        await run('2026-11-25T11:00'),
        { reminders: 0, escalations: 1 },
        'the deadline passed',
      );
      assert.deepEqual(await run('2026-11-26T11:00'), { reminders: 0, escalations: 0 }, 'escalated once');
      const [reminder, escalation] = smtp.received.slice(mails);
      assert.equal(smtp.received.length, mails + 2);
      assert.deepEqual(reminder!.to, [sent.agency.email]);
      assert.match(
        decodeMail(reminder!.body),
        new RegExp(`Срок ответа на обращение № ${sent.id} истекает 25\\.11\\.2026, 11:00:00`),
      );
      assert.deepEqual(escalation!.to, ['supervisor@otklik.test']);
      assert.match(
        decodeMail(escalation!.body),
        new RegExp(`Срок ответа на обращение № ${sent.id} истёк 25\\.11\\.2026, 11:00:00`),
      );
      const [row] = await db.sql.query<{ reminder_sent_at: Date; escalated_at: Date }>(
        'SELECT reminder_sent_at, escalated_at FROM inquiries WHERE id = $1',
        [sent.id],
      );
      assert.deepEqual(row!.reminder_sent_at, msk('2026-11-25T09:00'));
      assert.deepEqual(row!.escalated_at, msk('2026-11-25T11:00'));
    });

    it('a failed mail is tried again on the next sweep, not lost', async () => {
      const sent = await dispatchedInquiry(db.sql, smtp, { receivedAt: msk('2026-11-26T11:00'), answerLink });
      const broken = await remindAndEscalate({
        sql: db.sql,
        mailer: smtpMailer('smtp://127.0.0.1:1', MAIL_FROM),
        log: silentLogger,
        now: () => msk('2026-11-27T09:30'),
        beforeMs: 2 * 3_600_000,
      });
      assert.deepEqual(broken, { reminders: 0, escalations: 0 });
      assert.deepEqual(await run('2026-11-27T09:31'), { reminders: 1, escalations: 0 });
      const [row] = await db.sql.query<{ reminder_sent_at: Date }>(
        'SELECT reminder_sent_at FROM inquiries WHERE id = $1',
        [sent.id],
      );
      assert.deepEqual(row!.reminder_sent_at, msk('2026-11-27T09:31'));
    });
  });
}
