/**
 * What a citizen's browser may send the chat that is not what the widget sends: control characters in a
 * message (kept, without them, in the transcript), a malformed caller number over HTTP and the WebSocket
 * (refused the same way), and WebSocket frames that are not JSON objects (a clear error; the chat goes on).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { silentLogger } from '../core/log.js';
import { type CallTestEnv, openCallTestEnv } from './calls-text-support.js';
import { testChatPlugin } from './support/chat.js';

describe('chat: bad input is refused clearly or cleaned, never lost', () => {
  let env: CallTestEnv;
  let app: TypedApp;
  let base: string;

  before(async () => {
    env = await openCallTestEnv('postgres');
    app = await build({
      sql: env.db.sql,
      log: silentLogger,
      plugins: [testChatPlugin({ kb: env.engine.kb, nlu: env.engine.nlu, sql: env.db.sql })],
    });
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
  const callerTurns = async (id: string) => {
    const res = await fetch(`${base}/api/chat/sessions/${id}/transcript`);
    const { transcript } = (await res.json()) as { transcript: Array<{ who: string; text: string }> };
    return transcript.filter((t) => t.who === 'caller').map((t) => t.text);
  };

  it('keeps a message with NUL and other control characters, without them, in the transcript', async () => {
    const start = await post('/api/chat/sessions', {});
    const id = start.body.id as string;
    const reply = await post(`/api/chat/sessions/${id}/messages`, {
      text: 'как записаться\u0000 к терапевту\u0007',
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const texts = (reply.body.messages as Array<{ text: string }>).map((m) => m.text);
    assert.ok(
      texts.some((t) => t.includes('регистратуре')),
      texts.join('\n'),
    );
    assert.deepEqual(await callerTurns(id), ['как записаться к терапевту']);

    const onlyNul = await post(`/api/chat/sessions/${id}/messages`, { text: '\u0000\u0000' });
    assert.equal(onlyNul.status, 400);
    assert.equal(onlyNul.body.code, 'VALIDATION_FAILED');
    assert.match(onlyNul.body.message as string, /Сообщение пустое/);
  });

  it('refuses a malformed caller number in Russian over HTTP', async () => {
    const bad = await post('/api/chat/sessions', { caller: '+7 999 abc' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    assert.match(bad.body.message as string, /caller/);
    assert.match(bad.body.message as string, /[а-я]/);
  });

  it('answers every malformed WebSocket frame with a clear error and keeps the socket usable', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/chat/ws`);
    const received: Array<{ type: string; code?: string; message?: string; text?: string; id?: string }> = [];
    let wake: () => void = () => {};
    ws.on('message', (data) => {
      received.push(JSON.parse(String(data)));
      wake();
    });
    const next = async (pred: (m: (typeof received)[number]) => boolean) => {
      for (;;) {
        const i = received.findIndex(pred);
        if (i >= 0) return received.splice(i, 1)[0]!;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    };
    await new Promise((resolve) => ws.once('open', resolve));

    for (const frame of ['null', '[]', '42', '"start"', '{"type":', 'не JSON']) {
      ws.send(frame);
      const err = await next((m) => m.type === 'error');
      assert.equal(err.code, 'VALIDATION_FAILED', frame);
      assert.match(err.message ?? '', /JSON/, frame);
    }
    ws.send(Buffer.from(JSON.stringify({ type: 'start' })), { binary: true });
    assert.match((await next((m) => m.type === 'error')).message ?? '', /текстовые/);

    // The same rule as the HTTP route: a number that is not one is refused, and no chat starts.
    ws.send(JSON.stringify({ type: 'start', caller: '+7 999 abc' }));
    const badCaller = await next((m) => m.type === 'error');
    assert.equal(badCaller.code, 'VALIDATION_FAILED');
    assert.match(badCaller.message ?? '', /Номер телефона/);
    ws.send(JSON.stringify({ type: 'start', caller: 79990001122 }));
    assert.match((await next((m) => m.type === 'error')).message ?? '', /строкой/);
    assert.equal(
      received.some((m) => m.type === 'started'),
      false,
    );

    ws.send(JSON.stringify({ type: 'start', caller: '+79990001122' }));
    const started = await next((m) => m.type === 'started');
    await next((m) => m.type === 'bot' && (m.text ?? '').includes('выберите тему'));
    ws.send(JSON.stringify({ type: 'message', text: '\u0000' }));
    assert.match((await next((m) => m.type === 'error')).message ?? '', /Сообщение пустое/);
    ws.send(JSON.stringify({ type: 'message', text: 'как записаться\u0000 к терапевту' }));
    await next((m) => m.type === 'bot' && (m.text ?? '').includes('регистратуре'));
    assert.deepEqual(await callerTurns(started.id!), ['как записаться к терапевту']);
    ws.close();
  });
});
