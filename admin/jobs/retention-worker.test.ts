import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { silentLogger } from '../../core/log.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { leftOf, NOW, type SeededCall, seedCall } from '../../test/support/retention.js';
import { waitFor } from '../../test/support/smtp.js';
import { listAudit } from '../audit.js';
import { RETENTION_LOGIN } from './retention.js';
import { startWorker } from './worker.js';

const redisUrl = 'redis://127.0.0.1:6379';

describe('the worker schedules the retention job', () => {
  let db: TestDb;
  let dir: string;
  let old: SeededCall;
  let fresh: SeededCall;

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    dir = mkdtempSync(join(tmpdir(), 'otklik-retention-worker-'));
    old = await seedCall(db.sql, dir, 'w-old', 400);
    fresh = await seedCall(db.sql, dir, 'w-new', 5);
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('as a repeatable BullMQ job that runs at start with the worker’s clock', async () => {
    const prefix = `otklik-test-${randomUUID()}`;
    const kept = await leftOf(db.sql, fresh);
    const worker = await startWorker({
      redisUrl,
      sql: db.sql,
      mailer: null,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix,
      now: () => NOW,
      retention: {
        policy: { recordingsDays: 90, transcriptsDays: 180, chatsDays: 180, callerNumbersDays: 365 },
        intervalMs: 86_400_000,
      },
    });
    const queue = new Queue('otklik-inquiries', { connection: { url: redisUrl }, prefix });
    try {
      const scheduler = await queue.getJobScheduler('retention');
      assert.equal(Number(scheduler?.every), 86_400_000);
      const [run] = await waitFor(async () => {
        const rows = await listAudit(db.sql, { login: RETENTION_LOGIN, action: 'retention.run' });
        return rows.length > 0 ? rows : undefined;
      }, 'the retention job’s audit row');
      assert.equal(run!.details.source, 'worker');
      assert.equal(run!.details.now, NOW.toISOString());
      const left = await leftOf(db.sql, old);
      assert.deepEqual([left.turns, left.recordings, left.file, left.callerNumber], [0, 0, false, null]);
      assert.deepEqual(await leftOf(db.sql, fresh), kept);
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});
