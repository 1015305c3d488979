import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { enqueueCall, OperatorQueue, queuedCall } from './queue.js';

/** A clock the test moves by hand, so waits are exact without sleeping. */
function manualClock(start = '2026-03-02T09:00:00Z') {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

for (const backend of backends) {
  describe(`operator queue (${backend})`, () => {
    let db: TestDb;
    let clock: ReturnType<typeof manualClock>;
    let queue: OperatorQueue;

    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db.drop();
    });
    beforeEach(async () => {
      await db.sql.exec(
        'DELETE FROM telephony_queue_calls; DELETE FROM telephony_operators; DELETE FROM telephony_callbacks;',
      );
      clock = manualClock();
      // No wrap-up here: these tests are about who gets a call; acd.test.ts holds wrap-up.
      queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now: clock.now });
      await queue.upsertOperator({
        id: 'ivanova',
        name: 'Иванова',
        sipUri: 'sip:ivanova@ops',
        skills: ['health'],
      });
      await queue.upsertOperator({
        id: 'petrov',
        name: 'Петров',
        sipUri: 'sip:petrov@ops',
        skills: ['health', 'military'],
      });
      await queue.upsertOperator({
        id: 'sidorova',
        name: 'Сидорова',
        sipUri: 'sip:sidorova@ops',
        skills: ['social'],
      });
    });

    it('gives a call to the longest idle operator with the skill', async () => {
      await queue.setOperatorState('petrov', 'available');
      clock.advance(1000);
      await queue.setOperatorState('ivanova', 'available');
      await queue.setOperatorState('sidorova', 'available');
      await queue.enqueueCall({ callId: 'c1', topicId: 'health', context: { transcript: ['хочу к врачу'] } });
      await queue.enqueueCall({ callId: 'c2', topicId: 'health' });
      const assigned = await queue.assignNext();
      assert.deepEqual(
        assigned.map((a) => [a.callId, a.operator.id]),
        [
          ['c1', 'petrov'],
          ['c2', 'ivanova'],
        ],
      );
      assert.deepEqual(assigned[0]!.context, { transcript: ['хочу к врачу'] });
      assert.equal(assigned[0]!.anyOperator, false);
      assert.equal((await queue.operator('sidorova'))!.state, 'available');
      assert.equal((await queue.operator('petrov'))!.state, 'offered');
    });

    it('rotates operators: the one who just finished goes to the back of the line', async () => {
      await queue.setOperatorState('ivanova', 'available');
      clock.advance(1000);
      await queue.setOperatorState('petrov', 'available');
      await queue.enqueueCall({ callId: 'c1', topicId: 'health' });
      assert.equal((await queue.assignNext())[0]!.operator.id, 'ivanova');
      await queue.answered('c1');
      clock.advance(5000);
      await queue.releaseOperator('ivanova');
      await queue.enqueueCall({ callId: 'c2', topicId: 'health' });
      assert.equal((await queue.assignNext())[0]!.operator.id, 'petrov');
    });

    it('opens a call to any operator after the wait norm, then turns it into a callback', async () => {
      await queue.setOperatorState('sidorova', 'available');
      await queue.enqueueCall({
        callId: 'c1',
        topicId: 'military',
        context: { callerNumber: '+79001234567' },
      });
      assert.deepEqual(await queue.assignNext(), [], 'nobody with the skill, still within the norm');
      clock.advance(60_000);
      const [late] = await queue.assignNext();
      assert.equal(late!.operator.id, 'sidorova');
      assert.equal(late!.anyOperator, true);
      assert.equal(late!.waitedMs, 60_000);

      await queue.enqueueCall({
        callId: 'c2',
        topicId: 'military',
        context: { callerNumber: '+79007654321' },
      });
      clock.advance(120_000);
      // The caller pressed 1 at the norm (telephony/waiting-room.ts): the wait ends with a callback request.
      assert.equal(await queue.requestCallback('c2', { phone: '+79007654321' }), true);
      assert.equal(
        await queue.requestCallback('c2', { phone: '+79007654321' }),
        false,
        'only a waiting call',
      );
      const callbacks = await db.sql.query<{ phone: string; topic_id: string }>(
        'SELECT * FROM telephony_callbacks',
      );
      assert.deepEqual(
        callbacks.map((c) => [c.phone, c.topic_id]),
        [['+79007654321', 'military']],
      );
      assert.equal((await queue.callState('c2'))!.state, 'callback');
    });

    it('puts a declined call back in its place and the operator at the end of the idle line', async () => {
      await queue.setOperatorState('ivanova', 'available');
      await queue.enqueueCall({ callId: 'c1', topicId: 'health' });
      await queue.assignNext();
      clock.advance(1000);
      await queue.setOperatorState('petrov', 'available');
      clock.advance(1000);
      await queue.declined('c1');
      const ivanova = (await queue.operator('ivanova'))!;
      assert.equal(ivanova.state, 'available');
      assert.equal(ivanova.noAnswerCount, 1);
      assert.equal((await queue.callState('c1'))!.state, 'waiting');
      assert.equal((await queue.assignNext())[0]!.operator.id, 'petrov');
    });

    it('counts offered, answered, abandoned and lost calls with average and p90 wait', async () => {
      await enqueueCall(db.sql, { callId: 'a1', topicId: 'health' }, clock.now());
      await enqueueCall(db.sql, { callId: 'a2', topicId: 'health' }, clock.now());
      await enqueueCall(db.sql, { callId: 'x1', topicId: 'health' }, clock.now());
      await enqueueCall(db.sql, { callId: 'x2', topicId: 'health' }, clock.now());
      await enqueueCall(db.sql, { callId: 'w1', topicId: 'health' }, clock.now());
      await enqueueCall(db.sql, { callId: 'w1', topicId: 'social' }, clock.now());
      await queue.setOperatorState('ivanova', 'available');
      clock.advance(10_000);
      await queue.assignNext();
      await queue.answered('a1');
      clock.advance(20_000);
      await queue.abandon('x1'); // 30 s: within the norm
      await queue.releaseOperator('ivanova');
      await queue.assignNext();
      await queue.answered('a2'); // 30 s
      clock.advance(50_000);
      await queue.abandon('x2'); // 80 s: past the norm, a lost call
      const stats = await queue.stats();
      assert.deepEqual(
        { ...stats },
        {
          offered: 5,
          answered: 2,
          abandoned: 2,
          lost: 1,
          callbacks: 0,
          waiting: 1,
          avgWaitMs: 37_500,
          p90WaitMs: 80_000,
          waitNormMs: 60_000,
        },
      );
    });

    it('never gives one operator two calls when two dispatchers run at once', async () => {
      await queue.setOperatorState('petrov', 'available');
      await queue.enqueueCall({ callId: 'c1', topicId: 'health' });
      await queue.enqueueCall({ callId: 'c2', topicId: 'health' });
      const other = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: clock.now });
      const [a, b] = await Promise.all([queue.assignNext(), other.assignNext()]);
      assert.equal(a.length + b.length, 1);
    });

    it("is the voice bot's hand-off: one record with the context, the wait on the call's own clock", async () => {
      const context = {
        reason: 'caller_request',
        callerNumber: '+79991234567',
        topic: 'health',
        intents: [
          { intent: 'service.operator', confidence: 0.93, atMs: 4200, text: 'соедините с оператором' },
        ],
        entities: [],
        transcript: [{ who: 'caller' as const, text: 'соедините с оператором', atMs: 4200 }],
        answers: [],
      };
      // A simulated call queued an hour before the queue's own clock: the wait is the call's.
      const at = new Date(clock.now().getTime() - 3_600_000);
      const call = { callId: 'h1', channel: 'simulator' as const, topicId: 'health', context, at };
      assert.equal(await queue.enqueue(call), 'queued');
      assert.equal(await queue.enqueue(call), 'queued', 'enqueuing again changes nothing');
      const queued = await queuedCall(db.sql, 'h1');
      assert.equal(queued?.state, 'waiting');
      assert.equal(queued?.topicId, 'health');
      assert.deepEqual(queued?.context, context);
      await queue.abandon('h1', new Date(at.getTime() + 30_000));
      assert.equal((await queuedCall(db.sql, 'h1'))?.state, 'abandoned');
      assert.equal((await queue.stats()).lost, 0, "30 s on the call's clock: within the norm");
      // Operators take calls on phones: a web chat is told it is unserved and never waits in the queue.
      assert.equal(await queue.enqueue({ ...call, callId: 'chat1', channel: 'text' }), 'unserved');
      assert.equal(await queuedCall(db.sql, 'chat1'), null);
    });

    it('rejects an operator without a SIP URI', async () => {
      await assert.rejects(queue.upsertOperator({ id: 'x', name: 'X', sipUri: '', skills: [] }), {
        code: 'VALIDATION_FAILED',
      });
      await assert.rejects(queue.setOperatorState('nobody', 'available'), { code: 'NOT_FOUND' });
    });
  });
}
