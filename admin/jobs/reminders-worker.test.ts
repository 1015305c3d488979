import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { smtpMailer } from '../../inquiries/dispatch.js';
import { ensureSeeded } from '../../kb/seed.js';
import { LINK_SECRET } from '../../test/support/agency-answer.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { seedRegistered } from '../../test/support/inquiries.js';
import { decodeMail, startSmtp, waitFor } from '../../test/support/smtp.js';
import { startWorker } from './worker.js';

/**
 * The worker's sweep (BullMQ on Redis) mails the inquiry with its signed answer link and Message-ID, reminds
 * the agency before its deadline and tells the supervisor after it, each once; the clock is the test's.
 */
const msk = (local: string) => new Date(`${local}+03:00`);

describe('the worker sends the answer link, the reminder and the escalation', () => {
  let db: TestDb;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    smtp = await startSmtp();
  });
  after(async () => {
    await smtp?.close();
    await db?.drop();
  });

  it('on the sweeps at the set times', async () => {
    let clock = msk('2026-11-24T11:00');
    const { id } = await seedRegistered(db.sql, { question: 'когда придёт пособие', receivedAt: clock });
    const worker = await startWorker({
      redisUrl: 'redis://127.0.0.1:6379',
      sql: db.sql,
      mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, '122@otklik.test'),
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix: `otklik-test-${randomUUID()}`,
      now: () => clock,
      mailFrom: '122@otklik.test',
      answerLink: { secret: LINK_SECRET, publicUrl: 'https://122.region.ru', graceMs: 86_400_000 },
      reminders: { beforeMs: 2 * 3_600_000, supervisorEmail: 'supervisor@otklik.test' },
    });
    const mentions = () => smtp.received.filter((m) => decodeMail(m.body).includes(`№ ${id}`));
    try {
      await worker.sweepNow();
      const mail = await waitFor(() => mentions()[0], 'the dispatch mail');
      assert.match(decodeMail(mail.body), /https:\/\/122\.region\.ru\/agency\/answer\?t=/);
      assert.match(mail.body, /^Message-ID: <inquiry-\d+\./im);
      await waitFor(async () => {
        const [r] = await db.sql.query<{ dispatch_message_id: string | null }>(
          'SELECT dispatch_message_id FROM inquiries WHERE id = $1',
          [id],
        );
        return r?.dispatch_message_id ?? undefined;
      }, 'the Message-ID on the row');
      clock = msk('2026-11-25T09:30');
      await worker.sweepNow();
      await worker.sweepNow();
      await waitFor(() => mentions()[1], 'the reminder');
      clock = msk('2026-11-25T11:05');
      await worker.sweepNow();
      await worker.sweepNow();
      const escalation = await waitFor(() => mentions()[2], 'the escalation');
      assert.deepEqual(escalation.to, ['supervisor@otklik.test']);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(mentions().length, 3, 'the dispatch, one reminder, one escalation');
      assert.match(decodeMail(mentions()[1]!.body), /истекает 25\.11\.2026, 11:00:00/);
    } finally {
      await worker.close();
    }
  });
});
