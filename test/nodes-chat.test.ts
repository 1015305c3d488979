/**
 * Two real `otklik serve` nodes on one PostgreSQL (a fresh schema) and one Redis (a queue prefix of this
 * test's own), as behind a load balancer without sticky sessions: a chat's messages alternate between the
 * nodes, one node is killed with SIGKILL and restarted, the other is stopped with SIGTERM (a drain). Every
 * reply is the right one, the stored transcript has every message and reply in order, only the killed node's
 * idle chat is left interrupted by its restart (and even that one goes on when the citizen writes again),
 * the other node's chats are untouched, a WebSocket follows a chat served by the other node, and the
 * inquiry registered in the chat is mailed once although both nodes run a job worker.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { getCall, getTurns } from '../calls/records.js';
import { openTestDb } from './support/db.js';
import { embeddedEnv, type ServeProcess, startServe } from './support/serve.js';
import { decodeMail, startSmtp, waitFor } from './support/smtp.js';

type Reply = { status: number; texts: string; ended: boolean };

async function post(base: string, path: string, body: unknown): Promise<Reply & { id: string }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { id: string; messages?: Array<{ text: string }>; ended?: boolean };
  return {
    status: res.status,
    id: json.id,
    texts: (json.messages ?? []).map((m) => m.text).join('\n'),
    ended: json.ended ?? false,
  };
}

const startChat = (node: ServeProcess) => post(node.base, '/api/chat/sessions', { caller: '+79990001122' });

/** The citizen writes to chat `id` through `node`; every message is remembered for the transcript check. */
function chatter(said: Map<string, string[]>) {
  return async (node: ServeProcess, id: string, text: string, expect: RegExp): Promise<Reply> => {
    const reply = await post(node.base, `/api/chat/sessions/${id}/messages`, { text });
    assert.equal(reply.status, 200, `«${text}» answered: ${reply.texts}`);
    assert.match(reply.texts, expect, `the reply to «${text}»`);
    said.set(id, [...(said.get(id) ?? []), text]);
    return reply;
  };
}

