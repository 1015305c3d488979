import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { queuedCall } from '../../telephony/queue.js';
import { backends } from '../../test/support/db.js';
import {
  type DeskEnv,
  type Json,
  openDeskEnv,
  openStream,
  refused,
  resetQueue,
} from '../../test/support/desk.js';
import { listAudit } from '../audit.js';

/**
 * The supervisor's side of the desk: the wall's figures (exact, on a 30 s norm), changing an operator's state,
 * moving a waiting call, managing operators and queues, and who may do it.
 */
const START = Date.parse('2026-03-02T10:00:00+03:00');
const iso = (ms: number) => new Date(ms).toISOString();

for (const backend of backends) {
  describe(`supervisor's wall and management (${backend})`, () => {
    let env: DeskEnv;
    before(async () => {
      env = await openDeskEnv(backend, { waitNormMs: 30_000 });
    });
    after(async () => {
      await env.close();
    });
    beforeEach(async () => {
      await resetQueue(env);
      env.set(START);
    });

    /** A call answered by kuznetsov after `waitMs`, talked `talkMs`. */
    async function answered(callId: string, waitMs: number, talkMs: number) {
      await env.queued(callId, 'text');
      env.advance(waitMs);
      await env.queue.assignNext({ channel: 'text' });
      assert.equal((await env.api('kuznetsov', 'POST', `/api/desk/offers/${callId}/accept`)).status, 200);
      env.advance(talkMs);
      await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/close`, { outcome: 'answered' });
    }

    it("shows today's figures against a 30 s norm, the queues' calls and the operators", async () => {
      // Yesterday's call is not today's.
      env.set(START - 86_400_000);
      await env.queued('y1', 'text');
      env.advance(100_000);
      await env.queue.abandon('y1');
      env.set(START);
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      await answered('w1', 10_000, 60_000); // within the norm
      await answered('w2', 40_000, 120_000); // past 30 s (it would be within a 60 s norm)
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'break', reason: 'обед' });
      await env.queued('w3', 'text');
      env.advance(35_000);
      await env.queue.abandon('w3'); // lost: past the norm
      await env.queued('w4', 'text');
      env.advance(5000);
      await env.queue.abandon('w4');
      await env.queued('w5', 'text');
      env.advance(12_000);
      const wall = await env.api('sidorova', 'GET', '/api/desk/wall');
      assert.equal(wall.status, 200);
      assert.deepEqual(wall.body.figures, {
        offered: 5,
        answered: 2,
        abandoned: 2,
        lost: 1,
        serviceLevel: 0.2,
        asaMs: 25_000,
        ahtMs: 90_000,
        waitNormMs: 30_000,
        callbacksPending: 0,
      });
      assert.deepEqual(wall.body.queues, [
        {
          id: 'default',
          name: 'Общая очередь',
          strategy: 'longest-idle-agent',
          waitNormMs: 30_000,
          waiting: 1,
          longestWaitMs: 12_000,
          calls: [
            {
              callId: 'w5',
              channel: 'text',
              topicId: null,
              waitedMs: 12_000,
              state: 'waiting',
              operatorId: null,
            },
          ],
        },
      ]);
      const kuznetsov = wall.body.operators.find((o: Json) => o.id === 'kuznetsov');
      assert.deepEqual(kuznetsov, {
        id: 'kuznetsov',
        name: 'Кузнецов Д. А.',
        login: 'kuznetsov',
        state: 'break',
        breakReason: 'обед',
        stateSince: iso(START + 10_000 + 60_000 + 40_000 + 120_000),
        callsAnswered: 2,
        talkMs: 180_000,
      });
      const stream = await openStream(env, 'sidorova', '/api/desk/wall/events');
      const first = await stream.next();
      assert.equal(first.event, 'wall');
      assert.deepEqual(first.data, wall.body);
      await env.queued('w6', 'text');
      const pushed = await stream.next((d) => d.queues[0].waiting === 2);
      assert.deepEqual(
        pushed.data.queues[0].calls.map((c: Json) => c.callId),
        ['w5', 'w6'],
      );
      stream.close();
    });

    it("changes an operator's state and moves a waiting call to another queue", async () => {
      await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'available' });
      assert.deepEqual(
        await env.api('sidorova', 'PUT', '/api/desk/operators/kuznetsov/state', {
          state: 'break',
          reason: 'обучение',
        }),
        { status: 200, body: { state: 'break' } },
      );
      const me = (await env.api('kuznetsov', 'GET', '/api/desk/me')).body.operator;
      assert.deepEqual([me.state, me.breakReason], ['break', 'обучение']);
      refused(
        await env.api('sidorova', 'PUT', '/api/desk/operators/nobody/state', { state: 'offline' }),
        404,
        'NOT_FOUND',
      );
      refused(
        await env.api('sidorova', 'PUT', '/api/desk/operators/kuznetsov/state', { state: 'on_call' }),
        400,
        'VALIDATION_FAILED',
      );
      await env.api('sidorova', 'PUT', '/api/desk/queues/health', { name: 'Здравоохранение' });
      await env.queued('m1', 'text');
      env.advance(7000);
      assert.deepEqual(await env.api('sidorova', 'POST', '/api/desk/calls/m1/move', { queueId: 'health' }), {
        status: 200,
        body: { callId: 'm1', queueId: 'health' },
      });
      const wall = (await env.api('sidorova', 'GET', '/api/desk/wall')).body;
      assert.deepEqual(
        wall.queues.map((q: Json) => [q.id, q.calls.map((c: Json) => [c.callId, c.waitedMs])]),
        [
          ['default', []],
          ['health', [['m1', 7000]]],
        ],
        'moved with its wait',
      );
      refused(
        await env.api('sidorova', 'POST', '/api/desk/calls/m1/move', { queueId: 'nowhere' }),
        404,
        'NOT_FOUND',
      );
      refused(
        await env.api('sidorova', 'POST', '/api/desk/calls/nobody/move', { queueId: 'default' }),
        404,
        'NOT_FOUND',
      );
      await env.api('sidorova', 'PUT', '/api/desk/operators/kuznetsov/state', { state: 'available' });
      await env.queue.assignNext({ channel: 'text' });
      await env.api('kuznetsov', 'POST', '/api/desk/offers/m1/accept');
      refused(
        await env.api('sidorova', 'POST', '/api/desk/calls/m1/move', { queueId: 'default' }),
        409,
        'CONFLICT',
      );
      assert.equal((await listAudit(env.db.sql, { action: 'desk.call.move', object: 'm1' })).length, 1);
      assert.equal(
        (await listAudit(env.db.sql, { action: 'desk.operator.state', object: 'kuznetsov' })).length,
        2,
      );
    });

    it('creates, changes and deletes an operator and a queue', async () => {
      const q = await env.api('sidorova', 'PUT', '/api/desk/queues/social', {
        name: 'Социальная защита',
        strategy: 'top-down',
        waitNormMs: 45_000,
      });
      assert.deepEqual(q, {
        status: 200,
        body: {
          queue: {
            id: 'social',
            name: 'Социальная защита',
            strategy: 'top-down',
            waitNormMs: 45_000,
            wrapUpMs: 0,
            maxNoAnswer: 3,
            ringTimeoutMs: 20_000,
            overflowAfterMs: null,
            overflowTo: null,
            announceMax: 10,
            members: [],
          },
        },
      });
      refused(
        await env.api('sidorova', 'PUT', '/api/desk/queues/social', { strategy: 'fastest' }),
        400,
        'VALIDATION_FAILED',
      );
      const created = await env.api('sidorova', 'PUT', '/api/desk/operators/ivanova', {
        name: 'Иванова Н. П.',
        sipUri: 'sip:ivanova@10.0.0.21',
        skills: ['health'],
        queues: [{ queueId: 'social', level: 1, position: 2 }],
      });
      assert.deepEqual(created, {
        status: 200,
        body: {
          operator: {
            id: 'ivanova',
            name: 'Иванова Н. П.',
            login: null,
            state: 'offline',
            breakReason: null,
            stateSince: null,
            sipUri: 'sip:ivanova@10.0.0.21',
            skills: ['health'],
            queues: [{ queueId: 'social', level: 1, position: 2 }],
          },
        },
      });
      const queues = (await env.api('sidorova', 'GET', '/api/desk/queues')).body;
      assert.deepEqual(queues.strategies, [
        'longest-idle-agent',
        'round-robin',
        'agent-with-least-talk-time',
        'agent-with-fewest-calls',
        'top-down',
        'ring-all',
        'random',
      ]);
      assert.deepEqual(queues.queues.find((x: Json) => x.id === 'social').members, [
        {
          queueId: 'social',
          operatorId: 'ivanova',
          name: 'Иванова Н. П.',
          state: 'offline',
          level: 1,
          position: 2,
        },
      ]);
      const changed = await env.api('sidorova', 'PUT', '/api/desk/operators/ivanova', {
        name: 'Иванова Н. П.',
        login: 'orlova',
        sipUri: null,
        skills: [],
        queues: [],
      });
      assert.deepEqual(
        [changed.body.operator.login, changed.body.operator.sipUri, changed.body.operator.queues],
        ['orlova', null, []],
      );
      refused(
        await env.api('sidorova', 'PUT', '/api/desk/operators/other', {
          name: 'Другой',
          login: 'orlova',
          skills: [],
        }),
        409,
        'CONFLICT',
      );
      refused(
        await env.api('sidorova', 'PUT', '/api/desk/operators/ivanova', {
          name: 'И',
          skills: [],
          queues: [{ queueId: 'nowhere' }],
        }),
        400,
        'VALIDATION_FAILED',
      );
      const listed = (await env.api('sidorova', 'GET', '/api/desk/operators')).body.operators.map(
        (o: Json) => o.id,
      );
      assert.ok(listed.includes('ivanova'));
      assert.deepEqual(await env.api('sidorova', 'DELETE', '/api/desk/operators/ivanova'), {
        status: 200,
        body: { id: 'ivanova' },
      });
      assert.ok(
        !(await env.api('sidorova', 'GET', '/api/desk/operators')).body.operators.some(
          (o: Json) => o.id === 'ivanova',
        ),
      );
      refused(await env.api('sidorova', 'DELETE', '/api/desk/operators/ivanova'), 404, 'NOT_FOUND');

      await env.queued('q1', 'text');
      await env.api('sidorova', 'POST', '/api/desk/calls/q1/move', { queueId: 'social' });
      refused(await env.api('sidorova', 'DELETE', '/api/desk/queues/social'), 409, 'CONFLICT');
      await env.api('sidorova', 'POST', '/api/desk/calls/q1/move', { queueId: 'default' });
      assert.deepEqual(await env.api('sidorova', 'DELETE', '/api/desk/queues/social'), {
        status: 200,
        body: { id: 'social' },
      });
      refused(await env.api('sidorova', 'DELETE', '/api/desk/queues/social'), 404, 'NOT_FOUND');
      refused(await env.api('sidorova', 'DELETE', '/api/desk/queues/default'), 409, 'CONFLICT');
      assert.equal((await queuedCall(env.db.sql, 'q1'))?.queueId, 'default');
      assert.deepEqual(
        (await listAudit(env.db.sql, { login: 'sidorova', object: 'social' }))
          .map((a) => a.action)
          .filter((a) => a.startsWith('desk.q')),
        ['desk.queue.save', 'desk.queue.remove'],
      );
    });

    it('lets only supervisors and admins at the wall and management (an editor and an operator get 403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/desk/wall'],
        ['GET', '/api/desk/wall/events'],
        ['PUT', '/api/desk/operators/kuznetsov/state', { state: 'offline' }],
        ['POST', '/api/desk/calls/x/move', { queueId: 'default' }],
        ['GET', '/api/desk/operators'],
        ['PUT', '/api/desk/operators/x', { name: 'X', skills: [] }],
        ['DELETE', '/api/desk/operators/x'],
        ['PUT', '/api/desk/queues/x', { name: 'X' }],
        ['DELETE', '/api/desk/queues/x'],
      ];
      for (const [method, path, body] of routes) {
        refused(await env.api('petrova', method, path, body), 403, 'FORBIDDEN');
        refused(await env.api('kuznetsov', method, path, body), 403, 'FORBIDDEN');
        refused(await env.api(null, method, path, body), 401, 'UNAUTHORIZED');
      }
      refused(await env.api('petrova', 'GET', '/api/desk/queues'), 403, 'FORBIDDEN');
      assert.equal(
        (await env.api('kuznetsov', 'GET', '/api/desk/queues')).status,
        200,
        'operators read queues to transfer',
      );
    });
  });
}
