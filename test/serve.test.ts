import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startOwnRedis } from './support/redis.js';
import { startServe } from './support/serve.js';

type Components = Record<string, { status: string; message?: string }>;

/** `npm start` as a user runs it: one process on the embedded defaults, in a fresh data directory. */
describe('otklik serve on the embedded defaults', () => {
  it('starts from an empty data dir, answers in the chat, reports health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'otklik-serve-'));
    // Its own Redis, so that the test can take it away (the shared one is never stopped).
    const redis = await startOwnRedis();
    const serve = await startServe({
      OTKLIK_DATA_DIR: dataDir,
      NLU_MODEL_DIR: join(dataDir, 'nlu'),
      REDIS_URL: redis.url,
      SMTP_URL: '',
    });
    const { base } = serve;
    try {
      // Anonymous callers learn only whether the line works; the parts' detail is for signed-in staff.
      const anonymous = (await (await fetch(`${base}/api/health`)).json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(anonymous), ['status']);

      // The first start created the staff user admin with a password only the service account can read.
      const password = readFileSync(join(dataDir, 'admin-password.txt'), 'utf8').trim();
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'admin', password }),
      });
      assert.equal(login.status, 200);
      const { token } = (await login.json()) as { token: string };
      const signedIn = { headers: { authorization: `Bearer ${token}` } };
      const components = async () =>
        ((await (await fetch(`${base}/api/health`, signedIn)).json()) as { components: Components })
          .components;

      const health = await components();
      assert.equal(health.store?.status, 'ready');
      assert.equal(health.nlu?.status, 'ready');
      assert.equal(health.tts?.status, 'ready');
      // No ASR model ships: the service says so and keeps working.
      assert.match(health.asr?.status ?? '', /ready|model_missing/);

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

      // Prometheus on /metrics for this host (no METRICS_TOKEN): the chat's turns and latency are counted, the
      // store's queues read; the API's description is for the signed-in admin.
      const scrape = await (await fetch(`${base}/metrics`)).text();
      assert.match(scrape, /^otklik_turns_total\{channel="text",speaker="caller"\} [1-9]/m);
      assert.match(scrape, /^otklik_turn_latency_seconds_count\{channel="text"\} [1-9]/m);
      assert.match(scrape, /^otklik_queue_waiting\{queue="default"\} 0$/m);
      assert.equal((await fetch(`${base}/docs/json`)).status, 401);
      assert.equal((await fetch(`${base}/docs/json`, signedIn)).status, 200);

      // No SMTP_URL: the start-up log and the overview say that inquiries are not mailed.
      assert.match(serve.stdout(), /SMTP_URL is not set: inquiries are not mailed/);
      const overview = (await (await fetch(`${base}/api/overview`, signedIn)).json()) as {
        health: { components: Components };
      };
      assert.equal(overview.health.components.mail?.status, 'off');
      assert.match(
        overview.health.components.mail?.message ?? '',
        /SMTP_URL не задан: обращения не отправляются/,
      );
      assert.equal(overview.health.components.jobs?.status, 'ready');

      // The operator desk is served: the close outcomes come from the KB, and the admin's desk is made.
      const outcomes = (await (await fetch(`${base}/api/desk/outcomes`, signedIn)).json()) as {
        outcomes: Array<{ id: string }>;
      };
      assert.equal(outcomes.outcomes[0]?.id, 'answered');
      const me = (await (await fetch(`${base}/api/desk/me`, signedIn)).json()) as {
        operator: { id: string };
      };
      assert.equal(me.operator.id, 'admin');

      // Redis goes away: health no longer says the jobs work.
      await redis.stop();
      let down = (await components()).jobs;
      for (let i = 0; i < 50 && down?.status === 'ready'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        down = (await components()).jobs;
      }
      assert.equal(down?.status, 'failed');
      assert.match(down?.message ?? '', /Redis недоступен/);
    } finally {
      serve.child.kill('SIGTERM');
    }
    assert.equal(await serve.exited, 0, serve.stderr());
    await redis.stop();
  });
});
