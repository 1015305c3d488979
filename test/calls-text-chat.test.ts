/**
 * The web chat API (fastify plugin) on a real HTTP server at 127.0.0.1 and PostgreSQL: a chat from greeting
 * to answer over HTTP, the stored transcript, bad input, and the live WebSocket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';
import { testChatOptions } from './support/chat.js';

describe('text chat API (PostgreSQL)', () => {
  let env: CallTestEnv;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    env = await openCallTestEnv('postgres');
    app = Fastify();
    // On a bare fastify, as a plugin of its own; the clock is set to a Tuesday morning (operators at work).
    await app.register(
      textChatPlugin,
      testChatOptions({ kb: env.engine.kb, nlu: env.engine.nlu, sql: env.db.sql }),
    );
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await env?.close();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('a chat from greeting to an approved answer, stored turn by turn', async () => {
    const start = await post('/api/chat/sessions', {});
    assert.equal(start.status, 201);
    const id = start.body.id as string;
    const first = start.body.messages as Array<{ text: string }>;
    assert.match(first[0]!.text, /^Здравствуйте/);
    assert.match(first.at(-1)!.text, /выберите тему/);

    const reply = await post(`/api/chat/sessions/${id}/messages`, { text: 'как записаться к терапевту' });
    assert.equal(reply.status, 200);
    const texts = (reply.body.messages as Array<{ text: string }>).map((m) => m.text);
    assert.ok(
      texts.some((t) => t.includes('регистратуре')),
      texts.join('\n'),
    );
    assert.equal(texts.at(-1), 'Остались ли у вас вопросы?');
    assert.equal(reply.body.ended, false);

    const bye = await post(`/api/chat/sessions/${id}/messages`, { text: 'нет спасибо' });
    const keys = await post(`/api/chat/sessions/${id}/messages`, { dtmf: '5' });
    assert.equal(keys.body.ended, true, JSON.stringify([bye.body, keys.body]));
    assert.equal(keys.body.outcome, 'answered');

    const transcript = (await (await fetch(`${base}/api/chat/sessions/${id}/transcript`)).json()) as {
      status: string;
      outcome: string;
      transcript: Array<{ who: string; text: string; intent: string | null }>;
    };
    assert.equal(transcript.status, 'completed');
    assert.equal(transcript.outcome, 'answered');
    const caller = transcript.transcript.filter((t) => t.who === 'caller');
    assert.deepEqual(
      caller.map((t) => t.text),
      ['как записаться к терапевту', 'нет спасибо', '5'],
    );
    assert.equal(caller[0]?.intent, 'health.appointment');
  });

  it('rejects bad input with a clear error and unknown sessions with 404', async () => {
    const start = await post('/api/chat/sessions', {});
    const id = start.body.id as string;
    const empty = await post(`/api/chat/sessions/${id}/messages`, { text: '' });
    assert.equal(empty.status, 400);
    const badKeys = await post(`/api/chat/sessions/${id}/messages`, { dtmf: '12a' });
    assert.equal(badKeys.status, 400);
    const missing = await post('/api/chat/sessions/00000000-0000-4000-8000-000000000000/messages', {
      text: 'да',
    });
    assert.equal(missing.status, 404);
    // The session survived the bad requests.
    const ok = await post(`/api/chat/sessions/${id}/messages`, { dtmf: '0' });
    assert.equal(ok.status, 200);
    assert.ok((ok.body.messages as Array<{ text: string }>).some((m) => m.text.includes('оператор')));
    const gone = await fetch(`${base}/api/chat/sessions/${id}`, { method: 'DELETE' });
    // The chat has no operator desk: key 0 offers an inquiry, not a queue, so leaving is a plain hang-up.
    assert.equal(((await gone.json()) as { outcome: string }).outcome, 'hangup');
  });

  it('the WebSocket delivers the bot messages live', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/chat/ws`);
    const received: Array<{ type: string; text?: string; outcome?: string }> = [];
    const checks = new Set<() => void>();
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)));
      for (const check of checks) check();
    });
    const waitFor = (pred: (m: (typeof received)[number]) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!received.some(pred)) return;
          checks.delete(check);
          resolve();
        };
        checks.add(check);
        check();
      });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('not json');
    await waitFor((m) => m.type === 'error');
    ws.send(JSON.stringify({ type: 'start' }));
    await waitFor((m) => m.type === 'bot' && (m.text ?? '').includes('выберите тему'));
    ws.send(JSON.stringify({ type: 'message', text: 'у соседей пожар' }));
    // The chat's written form (112 in digits), and the chat stays open after an emergency.
    await waitFor((m) => m.type === 'bot' && /112 или 103/.test(m.text ?? ''));
    assert.ok(!received.some((m) => m.type === 'ended'));
    ws.send(JSON.stringify({ type: 'hangup' }));
    await waitFor((m) => m.type === 'ended');
    assert.equal(received.find((m) => m.type === 'ended')?.outcome, 'emergency');
    ws.close();
  });
});
