import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('..', import.meta.url).pathname;

/** `npm start` as a user runs it: one process on the embedded defaults, in a fresh data directory. */
describe('otklik serve on the embedded defaults', () => {
  it('starts from an empty data dir, answers in the chat, reports health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otklik-serve-'));
    const child = spawn(process.execPath, ['bin/otklik.js', 'serve'], {
      cwd: root,
      env: {
        ...process.env,
        OTKLIK_DATA_DIR: dataDir,
        NLU_MODEL_DIR: join(dataDir, 'nlu'),
        HTTP_PORT: '0',
        MEDIA_SOCKET_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /интерфейс сотрудников (http:\/\/[\d.]+:\d+)/.exec(stderr);
          if (m) {
            clearInterval(timer);
            resolve(m[1]!);
          }
        }, 100);
        exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`serve exited with ${code}: ${stderr}`));
        });
      });

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
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'admin', password }),
      });
      assert.equal(login.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });
});
