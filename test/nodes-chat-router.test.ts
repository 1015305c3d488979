/**
 * The chat router of two nodes in one process (two ChatSessions, two ChatRouters, one store, one Redis with
 * this test's own prefix), for what the two-serve test does not drive: the operator desk on the node that
 * does not serve the chat (its join, messages and close are passed to the owner, the citizen reads them and
 * the desk hears of the citizen's messages), a drain that hands a chat to the other node mid-conversation,
 * and a node without Redis, which keeps its chats in memory and says so. The time of day is the test's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { getCall, getTurns } from '../calls/records.js';
import { createLogger, silentLogger } from '../core/log.js';
import { OperatorQueue } from '../telephony/queue.js';
import { type ChatEvent, ChatRouter } from '../voicebot/channels/text/chat-router.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';
import { waitFor } from './support/smtp.js';

const anna = { id: 'op-anna', name: 'Анна' };
const texts = (t: { messages: Array<{ text: string }> }) => t.messages.map((m) => m.text).join('\n');

describe('chats passed between two nodes (PGlite, Redis)', () => {
  let env: CallTestEnv;
  let queue: OperatorQueue;
  const routers: ChatRouter[] = [];
  const sessions: ChatSessions[] = [];
  const prefix = `t-router-${randomBytes(4).toString('hex')}`;
  const clock = clockFrom(OFFICE_HOURS);

  /** Stops the nodes of the test before: they would take the next test's chats. */
  const stopNodes = async () => {
    for (const s of sessions.splice(0)) await s.closeAll();
    for (const r of routers.splice(0)) await r.close();
  };
  const node = async (instanceId: string, redisUrl = 'redis://127.0.0.1:6379', log = silentLogger) => {
    const chats = new ChatSessions({
      kb: env.engine.kb,
      nlu: env.engine.nlu,
      sql: env.db.sql,
      log,
      handOff: queue,
      now: clock,
      instanceId,
    });
    const router = await ChatRouter.start({
      sessions: chats,
      sql: env.db.sql,
      log,
      instanceId,
      redis: { url: redisUrl, prefix, leaseMs: 1000, forwardTimeoutMs: 10_000, stateTtlMs: 60_000 },
    });
    sessions.push(chats);
    routers.push(router);
    return router;
  };

  before(async () => {
    env = await openCallTestEnv('pglite');
    queue = new OperatorQueue(env.db.sql, { waitNormMs: 60_000, now: clock });
    await queue.upsertOperator({ id: anna.id, name: anna.name, sipUri: 'sip:anna@desk.test', skills: [] });
  });
  afterEach(stopNodes);
  after(async () => {
    await env?.close();
    // Nothing of this test's prefix stays in the shared Redis.
    const redis = new Redis('redis://127.0.0.1:6379');
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    redis.disconnect();
  });

  it('the desk on the other node joins, writes and closes a chat; the citizen reads it, the desk hears them', async () => {
    const one = await node('router-1');
    const two = await node('router-2');
    assert.equal(one.shared && two.shared, true);
    await queue.setPresence(anna.id, 'available');
    const chat = await one.start();
    // The citizen's socket is on node two; the chat is served by node one.
    const seen: ChatEvent[] = [];
    const off = await two.watch(chat.id, (e) => seen.push(e));
    const changes: string[] = [];
    two.onChange((id) => changes.push(id));

    const waiting = await two.press(chat.id, '0');
    assert.match(texts(waiting), /в порядке очереди/);
    const offer = (await queue.assignNext()).find((o) => o.callId === chat.id);
    assert.ok(offer, 'the waiting chat is offered');
    await queue.accept(chat.id, anna.id);
    assert.equal(await two.operatorJoined(chat.id, anna), true, 'joined through the other node');
    await two.operatorSays(chat.id, anna, 'Здравствуйте! Чем могу помочь?');
    await waitFor(
      () => (seen.some((e) => e.type === 'operator' && e.name === 'Анна') ? true : undefined),
      "the operator's message reaches the citizen",
    );

    const reply = await one.say(chat.id, 'мне не приходит пенсия третий месяц');
    // The reply carries what the citizen has not yet read (the operator's notice and words), nothing of the bot's.
    assert.deepEqual(
      reply.messages.map((m) => [m.who, m.text]),
      [
        ['bot', 'К разговору подключился оператор Анна.'],
        ['operator', 'Здравствуйте! Чем могу помочь?'],
      ],
    );
    await waitFor(() => (changes.includes(chat.id) ? true : undefined), 'the desk hears of the message');

    await two.operatorClosed(chat.id, anna);
    await waitFor(
      () => (seen.some((e) => e.type === 'ended' && e.outcome === 'operator') ? true : undefined),
      'the end reaches the citizen',
    );
    off();
    const call = await getCall(env.db.sql, chat.id);
    assert.equal(call?.outcome, 'operator');
    assert.equal(call?.instanceId, 'router-1', 'served by one node throughout');
    const turns = await getTurns(env.db.sql, chat.id);
    assert.deepEqual(
      turns.filter((t) => t.who !== 'bot').map((t) => [t.who, t.text]),
      [
        ['caller', '0'],
        ['operator', 'Здравствуйте! Чем могу помочь?'],
        ['caller', 'мне не приходит пенсия третий месяц'],
      ],
    );
    await queue.setPresence(anna.id, 'offline');
  });

  it('a drained node hands its chat on mid-conversation; the next message is answered on the other', async () => {
    const one = await node('router-3');
    const two = await node('router-4');
    const chat = await one.start();
    assert.match(texts(await two.say(chat.id, 'как записать ребенка в детский сад')), /детск/i);
    await one.drain();
    assert.equal((await getCall(env.db.sql, chat.id))?.status, 'active', 'released, not closed');
    // Started on the drained node: the new chat is served by the other one.
    const fresh = await one.start();
    assert.match(texts(fresh), /122/);
    assert.equal((await getCall(env.db.sql, fresh.id))?.instanceId, 'router-4');

    const next = await one.say(chat.id, 'как получить пособие на ребенка');
    assert.doesNotMatch(texts(next), /Здравствуйте/, 'no greeting again');
    assert.match(texts(next), /пособи/i);
    assert.equal((await getCall(env.db.sql, chat.id))?.instanceId, 'router-4', 'taken over');
    const turns = await getTurns(env.db.sql, chat.id);
    assert.deepEqual(
      turns.map((t) => t.seq),
      turns.map((_t, i) => i + 1),
      'the turns go on in order',
    );
    assert.deepEqual(
      turns.filter((t) => t.who === 'caller').map((t) => t.text),
      ['как записать ребенка в детский сад', 'как получить пособие на ребенка'],
    );
  });

  it('a chat with an operator is handed on by a drain: the conversation goes on, nobody joins twice', async () => {
    const one = await node('router-5');
    const two = await node('router-6');
    await queue.setPresence(anna.id, 'available');
    const chat = await one.start();
    assert.match(texts(await one.press(chat.id, '0')), /в порядке очереди/);
    assert.ok((await queue.assignNext()).find((o) => o.callId === chat.id));
    await queue.accept(chat.id, anna.id);
    assert.equal(await one.operatorJoined(chat.id, anna), true);
    assert.equal((await one.say(chat.id, 'у меня вопрос про пенсию')).messages.length, 1, 'the join notice');

    await one.drain();
    // The desk on node two writes: node two takes the chat over, in the conversation with the operator.
    await two.operatorSays(chat.id, anna, 'Слушаю вас');
    const reply = await two.say(chat.id, 'пенсия не приходит');
    assert.deepEqual(
      reply.messages.map((m) => [m.who, m.text]),
      [['operator', 'Слушаю вас']],
      'the operator is not announced again, the bot stays silent',
    );
    await two.operatorClosed(chat.id, anna);
    const call = await getCall(env.db.sql, chat.id);
    assert.deepEqual([call?.outcome, call?.instanceId], ['operator', 'router-6']);
    const turns = await getTurns(env.db.sql, chat.id);
    assert.deepEqual(
      turns.filter((t) => t.who !== 'bot').map((t) => [t.who, t.text]),
      [
        ['caller', '0'],
        ['caller', 'у меня вопрос про пенсию'],
        ['operator', 'Слушаю вас'],
        ['caller', 'пенсия не приходит'],
      ],
    );
    assert.equal(turns.filter((t) => /подключился оператор/.test(t.text)).length, 1, 'joined once');
    assert.deepEqual(
      turns.map((t) => t.seq),
      turns.map((_t, i) => i + 1),
    );
    await queue.setPresence(anna.id, 'offline');
  });

  it('without Redis a node keeps its chats in memory and says so', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const alone = await node('router-alone', 'redis://127.0.0.1:1', log);
    assert.equal(alone.shared, false);
    assert.ok(lines.some((l) => /chat sessions stay in this process \(Redis unavailable\)/.test(l)));
    const chat = await alone.start();
    assert.match(texts(await alone.say(chat.id, 'как записать ребенка в детский сад')), /детск/i);
  });
});
