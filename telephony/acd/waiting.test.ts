/**
 * The queue's side of a caller's wait, on both backends: the place and expected wait, a callback request, an
 * overflow, a desk-accepted call's bridge and its failure. telephony/waiting-room.test.ts holds what the
 * caller hears of it through the FreeSWITCH stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { OperatorQueue } from '../queue.js';

for (const backend of backends) {
  describe(`a caller's wait in the queue (${backend})`, () => {
    let db: TestDb;
    let t: number;
    const now = () => new Date(t);
    let queue: OperatorQueue;

    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => db.drop());
    beforeEach(async () => {
      t = Date.parse('2026-03-02T09:00:00Z');
      await db.sql.exec(
        `DELETE FROM telephony_acd_offers; DELETE FROM telephony_queue_calls; DELETE FROM telephony_callbacks;
         DELETE FROM telephony_acd_members; DELETE FROM telephony_operators;
         DELETE FROM telephony_acd_queues WHERE id <> 'default';
         UPDATE telephony_acd_queues SET overflow_after_ms = NULL, overflow_to = NULL, announce_max = NULL;`,
      );
      queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now });
      for (const id of ['ivanova', 'petrov']) {
        await queue.upsertOperator({ id, name: id, sipUri: `sip:${id}@ops`, skills: [] });
        await queue.setMember('default', id);
      }
    });

    it('says the place and the expected wait from the recent handle time and the operators working', async () => {
      await queue.setPresence('ivanova', 'available');
      await queue.enqueueCall({ callId: 'done', topicId: null });
      await queue.assignNext();
      await queue.accept('done', 'ivanova');
      t += 90_000;
      await queue.closeConversation('done', 'ivanova');
      await queue.setPresence('petrov', 'break', 'обед');
      await queue.setPresence('ivanova', 'offline');
      for (const id of ['a', 'b', 'c']) {
        await queue.enqueueCall({ callId: id, topicId: null });
        t += 1_000;
      }
      const c = await queue.position('c');
      assert.deepEqual([c?.state, c?.position, c?.waitedMs], ['waiting', 3, 1_000]);
      assert.equal(c?.expectedWaitMs, null, 'nobody working: no honest estimate');
      await queue.setPresence('petrov', 'available');
      assert.equal((await queue.position('c'))?.expectedWaitMs, 3 * 90_000, 'one operator, 90 s a call');
      await queue.setPresence('ivanova', 'available');
      assert.equal((await queue.position('c'))?.expectedWaitMs, 2 * 90_000, 'two operators');
      assert.equal((await queue.position('a'))?.expectedWaitMs, 90_000);
      assert.equal(await queue.position('nobody'), null);
    });

    it('a callback request ends the wait once, with the number and the context', async () => {
      await queue.enqueueCall({ callId: 'a', topicId: 'health', context: { callerNumber: '+79005554433' } });
      t += 61_000;
      assert.equal(await queue.requestCallback('a', { phone: '+79005554433', source: 'caller' }), true);
      assert.equal(await queue.requestCallback('a', { phone: '+79005554433' }), false);
      const [cb] = await db.sql.query<{ phone: string; topic_id: string }>(
        'SELECT * FROM telephony_callbacks',
      );
      assert.deepEqual([cb?.phone, cb?.topic_id], ['+79005554433', 'health']);
      const [row] = await db.sql.query<{ state: string; past_norm: boolean; wait_ms: string }>(
        'SELECT state, past_norm, wait_ms FROM telephony_queue_calls',
      );
      assert.deepEqual([row?.state, row?.past_norm, Number(row?.wait_ms)], ['callback', true, 61_000]);
      assert.equal((await queue.position('a'))?.state, 'callback');
      const [event] = (await queue.events({ callId: 'a' })).filter((e) => e.event === 'callback');
      assert.deepEqual(event?.details, { source: 'caller' });
    });

    it('overflows once, where the queue settings say, keeping the wait', async () => {
      await assert.rejects(
        queue.upsertQueue({ id: 'default', overflowTo: 'queue:default' }),
        /Перелив очереди/,
      );
      await assert.rejects(
        queue.upsertQueue({ id: 'default', overflowTo: 'queue:reserve' }),
        /Очередь для перелива не найдена: reserve/,
      );
      await queue.upsertQueue({ id: 'reserve' });
      const q = await queue.upsertQueue({
        id: 'default',
        overflowAfterMs: 30_000,
        overflowTo: 'queue:reserve',
      });
      assert.deepEqual([q.overflowAfterMs, q.overflowTo, q.announceMax], [30_000, 'queue:reserve', 10]);
      await queue.enqueueCall({ callId: 'a', topicId: null });
      t += 29_999;
      assert.deepEqual(await queue.overflowDue(['a']), []);
      t += 1;
      const [due] = await queue.overflowDue(['a', 'elsewhere']);
      assert.deepEqual([due?.callId, due?.to], ['a', 'queue:reserve']);
      assert.equal(await queue.overflowToQueue('a', 'reserve'), true);
      const pos = await queue.position('a');
      assert.deepEqual([pos?.queueId, pos?.waitedMs], ['reserve', 30_000]);
      await queue.upsertQueue({ id: 'reserve', overflowAfterMs: 1, overflowTo: 'callback' });
      assert.deepEqual(await queue.overflowDue(['a']), [], 'once per call');
      await queue.upsertQueue({ id: 'default', overflowAfterMs: null, overflowTo: null });
      assert.equal((await queue.queue('default')).overflowTo, null);
    });

    it('a desk-accepted call is bridged once; a failed bridge puts it back at the head, the operator on break', async () => {
      await queue.enqueueCall({ callId: 'first', topicId: null });
      t += 1_000;
      await queue.enqueueCall({ callId: 'second', topicId: null });
      await queue.setPresence('ivanova', 'available');
      await queue.assignNext({ channel: 'text' });
      assert.equal((await queue.callState('first'))?.state, 'waiting', 'a phone call is not a chat');
      await queue.assignNext({ channel: 'phone' });
      await queue.accept('first', 'ivanova');
      assert.deepEqual(
        (await queue.unbridged(['first', 'second'])).map((u) => [u.callId, u.operatorId, u.sipUri]),
        [['first', 'ivanova', 'sip:ivanova@ops']],
      );
      assert.equal(await queue.requeue('first'), true);
      assert.equal(await queue.requeue('first'), false, 'only an answered, unbridged call');
      assert.equal((await queue.position('first'))?.position, 1);
      assert.equal((await queue.position('first'))?.waitedMs, 1_000, 'its wait goes on');
      const ivanova = await queue.operator('ivanova');
      assert.deepEqual([ivanova?.state, ivanova?.breakReason], ['break', 'phone_unreachable']);
      await queue.setPresence('petrov', 'available');
      const [offer] = await queue.assignNext({ channel: 'phone' });
      assert.equal(offer?.callId, 'first');
      await queue.accept('first', 'petrov');
      await queue.markBridged('first');
      assert.deepEqual(await queue.unbridged(['first']), []);
    });
  });
}
