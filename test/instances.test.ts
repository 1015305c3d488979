/**
 * Two `otklik serve` instances on one PostgreSQL database, each serving a live chat call. One is killed
 * with kill -9 and restarted: only its own call becomes «interrupted»; the other instance's call stays
 * active and goes on. The killed instance keeps its default instance id (host, HTTP port, data dir)
 * across the restart; the other one has OTKLIK_INSTANCE_ID set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getCall } from '../calls/records.js';
import { openTestDb } from './support/db.js';
import { embeddedEnv, startServe } from './support/serve.js';

async function startChat(base: string): Promise<string> {
  const res = await fetch(`${base}/api/chat/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

async function say(base: string, id: string, text: string): Promise<string> {
  const res = await fetch(`${base}/api/chat/sessions/${id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text).join(' ');
}

describe('two instances on one PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otklik-instances-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a restarted instance closes only its own calls', async () => {
    const db = await openTestDb('postgres');
    // One trained NLU model for both (and for the restart).
    const shared = { DATABASE_URL: db.url!, NLU_MODEL_DIR: join(dir, 'nlu') };
    const envA = { ...embeddedEnv(join(dir, 'a')), ...shared };
    const envB = { ...embeddedEnv(join(dir, 'b')), ...shared, OTKLIK_INSTANCE_ID: 'instance-b' };
    const a = await startServe(envA);
    let b: Awaited<ReturnType<typeof startServe>> | undefined;
    let a2: Awaited<ReturnType<typeof startServe>> | undefined;
    try {
      b = await startServe(envB);
      const callA = await startChat(a.base);
      const callB = await startChat(b.base);
      assert.equal((await getCall(db.sql, callA))?.status, 'active');
      assert.equal((await getCall(db.sql, callB))?.status, 'active');

      a.child.kill('SIGKILL');
      assert.equal(await a.exited, 137);
      a2 = await startServe(envA);

      assert.equal(
        (await getCall(db.sql, callA))?.status,
        'interrupted',
        'the restarted instance closed its call',
      );
      const other = await getCall(db.sql, callB);
      assert.equal(other?.status, 'active', "the other instance's call is still active");
      assert.equal(other?.endedAt, null);
      // ...and it still answers its caller.
      assert.match(await say(b.base, callB, 'как записать ребенка в детский сад'), /детск/i);
      assert.equal((await getCall(db.sql, callB))?.status, 'active');
    } finally {
      for (const s of [a, b, a2]) s?.child.kill('SIGTERM');
      await Promise.all([a.exited, b?.exited, a2?.exited]);
      await db.drop();
    }
  });
});
