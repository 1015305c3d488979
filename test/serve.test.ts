import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { signIn, startServe } from './support/serve.js';

/** `npm start` as a user runs it: one process on the embedded defaults, in a fresh data directory. */
describe('otklik serve on the embedded defaults', () => {
  it('starts from an empty data dir, answers in the chat, reports health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otklik-serve-'));
    const serve = await startServe({ OTKLIK_DATA_DIR: dataDir, NLU_MODEL_DIR: join(dataDir, 'nlu') });
    const { base } = serve;
    try {
      // Anonymous callers learn only whether the line works; the parts' detail is for signed-in staff.
      const anonymous = (await (await fetch(`${base}/api/health`)).json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(anonymous), ['status']);
      const adminPassword = readFileSync(join(dataDir, 'admin-password.txt'), 'utf8').trim();
      const { token } = (await (
        await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: 'admin', password: adminPassword }),
        })
      ).json()) as { token: string };
      const health = (await (
        await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        components: Record<string, { status: string; message?: string }>;
      };
      assert.equal(health.components.store?.status, 'ready');
      assert.equal(health.components.nlu?.status, 'ready');
      assert.equal(health.components.tts?.status, 'ready');
      // No ASR model ships: the service says so and keeps working.
      assert.match(health.components.asr?.status ?? '', /ready|model_missing/);

      const start = (await (
        await fetch(`${base}/api/chat/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json()) as { id: string; messages: Array<{ text: string }> };
      assert.match(start.messages.map((m) => m.text).join(' '), /Здравствуйте/);
      const reply = (await (
        await fetch(`${base}/api/chat/sessions/${start.id}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'как записать ребенка в детский сад' }),
        })
      ).json()) as { messages: Array<{ text: string }> };
      assert.match(reply.messages.map((m) => m.text).join(' '), /детск/i);

      // The first start created the staff user admin with a password only the service account can read.
      const password = readFileSync(join(dataDir, 'admin-password.txt'), 'utf8').trim();
      assert.equal(await signIn(base, 'admin', password), 200);
    } finally {
      serve.child.kill('SIGTERM');
    }
    assert.equal(await serve.exited, 0, serve.stderr());
  });
});
