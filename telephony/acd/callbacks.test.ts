/**
 * Upgrading to the callbacks of [3/7] (0313): a callback row of the old shape (keyed by its call) keeps its
 * call as its id and waits as a pending queue callback; the queue's own insert keeps working with the defaults,
 * and such a callback keeps the caller's place when it is put back in the ACD.
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
  describe(`upgrade to callbacks with ids and states (${backend})`, () => {
    let db: TestDb;
    let dir: string;
    let t = Date.parse('2026-03-02T10:05:00Z');
    const now = () => new Date(t);
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'otklik-callbacks-upgrade-'));
      db = await openTestDb(backend, { migrate: false });
      await migrate(db.sql, schemasBefore(dir, 'telephony', '0313_callbacks.sql'));
      await db.sql.exec(`
        INSERT INTO telephony_queue_calls (call_id, topic_id, enqueued_at, state) VALUES
          ('old-call', 'health', '2026-03-02T09:00:00Z', 'callback');
        INSERT INTO telephony_callbacks (call_id, phone, topic_id, context, created_at) VALUES
          ('old-call', '+79001234567', 'health', '{"callerNumber": "+79001234567"}', '2026-03-02T09:02:00Z');`);
      assert.equal((await migrate(db.sql, allSchemas))[0], '0313_callbacks');
    });
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps the old callback (its id is its call), due at once at the caller’s place', async () => {
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
      const [old] = await queue.callbacks.list();
      assert.equal(old?.id, 'old-call');
      assert.equal(old?.source, 'queue');
      assert.equal(old?.state, 'pending');
      assert.equal(old?.attempts, 0);
      assert.equal(old?.maxAttempts, 3);
      assert.deepEqual(await queue.callbacks.enqueueDue(), ['old-call']);
      const entry = await queuedCall(db.sql, 'callback:old-call:1');
      assert.equal(entry?.enqueuedAt.toISOString(), '2026-03-02T09:00:00.000Z');
      assert.equal(entry?.topicId, 'health');
      // Once more changes nothing.
      assert.deepEqual(await queue.callbacks.enqueueDue(), []);
    });

    it('the queue’s own insert still works with the defaults; an operator’s callback needs no call', async () => {
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
      await queue.enqueueCall({
        callId: 'new-call',
        topicId: null,
        context: { callerNumber: '+79007654321' },
      });
      t += 61_000;
      // The caller pressed 1 at the norm: the queue's own insert (waiting-room's requestCallback).
      assert.equal(await queue.requestCallback('new-call', { phone: '+79007654321', source: 'queue' }), true);
      const mine = await queue.callbacks.create({ phone: '+79005550000', source: 'operator' });
      const other = await queue.callbacks.create({ phone: '+79005550001', source: 'operator' });
      assert.notEqual(mine.id, other.id);
      const byCall = (await queue.callbacks.list()).find((c) => c.callId === 'new-call');
      assert.equal(byCall?.state, 'pending');
      assert.equal(byCall?.source, 'queue');
      // A second callback for the same call is the same callback.
      const again = await queue.callbacks.create({
        phone: '+79007654321',
        source: 'caller',
        callId: 'new-call',
      });
      assert.equal(again.id, byCall?.id);
    });

    it('calls nobody at night: a queue callback due at 22:30 waits for 09:00; an operator’s asked time is kept', async () => {
      // 22:30 in Moscow (the seed region's default zone).
      t = Date.parse('2026-03-02T19:30:00Z');
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
      await db.sql.query("UPDATE telephony_callbacks SET state = 'done'");
      const late = await queue.callbacks.create({ phone: '+79001230000', source: 'queue' });
      const asked = await queue.callbacks.create({ phone: '+79001230001', source: 'operator' });
      assert.deepEqual(await queue.callbacks.enqueueDue(), [asked.id]);
      assert.equal(await queuedCall(db.sql, `callback:${late.id}:1`), null);
      t = Date.parse('2026-03-03T06:00:00Z');
      assert.deepEqual(await queue.callbacks.enqueueDue(), [late.id]);
    });

    it('an attempt whose telephony node died while dialling counts as failed, and the callback goes on', async () => {
      t = Date.parse('2026-03-03T08:00:00Z');
      const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
      await db.sql.query("UPDATE telephony_callbacks SET state = 'done'");
      const cb = await queue.callbacks.create({ phone: '+79001230002', source: 'queue' });
      await queue.callbacks.enqueueDue(cb.id);
      assert.equal((await queue.callbacks.startAttempt(`callback:${cb.id}:1`, 'ivanova'))?.state, 'dialling');
      assert.deepEqual(await queue.callbacks.openCount(), {
        pending: 0,
        scheduled: 0,
        dialling: 1,
        failed: 0,
      });
      t += 16 * 60_000;
      await queue.callbacks.enqueueDue();
      const after = await queue.callbacks.get(cb.id);
      assert.equal(after?.state, 'scheduled');
      assert.equal(after?.attempts, 1);
      assert.equal(after?.lastResult, 'failed');
      assert.deepEqual(await queue.callbacks.openCount(), {
        pending: 0,
        scheduled: 1,
        dialling: 0,
        failed: 0,
      });
    });
  });
}
