import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { type AcdChange, OperatorQueue, queuedCall } from '../queue.js';
import { startDeskDispatcher } from './dispatcher.js';

/** The ACD's side of the operator desk: channels, SIP-less operators, notifications, moves and management. */
for (const backend of backends) {
  describe(`ACD for the desk (${backend})`, () => {
    let db: TestDb;
    let t: number;
    let queue: OperatorQueue;
    const now = () => new Date(t);
    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db.drop();
    });
    beforeEach(async () => {
      await db.sql.exec(`DELETE FROM telephony_queue_calls; DELETE FROM telephony_operators;
        DELETE FROM telephony_acd_events; DELETE FROM telephony_acd_queues WHERE id <> 'default';`);
      t = Date.parse('2026-03-02T09:00:00Z');
      queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, ringTimeoutMs: 20_000, wrapUpMs: 0, now });
    });

    it('offers phone calls only to operators with a SIP URI, and each channel to its own dispatcher', async () => {
      const chatOnly = await queue.operatorForLogin('anna', 'Анна Петрова');
      assert.deepEqual(
        { id: chatOnly.id, login: chatOnly.login, sipUri: chatOnly.sipUri, state: chatOnly.state },
        { id: 'anna', login: 'anna', sipUri: null, state: 'offline' },
      );
      await queue.setPresence('anna', 'available', null, { viaDesk: true });
      assert.equal((await queue.operator('anna'))?.desk, true);
      await queue.enqueueCall({ callId: 'p1', topicId: null, channel: 'phone' });
      t += 1000;
      await queue.enqueueCall({ callId: 't1', topicId: null, channel: 'text' });
      assert.deepEqual(await queue.assignNext({ channel: 'phone' }), [], 'no SIP URI: no phone offer');
      assert.deepEqual(
        (await queue.assignNext({ channel: 'text' })).map((a) => [a.callId, a.operatorId]),
        [['t1', 'anna']],
      );
      await queue.accept('t1', 'anna');
      await queue.closeConversation('t1', 'anna');
      // The supervisor gives her a SIP URI: now she takes the phone call too.
      await queue.saveOperator({ id: 'anna', name: 'Анна Петрова', sipUri: 'sip:anna@ops', skills: [] });
      assert.deepEqual(
        (await queue.assignNext({ channel: 'phone' })).map((a) => [
          a.callId,
          a.operatorId,
          a.operator.sipUri,
        ]),
        [['p1', 'anna', 'sip:anna@ops']],
      );
    });

    it('links a CLI operator whose id is the login, and keeps the login unique', async () => {
      await queue.upsertOperator({ id: 'boris', name: 'Борис', sipUri: 'sip:boris@ops', skills: ['health'] });
      const linked = await queue.operatorForLogin('boris', 'Борис Иванов');
      assert.equal(linked.login, 'boris');
      assert.equal(linked.sipUri, 'sip:boris@ops', 'the phone stays');
      await queue.saveOperator({ id: 'vera', name: 'Вера', skills: [] });
      await assert.rejects(queue.saveOperator({ id: 'vera', name: 'Вера', login: 'boris', skills: [] }), {
        code: 'CONFLICT',
      });
    });

    it('tells listeners of every act, and a listener that throws changes nothing', async () => {
      const heard: AcdChange[] = [];
      const off = queue.onChange((e) => heard.push(e));
      queue.onChange(() => {
        throw new Error('a closed stream');
      });
      await queue.saveOperator({ id: 'gleb', name: 'Глеб', sipUri: 'sip:gleb@ops', skills: [] });
      await queue.setPresence('gleb', 'available');
      await queue.enqueueCall({ callId: 'c1', topicId: null });
      await queue.assignNext();
      await queue.decline('c1', 'gleb');
      await queue.assignNext();
      t += 20_000;
      await queue.assignNext();
      off();
      await queue.abandon('c1');
      assert.deepEqual(
        heard.map((e) => [e.event, e.callId ?? null, e.operatorId ?? null]),
        [
          ['presence', null, 'gleb'],
          ['presence', null, 'gleb'],
          ['enqueued', 'c1', null],
          ['offered', 'c1', 'gleb'],
          ['declined', 'c1', 'gleb'],
          ['offered', 'c1', 'gleb'],
          ['no_answer', 'c1', 'gleb'],
          ['offered', 'c1', 'gleb'],
        ],
      );
    });

    it('moves a waiting call keeping its place; a transfer waits anew with the operator noted', async () => {
      await queue.upsertQueue({ id: 'health', name: 'Здравоохранение' });
      await queue.saveOperator({
        id: 'ira',
        name: 'Ира',
        skills: [],
        queues: [{ queueId: 'health', level: 2 }],
      });
      assert.deepEqual(await queue.memberships('ira'), [{ queueId: 'health', level: 2, position: 1 }]);
      await queue.setPresence('ira', 'available');
      await queue.enqueueCall({
        callId: 'm1',
        topicId: null,
        channel: 'text',
        context: { callerNumber: '+7999' },
      });
      await queue.assignNext();
      t += 5000;
      await queue.moveCall('m1', 'health');
      const moved = await queuedCall(db.sql, 'm1');
      assert.deepEqual(
        [moved?.queueId, moved?.state, moved?.enqueuedAt.getTime()],
        ['health', 'waiting', Date.parse('2026-03-02T09:00:00Z')],
      );
      assert.equal(
        (await queue.operator('ira'))?.state,
        'available',
        'the offer was withdrawn, not held against her',
      );
      await assert.rejects(queue.moveCall('m1', 'nowhere'), { code: 'NOT_FOUND' });
      await assert.rejects(queue.moveCall('nothing', 'health'), { code: 'NOT_FOUND' });
      const [offer] = await queue.assignNext();
      assert.equal(offer?.queueId, 'health');
      await queue.accept('m1', 'ira');
      await assert.rejects(queue.moveCall('m1', 'default'), { code: 'CONFLICT' });
      t += 60_000;
      await queue.transferConversation('m1', 'ira', 'default');
      const again = await queuedCall(db.sql, 'm1');
      assert.equal(again?.state, 'waiting');
      assert.equal(again?.queueId, 'default');
      assert.equal(again?.enqueuedAt.getTime(), t, 'a new wait');
      assert.equal(again?.context.callerNumber, '+7999', 'context kept');
      assert.deepEqual(again?.context.transfers, [
        { operatorId: 'ira', fromQueue: 'health', toQueue: 'default', at: new Date(t).toISOString() },
      ]);
      assert.equal((await queue.operator('ira'))?.talkMs, 60_000);
      const queues = await queue.queues();
      assert.deepEqual(
        queues.map((q) => [q.id, q.members.map((m) => m.operatorId)]),
        [
          ['default', []],
          ['health', ['ira']],
        ],
      );
      await assert.rejects(queue.removeQueue('default'), { code: 'CONFLICT' });
      await queue.removeOperator('ira');
      assert.equal(await queue.operator('ira'), null);
      assert.ok((await queue.events({ operatorId: 'ira' })).length > 0, 'her history stays');
      await queue.removeQueue('health');
      assert.deepEqual(
        (await queue.queues()).map((q) => q.id),
        ['default'],
      );
    });

    it('the desk dispatcher offers a chat at once when it is enqueued, not on the next tick', async () => {
      await queue.saveOperator({ id: 'lena', name: 'Лена', skills: [] });
      await queue.setPresence('lena', 'available');
      const dispatcher = startDeskDispatcher({
        queue,
        channel: 'text',
        intervalMs: 3_600_000,
        log: silentLogger,
      });
      try {
        await queue.enqueueCall({ callId: 'd1', topicId: null, channel: 'text' });
        await queue.enqueueCall({ callId: 'd2', topicId: null, channel: 'phone' });
        await dispatcher.round();
        assert.deepEqual(
          (await queue.offersFor('lena')).map((o) => o.callId),
          ['d1'],
        );
      } finally {
        await dispatcher.stop();
      }
    });
  });
}
