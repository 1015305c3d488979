import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { simpleParser } from 'mailparser';
import { createCall, endCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { smtpMailer } from '../inquiries/dispatch.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { startSmtp, waitFor } from '../test/support/smtp.js';
import { startWorker } from './jobs/worker.js';
import { engineBuild } from './report-engine.js';
import { duePeriod, mailScheduledReports, saveSchedule } from './report-mail.js';

describe('the period a mailed report covers (Moscow)', () => {
  const tz = 'Europe/Moscow';
  it('daily: the previous local day, from the send hour on', () => {
    // 03:30 UTC is 06:30 in Moscow: before 07:00 nothing is due; at 07:00 the previous local day is.
    assert.equal(duePeriod('daily', 7, new Date('2026-03-04T03:30:00Z'), tz), null);
    assert.deepEqual(duePeriod('daily', 7, new Date('2026-03-04T04:00:00Z'), tz), {
      from: '2026-03-03',
      to: '2026-03-03',
    });
    // 22:30 UTC on 3 March is already 4 March in Moscow.
    assert.deepEqual(duePeriod('daily', 0, new Date('2026-03-03T22:30:00Z'), tz), {
      from: '2026-03-03',
      to: '2026-03-03',
    });
  });
  it('weekly: the previous Monday to Sunday, from Monday’s send hour on', () => {
    // Monday 9 March 2026, 06:00 Moscow: not yet; 08:00: 2–8 March; Wednesday still 2–8 March.
    assert.equal(duePeriod('weekly', 7, new Date('2026-03-09T03:00:00Z'), tz), null);
    assert.deepEqual(duePeriod('weekly', 7, new Date('2026-03-09T05:00:00Z'), tz), {
      from: '2026-03-02',
      to: '2026-03-08',
    });
    assert.deepEqual(duePeriod('weekly', 7, new Date('2026-03-11T12:00:00Z'), tz), {
      from: '2026-03-02',
      to: '2026-03-08',
    });
  });
});

for (const backend of backends) {
  describe(`mailed reports (${backend})`, () => {
    let db: TestDb;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;

    before(async () => {
      db = await openTestDb(backend);
      smtp = await startSmtp();
      // Calls on 2 and 3 March, Moscow time; the daily report of 4 March's morning covers 3 March only.
      for (const [id, at, outcome] of [
        ['m-1', '2026-03-02T12:00:00+03:00', 'answered'],
        ['m-2', '2026-03-03T09:00:00+03:00', 'answered'],
        ['m-3', '2026-03-03T18:00:00+03:00', 'escalated'],
        ['m-4', '2026-03-03T23:50:00+03:00', 'inquiry'],
      ] as const) {
        await createCall(db.sql, {
          id,
          channel: 'sip',
          callerNumber: '+79990000000',
          dialledNumber: '122',
          startedAt: new Date(at),
        });
        await endCall(db.sql, id, outcome, new Date(Date.parse(at) + 60_000));
      }
      await saveSchedule(
        db.sql,
        'daily',
        {
          enabled: true,
          recipients: ['Chief@minsoc.example', 'duty@122.example'],
          format: 'xlsx',
          by: 'day',
          sendHour: 7,
        },
        'sidorova',
        new Date('2026-03-01T10:00:00Z'),
      );
    });
    after(async () => {
      await smtp?.close();
      await db?.drop();
    });

    it('the worker mails the previous local day at the set clock, once, with the XLSX of its figures', async () => {
      const kb = createKnowledgeBase(db.sql);
      const build = engineBuild({ sql: db.sql, kb, defaultNormMs: 60_000 });
      let clock = new Date('2026-03-04T03:59:00Z'); // 06:59 in Moscow: not yet
      const worker = await startWorker({
        redisUrl: 'redis://127.0.0.1:6379',
        sql: db.sql,
        mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, '122@otklik.test'),
        log: silentLogger,
        sweepIntervalMs: 200,
        prefix: `otklik-test-${randomUUID()}`,
        reports: { build, timeZone: kb.timezone },
        now: () => clock,
      });
      try {
        await new Promise((r) => setTimeout(r, 800));
        assert.equal(smtp.received.length, 0, 'nothing before the send hour');
        clock = new Date('2026-03-04T04:05:00Z'); // 07:05 in Moscow
        const mail = await waitFor(() => smtp.received[0], 'the daily report mail');
        // The scheduled job keeps running every 200 ms: the period is never mailed again.
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(smtp.received.length, 1);
        assert.deepEqual(mail.to.sort(), ['chief@minsoc.example', 'duty@122.example']);
        const parsed = await simpleParser(mail.body);
        assert.match(parsed.subject ?? '', /ежедневный отчёт за 03\.03\.2026/);
        const [file] = parsed.attachments;
        assert.equal(file?.filename, 'otklik-122-2026-03-03-2026-03-03.xlsx');
        const book = new ExcelJS.Workbook();
        await book.xlsx.load(file!.content as unknown as ArrayBuffer);
        const sheet = book.worksheets[0]!;
        const head = sheet.getRow(1).values as unknown[];
        const row = sheet.getRow(2).values as unknown[];
        const at = (h: string) => row[head.indexOf(h)];
        assert.equal(at('Дата'), '2026-03-03');
        assert.equal(at('Поступило обращений'), 3);
        assert.equal(at('Решено ботом без оператора'), 1);
        const [mailing] = await db.sql.query<{ state: string }>(
          "SELECT state FROM admin_report_mailings WHERE kind = 'daily'",
        );
        assert.equal(mailing?.state, 'sent');
      } finally {
        await worker.close();
      }
      // Another node's sweep at the same clock finds the period mailed.
      const again = await mailScheduledReports({
        sql: db.sql,
        mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, '122@otklik.test'),
        build,
        timeZone: kb.timezone,
        log: silentLogger,
        now: () => clock,
      });
      assert.deepEqual(again, []);
      assert.equal(smtp.received.length, 1);
    });
  });
}
