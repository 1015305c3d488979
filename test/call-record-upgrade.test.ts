/**
 * Upgrading a database made before the one call record: its telephony_calls rows become the SIP facts of the
 * calls rows (merged with the bot's row of the same call, or a row of their own), and its recording access
 * audit moves into the admin audit log; both old tables are gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../admin/audit.js';
import { getCall, markInterruptedCalls } from '../calls/records.js';
import { allSchemas } from '../cli/schema.js';
import { migrate } from '../store/migrate.js';
import { backends, openTestDb, type TestDb } from './support/db.js';
import { shippedSchemas } from './support/upgrade.js';

/** The migrations every part had shipped before calls took the SIP facts over (0103) and admin the access audit (0305). */
const shippedBefore = new Set([
  '0001_knowledge_base',
  '0002_answer_submitted_by',
  '0002_prompt_chat',
  '0100_call_records',
  '0101_call_instance',
  '0200_telephony',
  '0300_admin',
  '0304_admin_user_agency',
  '0400_inquiries',
]);

for (const backend of backends) {
  describe(`upgrade to one call record and one audit log (${backend})`, () => {
    let db: TestDb;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'otklik-upgrade-'));
      db = await openTestDb(backend, { migrate: false });
      const applied = await migrate(
        db.sql,
        shippedSchemas(dir, (_part, file) => shippedBefore.has(file.replace(/\.sql$/, ''))),
      );
      assert.deepEqual(applied, [...shippedBefore].sort());

      const t = (hhmmss: string) => new Date(`2026-03-02T${hhmmss}+03:00`);
      // The bot's row and telephony's row of one call, as the old code wrote them.
      await db.sql.query(
        `INSERT INTO calls (id, channel, caller_number, dialled_number, started_at, ended_at, outcome, status,
                            flow_id, instance_id)
         VALUES ('old-both', 'media', '+79001234567', '122', $1, $2, 'answered', 'completed', 'default', 'serve-1')`,
        [t('10:00:01'), t('10:02:00')],
      );
      const cdr = `INSERT INTO telephony_calls (call_id, channel_uuid, direction, from_number, to_number,
                     started_at, answered_at, ended_at, duration_ms, outcome, end_reason, legs)
                   VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11::jsonb)`;
      await db.sql.query(cdr, [
        'old-both',
        'uuid-both',
        'inbound',
        '+79001234567',
        '122',
        t('10:00:00'),
        t('10:02:01'),
        121_000,
        'bot',
        'bot_hangup',
        '[]',
      ]);
      // A call only telephony saw: the bot was down and the caller gave up in the queue.
      await db.sql.query(cdr, [
        'old-queue',
        'uuid-queue',
        'inbound',
        '+79005554433',
        '122',
        t('11:00:00'),
        t('11:03:00'),
        180_000,
        'abandoned',
        'caller_hangup',
        JSON.stringify([
          { kind: 'bot', status: 'unavailable: fork failed', at: t('11:00:00').toISOString() },
        ]),
      ]);
      // One telephony had not closed when the old version stopped.
      await db.sql.query(cdr, [
        'old-open',
        'uuid-open',
        'inbound',
        '',
        '122',
        t('12:00:00'),
        null,
        null,
        null,
        null,
        '[]',
      ]);
      await db.sql.query(
        `INSERT INTO telephony_recording_access (recording_id, user_id, role, granted, reason, at)
         VALUES ('rec-1', 'kuznetsov', 'operator', false, 'role', $1), ('rec-1', 'sidorova', 'supervisor', true, NULL, $2)`,
        [t('15:00:00'), t('15:01:00')],
      );
      await migrate(db.sql, allSchemas);
    });
    after(async () => {
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps each old call-detail record as the SIP facts of its call', async () => {
      const both = await getCall(db.sql, 'old-both');
      assert.deepEqual(
        [both?.channel, both?.outcome, both?.flowId, both?.status, both?.instanceId, both?.callerNumber],
        ['sip', 'answered', 'default', 'completed', 'serve-1', '+79001234567'],
      );
      assert.deepEqual(both?.startedAt, new Date('2026-03-02T10:00:00+03:00'), 'the call began at INVITE');
      assert.deepEqual(
        [both?.sip?.channelUuid, both?.sip?.outcome, both?.sip?.endReason, both?.sip?.durationMs],
        ['uuid-both', 'bot', 'bot_hangup', 121_000],
      );

      const queued = await getCall(db.sql, 'old-queue');
      assert.deepEqual(
        [queued?.channel, queued?.outcome, queued?.status, queued?.callerNumber, queued?.sip?.outcome],
        ['sip', null, 'completed', '+79005554433', 'abandoned'],
      );
      assert.deepEqual(queued?.endedAt, new Date('2026-03-02T11:03:00+03:00'));
      assert.equal(queued?.sip?.legs[0]?.status, 'unavailable: fork failed');

      const open = await getCall(db.sql, 'old-open');
      assert.deepEqual([open?.status, open?.callerNumber, open?.instanceId], ['active', null, null]);
      // Left without an owner: the first start after the upgrade marks it interrupted.
      assert.equal(await markInterruptedCalls(db.sql, 'serve-1'), 1);
      assert.equal((await getCall(db.sql, 'old-open'))?.status, 'interrupted');
    });

    it('moves the recording access audit into the audit log, and drops both old tables', async () => {
      const listens = await listAudit(db.sql, { action: 'recording.listen', object: 'rec-1' });
      assert.deepEqual(
        listens.map((a) => [a.login, a.details, a.at.toISOString()]),
        [
          ['kuznetsov', { granted: false, reason: 'role', role: 'operator' }, '2026-03-02T12:00:00.000Z'],
          ['sidorova', { granted: true, reason: null, role: 'supervisor' }, '2026-03-02T12:01:00.000Z'],
        ],
      );
      const [tables] = await db.sql.query<{ calls: string | null; access: string | null }>(
        `SELECT to_regclass('telephony_calls')::text AS calls, to_regclass('telephony_recording_access')::text AS access`,
      );
      assert.deepEqual(tables, { calls: null, access: null });
      assert.deepEqual(await migrate(db.sql, allSchemas), [], 'nothing left to apply');
    });
  });
}
