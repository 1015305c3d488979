/**
 * A web chat taken on the operator desk, end to end through HTTP only: the citizen's chat plugin and the desk
 * on one app sharing one ChatSessions (as `otklik serve` wires them), the shipped KB and NLU on PGlite, the
 * real queue and the desk's dispatcher loop. The operator signs in, sets presence, the citizen asks for an
 * operator, the offer is pushed, accepted, the operator types (the citizen's transcript shows it as who
 * 'operator'), the citizen answers (the desk's transcript shows it), and the close ends the chat and fills
 * the call card. The time of day is the test's (office hours), never the wall clock's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callsPlugin } from '../admin/plugins/calls.js';
import { deskPlugin } from '../admin/plugins/desk.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { startDeskDispatcher } from '../telephony/acd/dispatcher.js';
import { OperatorQueue } from '../telephony/queue.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';
import { type Json, openStream } from './support/desk.js';

const password = 'пароль-оператора';

describe('a web chat on the operator desk (PGlite)', () => {
  let env: CallTestEnv;
  let app: TypedApp;
  let base: string;
  let token: string;
  let dispatcher: ReturnType<typeof startDeskDispatcher>;
  const clock = clockFrom(OFFICE_HOURS);

  before(async () => {
    env = await openCallTestEnv('pglite');
    await addUser(env.db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов', password });
    await addUser(env.db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова', password });
    const queue = new OperatorQueue(env.db.sql, { waitNormMs: 60_000, now: clock });
    const deps = {
      kb: env.engine.kb,
      nlu: env.engine.nlu,
      sql: env.db.sql,
      log: silentLogger,
      handOff: queue,
      now: clock,
    };
    const chats = new ChatSessions(deps);
    app = await build({
      sql: env.db.sql,
      log: silentLogger,
      plugins: [
        adminArea(deskPlugin, {
          sql: env.db.sql,
          queue,
          kb: createKnowledgeBase(env.db.sql),
          chats,
          timeZone: env.engine.kb.timezone,
          now: clock,
        }),
        adminArea(callsPlugin, {
          sql: env.db.sql,
          queue,
          health: async () => ({}),
          timeZone: env.engine.kb.timezone,
          now: clock,
        }),
        adminArea(textChatPlugin, { deps, chats }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    dispatcher = startDeskDispatcher({ queue, channel: 'text', log: silentLogger, intervalMs: 200 });
    token = await login('kuznetsov');
  });
  after(async () => {
    await dispatcher?.stop();
    await app?.close();
    await env?.close();
  });

  async function login(name: string): Promise<string> {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: name, password }),
    });
    return ((await res.json()) as { token: string }).token;
  }
  async function call(method: string, path: string, body?: unknown, bearer?: string) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('the operator takes the chat, writes to the citizen, closes it, and the card shows the close', async () => {
    assert.equal((await call('PUT', '/api/desk/presence', { state: 'available' }, token)).status, 200);
    const stream = await openStream({ base, tokens: { kuznetsov: token } }, 'kuznetsov', '/api/desk/events');
    await stream.next();
    const chat = (await call('POST', '/api/chat/sessions', {})).body;
    const queued = await call('POST', `/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    assert.match(JSON.stringify(queued.body.messages), /Оператор ответит вам в порядке очереди/);
    // The dispatcher offers it at once (the enqueue wakes it), and the desk is told over its stream.
    const pushed = await stream.next((d: Json) => d.offers.length > 0);
    const offer = pushed.data.offers[0];
    assert.deepEqual([offer.callId, offer.channel], [chat.id, 'text']);

    assert.equal((await call('POST', `/api/desk/offers/${chat.id}/accept`, undefined, token)).status, 200);
    const sent = await call(
      'POST',
      `/api/desk/conversations/${chat.id}/messages`,
      { text: 'Здравствуйте! Слушаю вас.' },
      token,
    );
    assert.equal(sent.status, 201);
    const live = (await call('GET', `/api/chat/sessions/${chat.id}/transcript`)).body;
    assert.ok(
      live.transcript.some((t: Json) => t.who === 'operator' && t.text === 'Здравствуйте! Слушаю вас.'),
      JSON.stringify(live.transcript),
    );
    const turnsBefore = (await call('GET', '/api/desk/me', undefined, token)).body.conversations[0].turns;
    await call('POST', `/api/chat/sessions/${chat.id}/messages`, { text: 'Не приходит пенсия третий месяц' });
    // The citizen's message reaches the desk's stream: its conversation has a turn more.
    await stream.next((d: Json) => d.conversations[0]?.turns > turnsBefore);
    const conv = (await call('GET', `/api/desk/conversations/${chat.id}`, undefined, token)).body;
    assert.deepEqual(
      conv.transcript.slice(-2).map((t: Json) => [t.who, t.text]),
      [
        ['operator', 'Здравствуйте! Слушаю вас.'],
        ['caller', 'Не приходит пенсия третий месяц'],
      ],
    );
    assert.equal(conv.callEnded, false);

    const closed = await call(
      'POST',
      `/api/desk/conversations/${chat.id}/close`,
      { outcome: 'inquiry', note: 'Зарегистрировано обращение о пенсии' },
      token,
    );
    assert.equal(closed.status, 200);
    const done = (await call('GET', `/api/chat/sessions/${chat.id}/transcript`)).body;
    assert.deepEqual([done.status, done.outcome], ['completed', 'operator']);
    const card = (await call('GET', `/api/calls/${chat.id}`, undefined, await login('sidorova'))).body.call;
    assert.deepEqual(
      [card.operator, card.operatorOutcome, card.operatorNote],
      [{ id: 'kuznetsov', name: 'Кузнецов' }, 'inquiry', 'Зарегистрировано обращение о пенсии'],
    );
    assert.equal(
      (await call('GET', `/api/desk/conversations/${chat.id}`, undefined, token)).body.callEnded,
      true,
    );
    stream.close();
  });
});
