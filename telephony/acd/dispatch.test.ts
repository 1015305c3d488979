import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { OperatorQueue, type QueueOptions, queuedCall, seededRandom } from '../queue.js';

/** The test's own clock: waits, ring timeouts and wrap-ups are exact without sleeping. */
function manualClock(start = '2026-03-02T09:00:00Z') {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

const OPERATORS = ['anna', 'boris', 'vera', 'gleb'];

for (const backend of backends) {
  describe(`ACD: states and strategies (${backend})`, () => {
    let db: TestDb;
    let clock: ReturnType<typeof manualClock>;
    let queue: OperatorQueue;
    const make = (o: Partial<QueueOptions> = {}) =>
      new OperatorQueue(db.sql, { waitNormMs: 60_000, ringTimeoutMs: 20_000, now: clock.now, ...o });

    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db.drop();
    });
    beforeEach(async () => {
      await db.sql.exec(`DELETE FROM telephony_queue_calls; DELETE FROM telephony_operators;
        DELETE FROM telephony_acd_events; DELETE FROM telephony_acd_queues WHERE id <> 'default';
        UPDATE telephony_acd_queues SET strategy = 'longest-idle-agent', rr_last_operator = NULL,
          wait_norm_ms = NULL, wrap_up_ms = NULL, max_no_answer = NULL, ring_timeout_ms = NULL;`);
      clock = manualClock();
      queue = make();
      for (const id of OPERATORS)
        await queue.upsertOperator({ id, name: id, sipUri: `sip:${id}@ops`, skills: [] });
    });

    const available = async (...ids: string[]) => {
      for (const id of ids) {
        await queue.setPresence(id, 'available');
        clock.advance(1000);
      }
    };
    const offeredTo = async () => (await queue.assignNext()).map((a) => [a.callId, a.operatorId]);

    it('an offer goes offered → on_call → wrap_up → available, each step an event', async () => {
      await available('anna');
      await queue.enqueueCall({ callId: 'c1', topicId: null, context: { callerNumber: '+79990001122' } });
      clock.advance(4000);
      assert.deepEqual(await offeredTo(), [['c1', 'anna']]);
      const [offer] = await queue.offersFor('anna');
      assert.equal(offer?.callId, 'c1');
      assert.equal(offer?.waitedMs, 4000);
      assert.equal(offer?.queueId, 'default');
      assert.deepEqual(offer?.context, { callerNumber: '+79990001122' });
      assert.equal((await queue.operator('anna'))?.state, 'offered');
      clock.advance(2000);
      await queue.accept('c1', 'anna');
      assert.equal((await queue.operator('anna'))?.state, 'on_call');
      assert.deepEqual(await queue.offersFor('anna'), []);
      clock.advance(90_000);
      const closed = await queue.closeConversation('c1', 'anna', { outcome: 'answered' });
      assert.equal(closed.talkMs, 90_000);
      assert.equal((await queue.operator('anna'))?.state, 'wrap_up');
      await queue.enqueueCall({ callId: 'c2', topicId: null });
      clock.advance(9_999);
      assert.deepEqual(await offeredTo(), [], 'still writing notes: 10 s of wrap-up by default');
      clock.advance(1);
      assert.deepEqual(await offeredTo(), [['c2', 'anna']]);
      const anna = await queue.operator('anna');
      assert.equal(anna?.talkMs, 90_000);
      assert.equal(anna?.callsAnswered, 1);
      assert.deepEqual(
        (await queue.events({ callId: 'c1' })).map((e) => e.event),
        ['enqueued', 'offered', 'accepted', 'closed'],
      );
      assert.deepEqual(
        (await queue.events({ operatorId: 'anna' })).map((e) => [e.event, e.details.state ?? null]),
        [
          ['presence', 'available'],
          ['offered', null],
          ['accepted', null],
          ['closed', null],
          ['wrap_up_end', null],
          ['offered', null],
        ],
      );
      assert.equal((await queue.stats()).answered, 1);
    });

    it('a per-queue wrap-up and a topic queue with its members', async () => {
      await queue.upsertQueue({ id: 'health', name: 'Здравоохранение', wrapUpMs: 30_000 });
      await queue.setMember('health', 'boris');
      await queue.setMember('default', 'anna');
      await available('anna', 'boris');
      await queue.enqueueCall({ callId: 'h1', topicId: 'health' });
      await queue.enqueueCall({ callId: 'x1', topicId: 'transport' });
      assert.deepEqual(
        await offeredTo(),
        [
          ['h1', 'boris'],
          ['x1', 'anna'],
        ],
        'a member takes his queue; a topic without a queue goes to the default queue and its members',
      );
      assert.equal((await queue.queue('health')).wrapUpMs, 30_000);
      await queue.accept('h1', 'boris');
      await queue.closeConversation('h1', 'boris');
      clock.advance(29_000);
      await queue.assignNext();
      assert.equal((await queue.operator('boris'))?.state, 'wrap_up');
      clock.advance(1000);
      await queue.assignNext();
      assert.equal((await queue.operator('boris'))?.state, 'available');
    });

    it('a taken call is a CONFLICT for everyone else; declining what is not offered too', async () => {
      await available('anna', 'boris');
      await queue.enqueueCall({ callId: 'c1', topicId: null });
      await queue.assignNext();
      await assert.rejects(queue.accept('c1', 'boris'), { code: 'CONFLICT' });
      await assert.rejects(queue.decline('c1', 'boris'), { code: 'CONFLICT' });
      await queue.accept('c1', 'anna');
      await assert.rejects(queue.accept('c1', 'anna'), { code: 'CONFLICT' });
      await assert.rejects(queue.closeConversation('c1', 'boris'), { code: 'CONFLICT' });
      await assert.rejects(queue.closeConversation('nope', 'anna'), { code: 'NOT_FOUND' });
    });

    it('an operator who vanishes mid-offer loses nothing: the call goes back to the head of its queue', async () => {
      await available('anna');
      await queue.enqueueCall({ callId: 'first', topicId: null });
      clock.advance(1000);
      await queue.enqueueCall({ callId: 'second', topicId: null });
      assert.deepEqual(await offeredTo(), [['first', 'anna']]);
      // Anna closes the desk's tab: nobody accepts, nobody declines.
      await available('boris');
      clock.advance(18_000);
      assert.deepEqual(await offeredTo(), [['second', 'boris']], 'within the ring timeout the offer stands');
      await queue.decline('second', 'boris');
      await queue.setPresence('boris', 'break', 'перерыв');
      clock.advance(1000);
      await available('vera');
      assert.deepEqual(
        await offeredTo(),
        [
          ['first', 'vera'],
          ['second', 'anna'],
        ],
        'the lapsed call is first again, before the one behind it; anna is back at the end of the line',
      );
      const first = (await queue.events({ callId: 'first' })).map((e) => [e.event, e.operatorId]);
      assert.deepEqual(first, [
        ['enqueued', null],
        ['offered', 'anna'],
        ['no_answer', 'anna'],
        ['offered', 'vera'],
      ]);
      const anna = await queue.operator('anna');
      assert.equal(anna?.state, 'offered', 'one lapse is not max-no-answer: she is rung again');
      assert.equal(anna?.noAnswerCount, 1);
      // The wait is counted from the first enqueue: the caller's place and time are kept.
      clock.advance(5000);
      await queue.accept('first', 'vera');
      const stats = await queue.stats();
      assert.equal(stats.answered, 1);
      assert.equal(stats.avgWaitMs, 27_000);
    });

    it('max-no-answer in a row puts the operator on break with the reason', async () => {
      await queue.upsertQueue({ id: 'default', maxNoAnswer: 2 });
      await available('anna');
      await queue.enqueueCall({ callId: 'c1', topicId: null });
      await queue.assignNext();
      await queue.decline('c1', 'anna');
      assert.equal((await queue.operator('anna'))?.state, 'available');
      assert.deepEqual(await offeredTo(), [['c1', 'anna']]);
      clock.advance(20_000);
      assert.deepEqual(await offeredTo(), [], 'the second lapse: anna is on break, nobody else is there');
      const anna = await queue.operator('anna');
      assert.equal(anna?.state, 'break');
      assert.equal(anna?.breakReason, 'no_answer');
      assert.equal((await queue.callState('c1'))?.state, 'waiting');
      await queue.setPresence('anna', 'available');
      assert.equal((await queue.operator('anna'))?.noAnswerCount, 0);
      assert.deepEqual(await offeredTo(), [['c1', 'anna']]);
      await queue.accept('c1', 'anna');
    });

    it('presence: a break with a reason; going offline mid-offer returns the call without a penalty', async () => {
      await available('anna', 'boris');
      await queue.setPresence('boris', 'break', 'обед');
      const boris = await queue.operator('boris');
      assert.equal(boris?.state, 'break');
      assert.equal(boris?.breakReason, 'обед');
      await queue.enqueueCall({ callId: 'c1', topicId: null });
      assert.deepEqual(await offeredTo(), [['c1', 'anna']]);
      await queue.setPresence('anna', 'offline');
      const anna = await queue.operator('anna');
      assert.equal(anna?.state, 'offline');
      assert.equal(anna?.noAnswerCount, 0);
      assert.equal((await queue.callState('c1'))?.state, 'waiting');
      await assert.rejects(queue.setPresence('anna', 'on_call' as 'available'), {
        code: 'VALIDATION_FAILED',
      });
      await assert.rejects(queue.setPresence('nobody', 'available'), { code: 'NOT_FOUND' });
    });

    it('a caller who hangs up while the offer rings frees the operator without a penalty', async () => {
      await available('anna');
      await queue.enqueueCall({ callId: 'c1', topicId: null });
      await queue.assignNext();
      clock.advance(7000);
      await queue.abandon('c1');
      const anna = await queue.operator('anna');
      assert.equal(anna?.state, 'available');
      assert.equal(anna?.noAnswerCount, 0);
      assert.deepEqual(await queue.offersFor('anna'), []);
      await assert.rejects(queue.accept('c1', 'anna'), { code: 'CONFLICT' });
      assert.deepEqual(
        (await queue.events({ callId: 'c1' })).map((e) => e.event),
        ['enqueued', 'offered', 'withdrawn', 'abandoned'],
      );
      assert.equal((await queue.stats()).abandoned, 1);
    });

    it('caller priority: higher first, then the earlier call', async () => {
      await queue.enqueueCall({ callId: 'plain-early', topicId: null });
      clock.advance(1000);
      await queue.enqueueCall({ callId: 'vip', topicId: null, priority: 5 });
      clock.advance(1000);
      await queue.enqueueCall({ callId: 'plain-late', topicId: null });
      await available('anna', 'boris', 'vera');
      assert.deepEqual(await offeredTo(), [
        ['vip', 'anna'],
        ['plain-early', 'boris'],
        ['plain-late', 'vera'],
      ]);
      // A hand-off's priority is the composition root's rule (here: an emergency-adjacent reason first).
      const handOff = make({ priorityOf: (call) => (call.context.reason === 'emergency' ? 10 : 0) });
      const context = {
        reason: 'emergency',
        callerNumber: null,
        topic: null,
        intents: [],
        entities: [],
        transcript: [],
        answers: [],
      };
      await handOff.enqueue({ callId: 'e1', channel: 'sip', topicId: null, context, at: clock.now() });
      assert.equal((await queuedCall(db.sql, 'e1'))?.priority, 10);
    });

    it('top-down follows the tiers; fewest calls and least talk time pick as named', async () => {
      await queue.upsertQueue({ id: 'default', strategy: 'top-down', wrapUpMs: 0 });
      await queue.setMember('default', 'vera', { level: 1, position: 1 });
      await queue.setMember('default', 'anna', { level: 1, position: 2 });
      await queue.setMember('default', 'boris', { level: 2, position: 1 });
      await available('anna', 'boris', 'vera');
      await queue.enqueueCall({ callId: 't1', topicId: null });
      assert.deepEqual(await offeredTo(), [['t1', 'vera']]);
      await queue.accept('t1', 'vera');
      await queue.enqueueCall({ callId: 't2', topicId: null });
      await queue.enqueueCall({ callId: 't3', topicId: null });
      assert.deepEqual(await offeredTo(), [
        ['t2', 'anna'],
        ['t3', 'boris'],
      ]);
      await queue.accept('t2', 'anna');
      await queue.accept('t3', 'boris');
      clock.advance(100_000);
      await queue.closeConversation('t2', 'anna'); // anna: 1 call, 100 s
      clock.advance(50_000);
      await queue.closeConversation('t1', 'vera'); // vera: 1 call, 150 s
      await queue.closeConversation('t3', 'boris'); // boris: 1 call, 150 s
      await queue.setPresence('gleb', 'available'); // gleb: no calls, idle the shortest

      await queue.upsertQueue({ id: 'default', strategy: 'agent-with-fewest-calls' });
      await queue.enqueueCall({ callId: 'f1', topicId: null });
      assert.deepEqual(await offeredTo(), [['f1', 'gleb']]);
      await queue.accept('f1', 'gleb');
      clock.advance(200_000);
      await queue.closeConversation('f1', 'gleb'); // gleb: 1 call, 200 s

      await queue.upsertQueue({ id: 'default', strategy: 'agent-with-least-talk-time' });
      await queue.enqueueCall({ callId: 'l1', topicId: null });
      assert.deepEqual(await offeredTo(), [['l1', 'anna']]);
    });

    it('ring-all offers to everyone; the first accept wins, the others are free again without a penalty', async () => {
      await queue.upsertQueue({ id: 'default', strategy: 'ring-all' });
      await available('anna', 'boris', 'vera');
      await queue.enqueueCall({ callId: 'r1', topicId: null });
      assert.deepEqual(await offeredTo(), [
        ['r1', 'anna'],
        ['r1', 'boris'],
        ['r1', 'vera'],
      ]);
      assert.equal((await queue.offersFor('vera')).length, 1);
      await queue.accept('r1', 'boris');
      await assert.rejects(queue.accept('r1', 'anna'), { code: 'CONFLICT' });
      for (const id of ['anna', 'vera']) {
        const op = await queue.operator(id);
        assert.equal(op?.state, 'available', id);
        assert.equal(op?.noAnswerCount, 0, id);
      }
      assert.deepEqual(await queue.offersFor('vera'), []);
      assert.equal((await queue.callState('r1'))?.operatorId, 'boris');
    });

    it('round-robin goes round; random picks repeatably with a seeded generator', async () => {
      await queue.upsertQueue({ id: 'default', strategy: 'round-robin', wrapUpMs: 0 });
      await available(...OPERATORS);
      const picked: string[] = [];
      for (let i = 0; i < 6; i++) {
        await queue.enqueueCall({ callId: `rr${i}`, topicId: null });
        const [a] = await queue.assignNext();
        picked.push(a!.operatorId);
        await queue.accept(a!.callId, a!.operatorId);
        await queue.closeConversation(a!.callId, a!.operatorId);
      }
      assert.deepEqual(picked, ['anna', 'boris', 'gleb', 'vera', 'anna', 'boris']);

      await queue.upsertQueue({ id: 'default', strategy: 'random' });
      const draw = async (q: OperatorQueue, prefix: string) => {
        const out: string[] = [];
        for (let i = 0; i < 8; i++) {
          await q.enqueueCall({ callId: `${prefix}${i}`, topicId: null });
          const [a] = await q.assignNext();
          out.push(a!.operatorId);
          await q.accept(a!.callId, a!.operatorId);
          await q.closeConversation(a!.callId, a!.operatorId);
        }
        return out;
      };
      const one = await draw(make({ random: seededRandom(42) }), 'x');
      const two = await draw(make({ random: seededRandom(42) }), 'y');
      assert.deepEqual(one, two);
      assert.ok(new Set(one).size > 1, `more than one operator drawn: ${one}`);
    });

    it('abandoned and lost-past-norm counts are exact for a queue norm of 45 s', async () => {
      await queue.upsertQueue({ id: 'social', waitNormMs: 45_000 });
      const start = clock.now().getTime();
      const waits = { s44: 44_000, s45: 45_000, s46: 45_001, s120: 120_000 };
      for (const id of Object.keys(waits)) await queue.enqueueCall({ callId: id, topicId: 'social' });
      await queue.enqueueCall({ callId: 'answered-late', topicId: 'social' });
      await queue.enqueueCall({ callId: 'default-50', topicId: null });
      for (const [id, ms] of Object.entries(waits)) await queue.abandon(id, new Date(start + ms));
      await queue.abandon('default-50', new Date(start + 50_000)); // the default queue's norm: 60 s
      clock.advance(50_000);
      await available('anna');
      const [a] = await queue.assignNext();
      assert.equal(a?.callId, 'answered-late');
      await queue.accept('answered-late', 'anna');
      const social = await queue.stats({ queueId: 'social' });
      assert.equal(social.waitNormMs, 45_000);
      assert.equal(social.abandoned, 4);
      assert.equal(social.lost, 2, '45.001 s and 120 s are past the 45 s norm; 45 s itself is not');
      assert.equal(social.answered, 1);
      const all = await queue.stats();
      assert.equal(all.abandoned, 5);
      assert.equal(all.lost, 2, '50 s in the default queue is within its 60 s norm');
      assert.equal((await queue.events({ callId: 's120' })).at(-1)?.event, 'abandoned');
    });
  });
}
