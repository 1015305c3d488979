import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createCall } from '../../calls/records.js';
import { queuedCall } from '../../telephony/queue.js';
import { backends } from '../../test/support/db.js';
import {
  CALLER,
  type DeskEnv,
  type Json,
  openDeskEnv,
  openStream,
  refused,
  resetQueue,
} from '../../test/support/desk.js';
import { listAudit } from '../audit.js';

/**
 * The operator desk's HTTP contract (../shared/contracts/desk-api.md) route by route, with its exact shapes
 * and error codes, through the real app, the real queue and the real store, on the test's clock.
 */
const iso = (ms: number) => new Date(ms).toISOString();
const START = Date.parse('2026-03-02T10:00:00+03:00');
const MASKED = '*********67';
const TRANSCRIPT = [
  { who: 'bot', text: 'Здравствуйте! Чем помочь?', atMs: 0 },
  {
    who: 'caller',
    text: 'Хочу записаться к врачу, позовите оператора',
    atMs: 1200,
    intent: 'health.appointment',
  },
];

for (const backend of backends) {
  describe(`operator desk API (${backend})`, () => {
    let env: DeskEnv;
    before(async () => {
      env = await openDeskEnv(backend);
    });
    after(async () => {
      await env.close();
    });
    beforeEach(async () => {
      await resetQueue(env);
      env.set(START);
    });

    it('walks the contract: presence, offer, accept, messages, note, close, and the call card', async () => {
      assert.deepEqual(await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' }), {
        status: 200,
        body: { state: 'available' },
      });
      const me = await env.api('kuznetsov', 'GET', '/api/desk/me');
      assert.deepEqual(me.body, {
        operator: {
          id: 'kuznetsov',
          name: 'Кузнецов Д. А.',
          login: 'kuznetsov',
          state: 'available',
          breakReason: null,
          stateSince: iso(START),
          sipUri: null,
          skills: [],
          queues: [],
        },
        conversations: [],
      });
      // An earlier call of the same caller: the conversation's history shows it.
      await createCall(env.db.sql, {
        id: 'old-1',
        channel: 'sip',
        callerNumber: CALLER,
        dialledNumber: '122',
        startedAt: new Date(START - 86_400_000),
      });
      await env.queued('t1', 'text');
      env.advance(4000);
      await env.queue.assignNext({ channel: 'text' });
      const offers = await env.api('kuznetsov', 'GET', '/api/desk/offers');
      assert.deepEqual(offers, {
        status: 200,
        body: {
          offers: [
            {
              callId: 't1',
              channel: 'text',
              topicId: null,
              queueId: 'default',
              waitedMs: 4000,
              caller: MASKED,
              transcript: TRANSCRIPT,
              intents: [{ intent: 'health.appointment', confidence: 0.91 }],
              expiresAt: iso(START + 4000 + 20_000),
              ringTimeoutMs: 20_000,
            },
          ],
        },
      });
      const outcomes = await env.api('kuznetsov', 'GET', '/api/desk/outcomes');
      assert.equal(outcomes.status, 200);
      assert.deepEqual(outcomes.body.outcomes.slice(0, 2), [
        { id: 'answered', title: 'Вопрос решён' },
        { id: 'forwarded', title: 'Переадресован в ведомство' },
      ]);
      assert.equal(outcomes.body.outcomes.length, 9);

      env.advance(3000);
      const accepted = await env.api('kuznetsov', 'POST', '/api/desk/offers/t1/accept');
      assert.equal(accepted.status, 200);
      assert.deepEqual(env.chats.acts, [['joined', 't1', 'Кузнецов Д. А.']]);
      assert.deepEqual((await env.api('kuznetsov', 'GET', '/api/desk/offers')).body, { offers: [] });
      const sent = await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/messages', {
        text: 'Здравствуйте! Сейчас запишу вас.',
      });
      assert.equal(sent.status, 201);
      assert.deepEqual(env.chats.acts[1], [
        'says',
        't1',
        'Кузнецов Д. А.',
        'Здравствуйте! Сейчас запишу вас.',
      ]);

      const conv = await env.api('kuznetsov', 'GET', '/api/desk/conversations/t1');
      assert.equal(conv.status, 200);
      assert.deepEqual(conv.body, {
        callId: 't1',
        channel: 'text',
        topicId: null,
        queueId: 'default',
        waitedMs: 7000,
        caller: MASKED,
        transcript: TRANSCRIPT,
        intents: [{ intent: 'health.appointment', confidence: 0.91 }],
        expiresAt: null,
        ringTimeoutMs: 20_000,
        state: 'answered',
        answeredAt: iso(START + 7000),
        operatorId: 'kuznetsov',
        entities: [{ type: 'date', text: 'завтра', value: '2026-03-03' }],
        answers: [
          {
            intent: 'health.appointment',
            answerVersion: 'health.appointment@v1',
            title: conv.body.answers[0].title,
          },
        ],
        note: null,
        transfers: [],
        callEnded: false,
        history: {
          calls: [{ id: 'old-1', startedAt: iso(START - 86_400_000), channel: 'sip', outcome: null }],
          inquiries: [],
        },
      });
      assert.ok((conv.body as Json).answers[0].title.length > 0);
      assert.ok(
        (await listAudit(env.db.sql, { action: 'desk.conversation.view', object: 't1' })).length >= 1,
        'opening a conversation is audited',
      );
      // Another operator sees the conversation but not the caller's history; the supervisor sees both.
      assert.equal((await env.api('orlova', 'GET', '/api/desk/conversations/t1')).body.history, null);
      const bySupervisor = await env.api('sidorova', 'GET', '/api/desk/conversations/t1');
      assert.equal(bySupervisor.body.caller, CALLER);
      assert.equal(bySupervisor.body.history.calls.length, 1);

      assert.deepEqual(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/note', { note: 'Записать на завтра' }),
        { status: 200, body: { note: 'Записать на завтра' } },
      );
      assert.equal(
        (await env.api('kuznetsov', 'GET', '/api/desk/conversations/t1')).body.note,
        'Записать на завтра',
      );
      refused(
        await env.api('orlova', 'POST', '/api/desk/conversations/t1/messages', { text: 'Я тоже тут' }),
        409,
        'CONFLICT',
      );
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/close', { outcome: 'nonsense' }),
        400,
        'VALIDATION_FAILED',
      );

      env.advance(90_000);
      const closed = await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/close', {
        outcome: 'answered',
        note: 'Записан к терапевту на 3 марта',
      });
      assert.equal(closed.status, 200);
      assert.deepEqual(env.chats.acts[2], ['closed', 't1', 'Кузнецов Д. А.']);
      const card = await env.api('sidorova', 'GET', '/api/calls/t1');
      assert.deepEqual(
        {
          operator: card.body.call.operator,
          operatorOutcome: card.body.call.operatorOutcome,
          operatorNote: card.body.call.operatorNote,
        },
        {
          operator: { id: 'kuznetsov', name: 'Кузнецов Д. А.' },
          operatorOutcome: 'answered',
          operatorNote: 'Записан к терапевту на 3 марта',
        },
      );
      const after = (await env.api('kuznetsov', 'GET', '/api/desk/me')).body;
      assert.deepEqual(after.conversations, [
        {
          callId: 't1',
          channel: 'text',
          topicId: null,
          queueId: 'default',
          state: 'closed',
          answeredAt: iso(START + 7000),
          callEnded: false,
          turns: 2,
        },
      ]);
      assert.equal(after.operator.state, 'available', 'no wrap-up in this line');
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/close', { outcome: 'answered' }),
        409,
        'CONFLICT',
      );
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/t1/messages', { text: 'ещё' }),
        409,
        'CONFLICT',
      );
    });

    it('answers 401, 403, 404, 409 and 400 as the contract says', async () => {
      refused(await env.api(null, 'GET', '/api/desk/offers'), 401, 'UNAUTHORIZED');
      refused(await env.api(null, 'PUT', '/api/desk/presence', { state: 'available' }), 401, 'UNAUTHORIZED');
      for (const [method, path, body] of [
        ['PUT', '/api/desk/presence', { state: 'available' }],
        ['GET', '/api/desk/offers', undefined],
        ['POST', '/api/desk/offers/x/accept', undefined],
        ['POST', '/api/desk/offers/x/decline', undefined],
        ['POST', '/api/desk/conversations/x/messages', { text: 'a' }],
        ['POST', '/api/desk/conversations/x/close', { outcome: 'answered' }],
        ['GET', '/api/desk/outcomes', undefined],
        ['GET', '/api/desk/me', undefined],
        ['GET', '/api/desk/conversations/x', undefined],
        ['GET', '/api/desk/scripts', undefined],
        ['GET', '/api/desk/events', undefined],
      ] as const)
        refused(await env.api('petrova', method, path, body), 403, 'FORBIDDEN');
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      refused(await env.api('kuznetsov', 'POST', '/api/desk/offers/nobody/accept'), 404, 'NOT_FOUND');
      refused(await env.api('kuznetsov', 'POST', '/api/desk/offers/nobody/decline'), 404, 'NOT_FOUND');
      refused(await env.api('kuznetsov', 'GET', '/api/desk/conversations/nobody'), 404, 'NOT_FOUND');
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/nobody/close', { outcome: 'answered' }),
        404,
        'NOT_FOUND',
      );
      refused(
        await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'asleep' }),
        400,
        'VALIDATION_FAILED',
      );
      refused(await env.api('kuznetsov', 'PUT', '/api/desk/presence', {}), 400, 'VALIDATION_FAILED');
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/x/messages', {}),
        400,
        'VALIDATION_FAILED',
      );
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/x/close', { note: 'x' }),
        400,
        'VALIDATION_FAILED',
      );
      // A phone call is offered to nobody without a SIP URI; accepting what is not offered is a 409.
      await env.queued('p1', 'phone');
      assert.deepEqual(await env.queue.assignNext({ channel: 'phone' }), []);
      refused(await env.api('kuznetsov', 'POST', '/api/desk/offers/p1/accept'), 409, 'CONFLICT');
      refused(await env.api('kuznetsov', 'POST', '/api/desk/offers/p1/decline'), 409, 'CONFLICT');
      // Messages go to chats only.
      await env.api('sidorova', 'PUT', '/api/desk/operators/kuznetsov', {
        name: 'Кузнецов Д. А.',
        sipUri: 'sip:kuznetsov@10.0.0.22',
        skills: [],
      });
      await env.queue.assignNext({ channel: 'phone' });
      assert.equal((await env.api('kuznetsov', 'POST', '/api/desk/offers/p1/accept')).status, 200);
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/p1/messages', { text: 'алло' }),
        409,
        'CONFLICT',
      );
      assert.equal(
        (await env.api('kuznetsov', 'POST', '/api/desk/conversations/p1/close', { outcome: 'info' })).status,
        200,
      );
      await env.api('sidorova', 'PUT', '/api/desk/operators/kuznetsov', {
        name: 'Кузнецов Д. А.',
        sipUri: null,
        skills: [],
      });
    });

    it('two operators racing to accept one offer: one 200, one 409', async () => {
      await env.api('sidorova', 'PUT', '/api/desk/queues/default', { strategy: 'ring-all' });
      for (const login of ['kuznetsov', 'orlova'])
        await env.api(login, 'PUT', '/api/desk/presence', { state: 'available' });
      await env.queued('r1', 'text');
      assert.equal((await env.queue.assignNext({ channel: 'text' })).length, 2, 'ring-all offers it to both');
      const answers = await Promise.all(
        ['kuznetsov', 'orlova'].map((login) => env.api(login, 'POST', '/api/desk/offers/r1/accept')),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
      refused(answers.find((a) => a.status === 409)!, 409, 'CONFLICT');
      const winner = answers[0]!.status === 200 ? 'kuznetsov' : 'orlova';
      assert.equal((await queuedCall(env.db.sql, 'r1'))?.operatorId, winner);
      assert.equal(env.chats.acts.filter((a) => a[0] === 'joined').length, 1, 'the chat is joined once');
    });

    it('a decline keeps the call its place in the queue', async () => {
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      env.advance(1000);
      await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' });
      await env.queued('d1', 'text');
      env.advance(1000);
      await env.queued('d2', 'text');
      await env.queue.assignNext({ channel: 'text' });
      assert.deepEqual(
        (await env.api('kuznetsov', 'GET', '/api/desk/offers')).body.offers.map((o: Json) => o.callId),
        ['d1'],
      );
      assert.deepEqual(
        (await env.api('orlova', 'GET', '/api/desk/offers')).body.offers.map((o: Json) => o.callId),
        ['d2'],
      );
      assert.deepEqual(await env.api('kuznetsov', 'POST', '/api/desk/offers/d1/decline'), {
        status: 200,
        body: { callId: 'd1' },
      });
      assert.equal((await queuedCall(env.db.sql, 'd1'))?.state, 'waiting');
      await env.queued('d3', 'text');
      env.advance(5000);
      await env.api('orlova', 'POST', '/api/desk/offers/d2/decline');
      await env.queue.assignNext({ channel: 'text' });
      // d1 is still first (it waited longest); d3, queued later, waits behind it.
      const offered = [
        ...(await env.api('kuznetsov', 'GET', '/api/desk/offers')).body.offers,
        ...(await env.api('orlova', 'GET', '/api/desk/offers')).body.offers,
      ].map((o: Json) => [o.callId, o.waitedMs]);
      assert.deepEqual(offered.sort(), [
        ['d1', 6000],
        ['d2', 5000],
      ]);
      assert.equal((await queuedCall(env.db.sql, 'd3'))?.state, 'waiting');
    });

    it('pushes an offer over SSE within a round; a stream closed mid-offer loses nothing', async () => {
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      const stream = await openStream(env, 'kuznetsov', '/api/desk/events');
      assert.equal(stream.status, 200);
      assert.match(stream.contentType ?? '', /^text\/event-stream/);
      const first = await stream.next();
      assert.equal(first.event, 'desk');
      assert.deepEqual(first.data.offers, []);
      assert.equal(first.data.operator.state, 'available');
      await env.queued('s1', 'text');
      env.advance(2000);
      await env.queued('s2', 'text');
      await env.queue.assignNext({ channel: 'text' });
      const pushed = await stream.next((d) => d.offers.length > 0);
      assert.deepEqual(
        pushed.data.offers.map((o: Json) => [o.callId, o.waitedMs, o.caller, o.ringTimeoutMs]),
        [['s1', 2000, MASKED, 20_000]],
      );
      // The desk's tab closes mid-offer: the offer rings to its timeout, then s1 is first in line again.
      stream.close();
      await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' });
      env.advance(19_999);
      await env.queue.assignNext({ channel: 'text' });
      assert.deepEqual(
        (await env.queue.offersFor('kuznetsov')).map((o) => o.callId),
        ['s1'],
        'still ringing',
      );
      assert.deepEqual(
        (await env.queue.offersFor('orlova')).map((o) => o.callId),
        ['s2'],
      );
      await env.api('orlova', 'POST', '/api/desk/offers/s2/decline');
      env.advance(1);
      await env.queue.assignNext({ channel: 'text' });
      const events = (await env.queue.events({ callId: 's1' })).map((e) => [e.event, e.operatorId]);
      assert.deepEqual(events.slice(-2), [
        ['no_answer', 'kuznetsov'],
        ['offered', 'orlova'],
      ]);
      const [again] = await env.queue.offersFor('orlova');
      assert.deepEqual(
        [again?.callId, again?.waitedMs],
        ['s1', 22_000],
        'at the head of its queue, its wait kept',
      );
    });

    it('transfers a chat to another queue and finds approved scripts, case-insensitively', async () => {
      await env.api('sidorova', 'PUT', '/api/desk/queues/health', { name: 'Здравоохранение' });
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      await env.queued('x1', 'text');
      await env.queue.assignNext({ channel: 'text' });
      await env.api('kuznetsov', 'POST', '/api/desk/offers/x1/accept');
      refused(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/x1/transfer', { queueId: 'nowhere' }),
        404,
        'NOT_FOUND',
      );
      assert.deepEqual(
        await env.api('kuznetsov', 'POST', '/api/desk/conversations/x1/transfer', { queueId: 'health' }),
        {
          status: 200,
          body: { callId: 'x1', queueId: 'health' },
        },
      );
      assert.deepEqual(env.chats.acts.at(-1), [
        'says',
        'x1',
        'Кузнецов Д. А.',
        'Переводим вас к другому специалисту',
      ]);
      const moved = await queuedCall(env.db.sql, 'x1');
      assert.deepEqual([moved?.state, moved?.queueId], ['waiting', 'health']);

      const found = await env.api(
        'kuznetsov',
        'GET',
        `/api/desk/scripts?q=${encodeURIComponent('ЗАПИСЬ НА ПРИЁМ')}`,
      );
      assert.equal(found.status, 200);
      assert.ok(found.body.scripts.some((s: Json) => s.intent === 'health.appointment'));
      for (const s of found.body.scripts) {
        assert.deepEqual(Object.keys(s).sort(), [
          'intent',
          'text',
          'title',
          'topicId',
          'topicTitle',
          'version',
        ]);
        assert.ok(`${s.title}\n${s.text}`.toLowerCase().includes('запись на приём'));
      }
      const health = (await env.api('kuznetsov', 'GET', '/api/desk/scripts?topic=health')).body.scripts;
      assert.ok(health.length > 0 && health.every((s: Json) => s.topicId === 'health'));
      assert.deepEqual((await env.api('kuznetsov', 'GET', '/api/desk/scripts?q=qqqzzz')).body, {
        scripts: [],
      });
    });
  });
}
