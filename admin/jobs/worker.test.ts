import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { dispatchInquiry, smtpMailer } from '../../inquiries/dispatch.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { seedRegistered } from '../../test/support/inquiries.js';
import { decodeMail, startSmtp, waitFor } from '../../test/support/smtp.js';
import { startWorker } from './worker.js';

describe('inquiry relay to the responsible agency', () => {
  let db: TestDb;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let agencyEmail: string;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    smtp = await startSmtp();
    const [agency] = await db.sql.query<{ email: string }>(
      "SELECT a.email FROM topics t JOIN agencies a ON a.id = t.agency_id WHERE t.id = 'health'",
    );
    agencyEmail = agency!.email;
  });
  after(async () => {
    await smtp.close();
    await db.drop();
  });

  function newInquiry(question: string) {
    return seedRegistered(db.sql, { question, topicId: 'health', receivedAt: new Date() });
  }

  it('a BullMQ sweep sends a registered inquiry by mail to the topic agency, once', async () => {
    const inquiry = await newInquiry('можно ли получить направление на мрт без очереди');
    const worker = await startWorker({
      redisUrl: 'redis://127.0.0.1:6379',
      sql: db.sql,
      mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, '122@otklik.test'),
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix: `otklik-test-${randomUUID()}`,
    });
    try {
      await worker.sweepNow();
      const mail = await waitFor(
        () => smtp.received.find((m) => m.to.includes(agencyEmail)),
        'the mail to the agency',
      );
      const text = decodeMail(mail.body);
      assert.match(text, /можно ли получить направление на мрт без очереди/);
      assert.match(text, new RegExp(`обращение № ${inquiry.id}`));
      const [row] = await waitFor(async () => {
        const rows = await db.sql.query<{ status: string; dispatched_at: Date | null }>(
          'SELECT status, dispatched_at FROM inquiries WHERE id = $1',
          [inquiry.id],
        );
        return rows[0]?.dispatched_at ? rows : undefined;
      }, 'the inquiry marked dispatched');
      assert.equal(row!.status, 'dispatched');
      await worker.sweepNow();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(smtp.received.filter((m) => decodeMail(m.body).includes(`№ ${inquiry.id}`)).length, 1);
    } finally {
      await worker.close();
    }
  });

  it('a mail relay that is down is a retryable failure and the inquiry stays registered', async () => {
    const inquiry = await newInquiry('куда обратиться за справкой');
    await assert.rejects(
      dispatchInquiry(
        { sql: db.sql, mailer: smtpMailer('smtp://127.0.0.1:1', 'x@otklik.test'), log: silentLogger },
        inquiry.id,
      ),
      (err: Error & { code?: string; retryable?: boolean }) =>
        err.code === 'UNAVAILABLE' && err.retryable === true,
    );
    const [row] = await db.sql.query<{ status: string }>('SELECT status FROM inquiries WHERE id = $1', [
      inquiry.id,
    ]);
    assert.equal(row!.status, 'registered');
  });

  it('without mail configured the inquiry is flagged for a supervisor instead of being lost', async () => {
    const inquiry = await newInquiry('вопрос без почты');
    assert.equal(
      await dispatchInquiry({ sql: db.sql, mailer: null, log: silentLogger }, inquiry.id),
      'no_email',
    );
    const [row] = await db.sql.query<{ dispatch_error: string }>(
      'SELECT dispatch_error FROM inquiries WHERE id = $1',
      [inquiry.id],
    );
    assert.match(row!.dispatch_error, /SMTP_URL/);
  });
});
