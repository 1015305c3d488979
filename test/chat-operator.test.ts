/**
 * A web chat handed to a person: the chat plugin on a real HTTP server, PGlite, the shipped KB and NLU, and
 * the real operator queue. An escalated chat waits only when an operator is signed in (else it is offered an
 * inquiry); the operator joins, types, and the citizen reads it over the WebSocket, in the HTTP replies and
 * in the transcript; the citizen's messages become their turns and are signalled to the desk; the operator's
 * close ends the chat with the outcome `operator`; a citizen who leaves mid-conversation ends it too; and
 * after hours a signed-in operator still gets the chat, and so does a chat whose flow fails. The time of day is
 * the test's, never the wall clock's.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { getTurns } from '../calls/records.js';
import { isOtklikError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { OperatorQueue } from '../telephony/queue.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';
import { clockFrom, OFFICE_HOURS } from './support/chat.js';

/** The same Tuesday at 22:30 Moscow time: the operators' hours are over. */
const NIGHT = '2026-11-24T22:30:00+03:00';
const anna = { id: 'op-anna', name: 'Анна' };
const WAITING = 'Оператор ответит вам в порядке очереди';
const JOINED = 'К разговору подключился оператор Анна.';
const CLOSED = 'Оператор завершил разговор. Спасибо за обращение!';

type Message = { who: string; text: string; name?: string };
type Reply = { id: string; messages: Message[]; ended: boolean; outcome: string | null };
type WsMessage = { type: string; text?: string; name?: string; outcome?: string | null; id?: string };

