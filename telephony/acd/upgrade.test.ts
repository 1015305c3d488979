/**
 * Upgrading a database from before the ACD (0307): operators keep their place, `busy` becomes `on_call`,
 * and calls waiting in the old queue stay waiting, in the default queue, at their old place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allSchemas } from '../../cli/schema.js';
import { migrate } from '../../store/migrate.js';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { schemasBefore } from '../../test/support/upgrade.js';
import { OperatorQueue, queuedCall } from '../queue.js';

for (const backend of backends) {
  describe(`upgrade to the ACD (${backend})`, () => {
    let db: TestDb;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'otklik-acd-upgrade-'));
      db = await openTestDb(backend, { migrate: false });
      await migrate(db.sql, schemasBefore(dir, 'telephony', '0307_acd.sql'));
      await db.sql.exec(`
        INSERT INTO telephony_operators (id, name, sip_uri, state, skills, idle_since) VALUES
          ('ivanova', 'Иванова', 'sip:ivanova@ops', 'busy', '["health"]', NULL),
          ('petrov', 'Петров', 'sip:petrov@ops', 'available', '["health"]', '2026-03-02T08:00:00Z');
        INSERT INTO telephony_queue_calls (call_id, topic_id, enqueued_at) VALUES
          ('old-2', 'health', '2026-03-02T09:00:30Z'), ('old-1', 'health', '2026-03-02T09:00:00Z');`);
      const ran = await migrate(db.sql, allSchemas);
      assert.equal(ran[0], '0307_acd');
    });
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps operators and waiting calls: busy is on_call, the calls wait in the default queue in order', async () => {
      const queue = new OperatorQueue(db.sql, {
        waitNormMs: 60_000,
        now: () => new Date('2026-03-02T09:01:00Z'),
      });
      assert.equal((await queue.operator('ivanova'))?.state, 'on_call');
      assert.equal((await queue.operator('petrov'))?.state, 'available');
      assert.equal((await queuedCall(db.sql, 'old-1'))?.queueId, 'default');
      assert.deepEqual(
        (await queue.assignNext()).map((a) => [a.callId, a.operatorId]),
        [['old-1', 'petrov']],
      );
      assert.equal((await queue.queue('default')).strategy, 'longest-idle-agent');
    });
  });
}
