import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../admin/audit.js';
import { RETENTION_LOGIN, type RetentionPolicy, runRetention } from '../admin/jobs/retention.js';
import { placeLegalHold } from '../calls/legal-hold.js';
import { getCall } from '../calls/records.js';
import { ensureSeeded } from '../kb/seed.js';
import { backends, openTestDb, type TestDb } from './support/db.js';
import { leftOf, NOW, NUMBER, type SeededCall, seedCall } from './support/retention.js';

const policy: RetentionPolicy = {
  recordingsDays: 90,
  transcriptsDays: 180,
  chatsDays: 30,
  callerNumbersDays: 365,
};

/** Everything a seeded call keeps, as seeded. */
const whole = (file: boolean | null, outbound = false) => ({
  callerNumber: NUMBER,
  dialledNumber: outbound ? NUMBER : '122',
  note: 'Гражданин Петров просил перезвонить',
  outboundTargets: outbound ? [NUMBER] : [],
  turns: 2,
  recordings: file === null ? 0 : 1,
  file,
  queueNumber: file === null ? null : NUMBER,
  queueTranscript: 1,
  callbackPhone: file === null ? null : NUMBER,
  inquiryNumber: NUMBER,
});

for (const backend of backends) {
  describe(`retention of personal data (${backend})`, () => {
    let db: TestDb;
    let dir: string;
    const c: Record<string, SeededCall> = {};

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      dir = mkdtempSync(join(tmpdir(), 'otklik-retention-'));
      c.old = await seedCall(db.sql, dir, 'old-phone', 400);
      c.held = await seedCall(db.sql, dir, 'held-phone', 400);
      c.outbound = await seedCall(db.sql, dir, 'old-outbound', 400, 'outbound');
      c.mid = await seedCall(db.sql, dir, 'mid-phone', 120);
      c.fresh = await seedCall(db.sql, dir, 'new-phone', 5);
      c.oldChat = await seedCall(db.sql, dir, 'old-chat', 60, 'chat');
      c.newChat = await seedCall(db.sql, dir, 'new-chat', 10, 'chat');
      await placeLegalHold(db.sql, 'held-phone', {
        by: 'sidorova',
        reason: 'запрос суда № 2-123/2026',
        at: NOW,
      });
    });
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a dry run removes nothing and says what it would remove', async () => {
      const before = await Promise.all(Object.values(c).map((x) => leftOf(db.sql, x)));
      const report = await runRetention(db.sql, policy, { now: NOW, dryRun: true, batch: 2 });
      const after = await Promise.all(Object.values(c).map((x) => leftOf(db.sql, x)));
      assert.deepEqual(after, before);
      assert.equal(report.dryRun, true);
      const ids = Object.fromEntries(report.kinds.map((k) => [k.kind, k.callIds]));
      assert.deepEqual(ids, {
        recordings: ['mid-phone', 'old-outbound', 'old-phone'],
        transcripts: ['mid-phone', 'old-outbound', 'old-phone'].filter((id) => id !== 'mid-phone'),
        chats: ['old-chat'],
        callerNumbers: ['old-outbound', 'old-phone'],
      });
      const recordings = report.kinds.find((k) => k.kind === 'recordings')!;
      assert.equal(recordings.tables[0]!.rows, 3);
      assert.equal(
        (await listAudit(db.sql, { login: RETENTION_LOGIN })).length,
        0,
        'a dry run audits nothing',
      );
    });

    it('removes only what is past its period, keeps the new and the held, and audits it', async () => {
      const report = await runRetention(db.sql, policy, { now: NOW, batch: 2, source: 'test' });
      assert.equal(report.held, 1);
      const none = {
        callerNumber: null,
        dialledNumber: '122',
        note: null,
        outboundTargets: [],
        turns: 0,
        recordings: 0,
        file: false,
        queueNumber: null,
        queueTranscript: null,
        callbackPhone: null,
        inquiryNumber: '',
      };
      assert.deepEqual(await leftOf(db.sql, c.old!), none);
      assert.deepEqual(await leftOf(db.sql, c.outbound!), {
        ...none,
        dialledNumber: '',
        outboundTargets: [null],
      });
      // 120 days: only the recording (90 days) is past its period.
      assert.deepEqual(await leftOf(db.sql, c.mid!), { ...whole(true), recordings: 0, file: false });
      assert.deepEqual(await leftOf(db.sql, c.fresh!), whole(true));
      assert.deepEqual(await leftOf(db.sql, c.held!), whole(true), 'a call on legal hold keeps everything');
      // The 60-day chat: its log (30 days) goes; chats keep no recording, callback or number here.
      assert.deepEqual(await leftOf(db.sql, c.oldChat!), {
        ...whole(null),
        callerNumber: null,
        note: null,
        turns: 0,
        queueTranscript: null,
      });
      assert.deepEqual(await leftOf(db.sql, c.newChat!), { ...whole(null), callerNumber: null });

      const card = await getCall(db.sql, 'old-phone');
      assert.deepEqual(card?.transcriptRemovedAt, NOW);
      assert.deepEqual(card?.callerNumberRemovedAt, NOW);
      assert.equal((await getCall(db.sql, 'held-phone'))?.legalHold?.reason, 'запрос суда № 2-123/2026');

      const audit = await listAudit(db.sql, { login: RETENTION_LOGIN });
      const removed = audit.filter((a) => a.action === 'retention.remove');
      const idsOf = (kind: string, table: string) =>
        removed
          .filter((a) => a.object === kind && a.details.table === table)
          .flatMap((a) => a.details.callIds as string[])
          .sort();
      assert.deepEqual(idsOf('recordings', 'telephony_recordings'), [
        'mid-phone',
        'old-outbound',
        'old-phone',
      ]);
      assert.deepEqual(idsOf('transcripts', 'call_turns'), ['old-outbound', 'old-phone']);
      assert.deepEqual(idsOf('chats', 'call_turns'), ['old-chat']);
      assert.deepEqual(idsOf('callerNumbers', 'calls'), ['old-outbound', 'old-phone']);
      assert.deepEqual(idsOf('callerNumbers', 'inquiries'), ['old-outbound', 'old-phone']);
      assert.deepEqual(idsOf('callerNumbers', 'telephony_callbacks'), ['old-outbound', 'old-phone']);
      // Batches of two: three recordings are two audit rows.
      assert.equal(removed.filter((a) => a.object === 'recordings').length, 2);
      const files = removed
        .filter((a) => a.object === 'recordings')
        .reduce((n, a) => n + Number(a.details.files), 0);
      assert.equal(files, 3);
      const text = JSON.stringify(audit);
      assert.ok(
        !text.includes('79161234567') && !text.includes('Петров'),
        'the audit holds no personal data',
      );
      const run = audit.find((a) => a.action === 'retention.run')!;
      assert.deepEqual(run.details.kinds, {
        recordings: { days: 90, calls: 3, rows: { telephony_recordings: 3 } },
        transcripts: { days: 180, calls: 2, rows: { call_turns: 4, telephony_queue_calls: 2 } },
        chats: { days: 30, calls: 1, rows: { call_turns: 2, telephony_queue_calls: 1 } },
        callerNumbers: {
          days: 365,
          calls: 2,
          rows: { calls: 2, telephony_queue_calls: 2, telephony_callbacks: 2, inquiries: 2 },
        },
      });
    });

    it('a second run finds nothing more; 0 days keeps a kind forever', async () => {
      const again = await runRetention(db.sql, policy, { now: NOW });
      assert.deepEqual(
        again.kinds.map((k) => k.callIds.length),
        [0, 0, 0, 0],
      );
      const forever = await runRetention(
        db.sql,
        { ...policy, recordingsDays: 0 },
        { now: new Date('2030-01-01'), dryRun: true },
      );
      const recordings = forever.kinds.find((k) => k.kind === 'recordings')!;
      assert.deepEqual([recordings.days, recordings.callIds], [null, []]);
      assert.ok(forever.kinds.find((k) => k.kind === 'transcripts')!.callIds.includes('new-phone'));
      assert.ok(!forever.kinds.find((k) => k.kind === 'transcripts')!.callIds.includes('held-phone'));
    });
  });
}