describe('a web chat handed to an operator (PGlite)', () => {
  let env: CallTestEnv;
  let app: FastifyInstance;
  let base: string;
  let queue: OperatorQueue;
  let chats: ChatSessions;
  let clock = clockFrom(OFFICE_HOURS);
  const changes: string[] = [];

  before(async () => {
    env = await openCallTestEnv('pglite');
    queue = new OperatorQueue(env.db.sql, { waitNormMs: 60_000, now: () => clock() });
    await queue.upsertOperator({ id: anna.id, name: anna.name, sipUri: 'sip:anna@desk.test', skills: [] });
    // One set of live chats, given to the plugin as `otklik serve` does (the desk gets the same object).
    chats = new ChatSessions(
      {
        kb: env.engine.kb,
        nlu: env.engine.nlu,
        sql: env.db.sql,
        log: silentLogger,
        handOff: queue,
        now: () => clock(),
      },
      { idleTimeoutMs: 1500 },
    );
    chats.onChange((id) => changes.push(id));
    app = Fastify();
    await app.register(textChatPlugin, {
      deps: { kb: env.engine.kb, nlu: env.engine.nlu, sql: env.db.sql, log: silentLogger },
      chats,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await queue.setPresence(anna.id, 'offline');
    clock = clockFrom(OFFICE_HOURS);
  });
  after(async () => {
    await app?.close();
    await env?.close();
  });

  const post = async (path: string, body: unknown): Promise<{ status: number; body: Reply }> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Reply };
  };
  const texts = (r: Reply) => r.messages.map((m) => m.text).join('\n');
  const transcript = async (id: string) =>
    (await (await fetch(`${base}/api/chat/sessions/${id}/transcript`)).json()) as {
      status: string;
      outcome: string | null;
      transcript: Array<{ who: string; text: string }>;
    };
  /** The desk's part: the dispatcher offers the waiting chat to Anna, she accepts it and joins the chat. */
  const take = async (id: string) => {
    const offers = await queue.assignNext();
    const offer = offers.find((o) => o.callId === id);
    assert.ok(offer, 'the waiting chat is offered to the signed-in operator');
    assert.equal(offer.channel, 'text');
    await queue.accept(id, anna.id);
    assert.equal(await chats.operatorJoined(id, anna), true);
  };
  /** The desk's close: the queue's conversation ends (wrap-up follows), and the chat is told. */
  const close = async (id: string) => {
    await queue.closeConversation(id, anna.id);
    await chats.operatorClosed(id, anna);
  };

  it('an escalated chat waits for a signed-in operator, and is offered an inquiry when nobody is signed in', async () => {
    const alone = (await post('/api/chat/sessions', {})).body;
    const unserved = await post(`/api/chat/sessions/${alone.id}/messages`, { dtmf: '0' });
    assert.match(texts(unserved.body), /В чате операторы пока не отвечают/);
    assert.match(texts(unserved.body), /зарегистрирую обращение/);
    assert.equal(await queue.callState(alone.id), null);

    await queue.setPresence(anna.id, 'available');
    const chat = (await post('/api/chat/sessions', {})).body;
    const queued = await post(`/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    assert.ok(texts(queued.body).includes(WAITING), texts(queued.body));
    assert.doesNotMatch(texts(queued.body), /пока не отвечают/);
    assert.equal((await queue.callState(chat.id))?.state, 'waiting');
    // Leaving while waiting abandons the chat's place in the queue, as for a call.
    const gone = await fetch(`${base}/api/chat/sessions/${chat.id}`, { method: 'DELETE' });
    assert.equal(((await gone.json()) as Reply).outcome, 'abandoned');
    assert.equal((await queue.callState(chat.id))?.state, 'abandoned');
  });

  it('the operator joins and types: the citizen reads it live, and the operator’s close ends the chat', async () => {
    await queue.setPresence(anna.id, 'available');
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/chat/ws`);
    const received: WsMessage[] = [];
    const checks = new Set<() => void>();
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)) as WsMessage);
      for (const check of checks) check();
    });
    const waitFor = (pred: (m: WsMessage) => boolean) =>
      new Promise<WsMessage>((resolve) => {
        const check = () => {
          const found = received.find(pred);
          if (!found) return;
          checks.delete(check);
          resolve(found);
        };
        checks.add(check);
        check();
      });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'start' }));
    const id = (await waitFor((m) => m.type === 'started')).id!;
    await waitFor((m) => m.type === 'bot' && (m.text ?? '').includes('выберите тему'));
    ws.send(JSON.stringify({ type: 'dtmf', digits: '0' }));
    await waitFor((m) => m.type === 'bot' && (m.text ?? '').includes(WAITING));

    await take(id);
    await waitFor((m) => m.type === 'bot' && m.text === JOINED);
    await chats.operatorSays(id, anna, 'Здравствуйте! Чем могу помочь?');
    const said = await waitFor((m) => m.type === 'operator');
    assert.deepEqual(
      { text: said.text, name: said.name },
      { text: 'Здравствуйте! Чем могу помочь?', name: 'Анна' },
    );

    // The citizen's message is theirs to the operator: stored as their turn, signalled to the desk, and the
    // bot says nothing to it.
    const botBefore = received.filter((m) => m.type === 'bot').length;
    const changed = changes.length;
    ws.send(JSON.stringify({ type: 'message', text: 'мне не приходит пенсия третий месяц' }));
    const deadline = Date.now() + 10_000;
    while (!changes.slice(changed).includes(id) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(changes.slice(changed).includes(id), 'the desk is told of the citizen’s message');
    const turns = await getTurns(env.db.sql, id);
    assert.deepEqual(
      turns.slice(-2).map((t) => [t.who, t.text]),
      [
        ['operator', 'Здравствуйте! Чем могу помочь?'],
        ['caller', 'мне не приходит пенсия третий месяц'],
      ],
    );
    assert.deepEqual(
      turns.map((t) => t.seq),
      turns.map((_t, i) => i + 1),
      'turns in order, one seq each',
    );
    assert.equal(received.filter((m) => m.type === 'bot').length, botBefore, 'the bot stays silent');

    const live = await transcript(id);
    assert.equal(live.status, 'active');
    assert.ok(
      live.transcript.some((t) => t.who === 'operator' && t.text === 'Здравствуйте! Чем могу помочь?'),
    );

    await close(id);
    await waitFor((m) => m.type === 'bot' && m.text === CLOSED);
    assert.equal((await waitFor((m) => m.type === 'ended')).outcome, 'operator');
    const done = await transcript(id);
    assert.equal(done.status, 'completed');
    assert.equal(done.outcome, 'operator');
    assert.equal(done.transcript.at(-1)?.text, CLOSED);
    ws.close();
  });

  it('the citizen’s HTTP replies carry the operator’s messages; leaving mid-conversation ends the chat', async () => {
    await queue.setPresence(anna.id, 'available');
    const chat = (await post('/api/chat/sessions', {})).body;
    await post(`/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    await take(chat.id);
    await chats.operatorSays(chat.id, anna, 'Назовите, пожалуйста, ваш район.');
    const reply = await post(`/api/chat/sessions/${chat.id}/messages`, { text: 'Ленинский район' });
    assert.equal(reply.status, 200);
    assert.deepEqual(
      reply.body.messages.map((m) => [m.who, m.text, m.name ?? null]),
      [
        ['bot', JOINED, null],
        ['operator', 'Назовите, пожалуйста, ваш район.', 'Анна'],
      ],
    );
    assert.equal(reply.body.ended, false);

    const changed = changes.length;
    const gone = await fetch(`${base}/api/chat/sessions/${chat.id}`, { method: 'DELETE' });
    assert.deepEqual(
      { ended: ((await gone.json()) as Reply).ended },
      { ended: true },
      'the citizen left the conversation',
    );
    assert.ok(changes.slice(changed).includes(chat.id), 'the desk is told the citizen left');
    assert.equal((await transcript(chat.id)).outcome, 'operator');
    // The operator's conversation stays theirs to close on the desk; the chat cannot take messages any more.
    assert.equal((await queue.callState(chat.id))?.state, 'answered');
    await assert.rejects(chats.operatorSays(chat.id, anna, 'Вы здесь?'), (err) =>
      isOtklikError(err, 'CHAT_ENDED'),
    );
    assert.equal(await chats.operatorJoined(chat.id, anna), false);
    await close(chat.id);
    assert.equal((await queue.callState(chat.id))?.state, 'answered');
  });

  it('a chat still with the bot cannot be joined; another operator taking the chat over is announced', async () => {
    const withBot = (await post('/api/chat/sessions', {})).body;
    assert.equal(await chats.operatorJoined(withBot.id, anna), false);
    await queue.setPresence(anna.id, 'available');
    const chat = (await post('/api/chat/sessions', {})).body;
    await post(`/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    await take(chat.id);
    assert.equal(await chats.operatorJoined(chat.id, { id: 'op-boris', name: 'Борис' }), true);
    await chats.operatorSays(chat.id, { id: 'op-boris', name: 'Борис' }, 'Я продолжу с вами.');
    const reply = await post(`/api/chat/sessions/${chat.id}/messages`, { text: 'хорошо' });
    assert.deepEqual(
      reply.body.messages.map((m) => [m.who, m.text]),
      [
        ['bot', JOINED],
        ['bot', 'К разговору подключился оператор Борис.'],
        ['operator', 'Я продолжу с вами.'],
      ],
    );
    await close(chat.id);
  });

  it('a chat whose flow fails is handed to a signed-in operator and waits for them', async () => {
    await queue.setPresence(anna.id, 'available');
    const broken = new ChatSessions({
      kb: env.engine.kb,
      nlu: env.engine.nlu,
      sql: env.db.sql,
      log: silentLogger,
      handOff: queue,
      now: () => clock(),
      flowId: 'no-such-flow',
    });
    const chat = await broken.start();
    assert.match(chat.messages.map((m) => m.text).join('\n'), /передам ваш вопрос оператору/);
    assert.equal(chat.ended, false, 'the chat waits for the operator');
    const offer = (await queue.assignNext()).find((o) => o.callId === chat.id);
    assert.equal(offer?.channel, 'text');
    await queue.accept(chat.id, anna.id);
    assert.equal(await broken.operatorJoined(chat.id, anna), true);
    await broken.operatorSays(chat.id, anna, 'Я на связи, повторите вопрос.');
    assert.ok(broken.leg(chat.id).messages.some((m) => m.who === 'operator'));
    await queue.closeConversation(chat.id, anna.id);
    await broken.operatorClosed(chat.id, anna);
    assert.equal((await transcript(chat.id)).outcome, 'operator');
    await broken.closeAll();
  });

  it('the operator’s activity keeps the chat open past the idle timeout', async () => {
    await queue.setPresence(anna.id, 'available');
    const chat = (await post('/api/chat/sessions', {})).body;
    await post(`/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    await take(chat.id);
    // 3 s of the operator typing with the citizen silent, against an idle timeout of 1.5 s.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await chats.operatorSays(chat.id, anna, `Проверяю информацию, шаг ${i + 1}`);
    }
    assert.equal((await transcript(chat.id)).status, 'active');
    await close(chat.id);
    assert.equal((await transcript(chat.id)).outcome, 'operator');
  });

  it('after hours a signed-in operator still gets the chat; with nobody signed in it takes the after-hours path', async () => {
    clock = clockFrom(NIGHT);
    const nobody = (await post('/api/chat/sessions', {})).body;
    const closed = await post(`/api/chat/sessions/${nobody.id}/messages`, { dtmf: '0' });
    assert.match(texts(closed.body), /нерабочее время/);
    assert.equal(await queue.callState(nobody.id), null);

    await queue.setPresence(anna.id, 'available');
    const chat = (await post('/api/chat/sessions', {})).body;
    const queued = await post(`/api/chat/sessions/${chat.id}/messages`, { dtmf: '0' });
    assert.ok(texts(queued.body).includes(WAITING), texts(queued.body));
    assert.doesNotMatch(texts(queued.body), /нерабочее время/);
    await take(chat.id);
    await chats.operatorSays(chat.id, anna, 'Добрый вечер, я на связи.');
    const reply = await post(`/api/chat/sessions/${chat.id}/messages`, { text: 'спасибо' });
    assert.ok(
      reply.body.messages.some((m) => m.who === 'operator' && m.text === 'Добрый вечер, я на связи.'),
    );
    await close(chat.id);
    assert.equal((await transcript(chat.id)).outcome, 'operator');
  });
});