describe('two serve nodes share the chats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otklik-nodes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('chats alternate between nodes, survive a SIGKILL and a drain, and their inquiry is mailed once', async () => {
    const db = await openTestDb('postgres');
    const smtp = await startSmtp();
    const shared = {
      DATABASE_URL: db.url!,
      NLU_MODEL_DIR: join(dir, 'nlu'),
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `t-nodes-${randomBytes(4).toString('hex')}`,
      CHAT_LEASE_MS: '2000',
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      JOBS_SWEEP_INTERVAL_MS: '300',
      LOG_LEVEL: 'info',
    };
    const envA = { ...embeddedEnv(join(dir, 'a')), ...shared, OTKLIK_INSTANCE_ID: 'node-a' };
    const envB = { ...embeddedEnv(join(dir, 'b')), ...shared, OTKLIK_INSTANCE_ID: 'node-b' };
    const nodes: ServeProcess[] = [];
    const said = new Map<string, string[]>();
    const say = chatter(said);
    try {
      let a = await startServe(envA);
      nodes.push(a);
      const b = await startServe(envB);
      nodes.push(b);
      assert.match(a.stdout(), /chats are shared with the other nodes/);

      // Chat 1 starts on A; its messages alternate B, A, B, ...
      const one = await startChat(a);
      assert.equal(one.status, 201);
      assert.match(one.texts, /122/);
      // A chat of B's, and an idle one of A's.
      const ofB = await startChat(b);
      const idleOfA = await startChat(a);
      await say(b, one.id, 'как записать ребенка в детский сад', /детск/i);
      await say(a, one.id, 'оператор', /обращени/i);
      assert.equal((await getCall(db.sql, one.id))?.instanceId, 'node-a', 'A serves chat 1');

      a.child.kill('SIGKILL');
      assert.equal(await a.exited, 137);
      // B takes chat 1 over at its step: the offer of an inquiry, accepted; no greeting again.
      const taken = await say(b, one.id, 'да', /номер/i);
      assert.doesNotMatch(taken.texts, /Здравствуйте/);

      a = await startServe(envA);
      nodes.push(a);
      assert.equal((await getCall(db.sql, one.id))?.status, 'active', 'the chat taken over goes on');
      assert.equal((await getCall(db.sql, one.id))?.instanceId, 'node-b');
      assert.equal((await getCall(db.sql, ofB.id))?.status, 'active', "B's own chat is untouched");
      assert.equal((await getCall(db.sql, idleOfA.id))?.status, 'interrupted', "A's idle chat is closed");

      await say(a, one.id, 'да', /вопрос/i);
      await say(b, one.id, 'мне не приходит пенсия третий месяц', /зарегистрирован/i);
      const last = await say(a, one.id, '5', /свидания|до свидан|всего доброго|спасибо/i);
      assert.equal(last.ended, true, 'the chat ended with the survey');

      // Even the chat interrupted by A's restart goes on when its citizen writes again.
      await say(b, idleOfA.id, 'как записать ребенка в детский сад', /детск/i);
      assert.equal((await getCall(db.sql, idleOfA.id))?.status, 'active');

      // A WebSocket on A follows B's chat: the reply comes over it, as it happens.
      const ws = new WebSocket(`${a.base.replace('http', 'ws')}/api/chat/ws`);
      const events: Array<{ type: string; text?: string }> = [];
      ws.on('message', (data) => events.push(JSON.parse(String(data)) as { type: string }));
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ type: 'attach', id: ofB.id }));
      await waitFor(() => (events.some((e) => e.type === 'attached') ? true : undefined), 'attached');
      ws.send(JSON.stringify({ type: 'message', text: 'как записать ребенка в детский сад' }));
      await waitFor(
        () => (events.some((e) => e.type === 'bot' && /детск/i.test(e.text ?? '')) ? true : undefined),
        'the answer over the WebSocket on the other node',
      );
      said.set(ofB.id, ['как записать ребенка в детский сад']);
      ws.close();

      // A drain: B is stopped with SIGTERM; its chats go on at A with nothing lost.
      b.child.kill('SIGTERM');
      assert.equal(await b.exited, 0);
      assert.equal((await getCall(db.sql, ofB.id))?.status, 'active', 'a drained chat is not closed');
      await say(a, ofB.id, 'нет спасибо', /оцен|свидан|спасибо/i);
      await say(a, idleOfA.id, 'нет спасибо', /оцен|свидан|спасибо/i);

      // The transcripts: every message in order, each followed by the bot's reply, nothing twice.
      for (const [id, texts] of said) {
        const turns = await getTurns(db.sql, id);
        const seqs = turns.map((t) => t.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
          'turns in order',
        );
        assert.equal(new Set(seqs).size, seqs.length);
        const caller = turns.filter((t) => t.who === 'caller').map((t) => t.text);
        assert.deepEqual(caller, texts, `the citizen's messages of ${id}`);
        for (const text of texts) {
          const at = turns.findIndex((t) => t.who === 'caller' && t.text === text);
          assert.equal(turns[at + 1]?.who, 'bot', `«${text}» was answered`);
        }
        const greetings = turns.filter((t) => t.who === 'bot' && /Здравствуйте/.test(t.text));
        assert.equal(greetings.length, 1, 'one greeting per chat');
      }

      // Mailed once, although both nodes' workers sweep the store.
      const mail = await waitFor(() => smtp.received[0], 'the inquiry mail');
      assert.match(decodeMail(mail.body), /пенси/i);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(smtp.received.length, 1, 'the inquiry was mailed exactly once');
      // The jobs and the chats live under this line's prefix in the shared Redis.
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        assert.ok((await redis.keys(`${shared.QUEUE_PREFIX}:otklik-inquiries:*`)).length > 0, 'jobs');
        assert.ok((await redis.keys(`${shared.QUEUE_PREFIX}:chat:*`)).length > 0, 'chats');
      } finally {
        redis.disconnect();
      }
    } finally {
      for (const n of nodes)
        if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGTERM');
      await Promise.all(nodes.map((n) => n.exited));
      await smtp.close();
      await db.drop();
      // Nothing of this test's line stays in the shared Redis.
      const redis = new Redis('redis://127.0.0.1:6379');
      const left = await redis.keys(`${shared.QUEUE_PREFIX}:*`);
      if (left.length > 0) await redis.del(...left);
      redis.disconnect();
    }
  });
});
