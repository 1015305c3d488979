import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startOwnRedis } from './support/redis.js';

const root = new URL('..', import.meta.url).pathname;

/** `npm start` as a user runs it: one process on the embedded defaults, in a fresh data directory. */
describe('otklik serve on the embedded defaults', () => {
  it('starts from an empty data dir, answers in the chat, reports health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otklik-serve-'));
    // Its own Redis, so that the test can take it away (the shared one is never stopped).
    const redis = await startOwnRedis();
    const child = spawn(process.execPath, ['bin/otklik.js', 'serve'], {
      cwd: root,
      env: {
        ...process.env,
        OTKLIK_DATA_DIR: dataDir,
        NLU_MODEL_DIR: join(dataDir, 'nlu'),
        HTTP_PORT: '0',
        MEDIA_SOCKET_PORT: '0',
        LOG_LEVEL: 'warn',
        REDIS_URL: redis.url,
        SMTP_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
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

      const health = (await (await fetch(`${base}/api/health`)).json()) as {
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
      const { token } = (await login.json()) as { token: string };

      // No SMTP_URL: the start-up log and the overview say that inquiries are not mailed.
      assert.match(stdout, /SMTP_URL is not set: inquiries are not mailed/);
      const overview = (await (
        await fetch(`${base}/api/overview`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { health: { components: Record<string, { status: string; message?: string }> } };
      assert.equal(overview.health.components.mail?.status, 'off');
      assert.match(
        overview.health.components.mail?.message ?? '',
        /SMTP_URL не задан: обращения не отправляются/,
      );
      assert.equal(overview.health.components.jobs?.status, 'ready');

      // Redis goes away: health no longer says the jobs work.
      await redis.stop();
      const jobs = async () =>
        (
          (await (
            await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${token}` } })
          ).json()) as { status: string; components: Record<string, { status: string; message?: string }> }
        ).components.jobs;
      let down = await jobs();
      for (let i = 0; i < 50 && down?.status === 'ready'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        down = await jobs();
      }
      assert.equal(down?.status, 'failed');
      assert.match(down?.message ?? '', /Redis недоступен/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    await redis.stop();
  });
});
