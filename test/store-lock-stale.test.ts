/**
 * kill -9 of `otklik serve` leaves its lock on the embedded store behind (test/store-lock.test.ts): the
 * next process sees that the holder is gone and takes the store over, and nothing written is lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { embeddedEnv, runCli, signIn, startServe } from './support/serve.js';

describe('embedded store after kill -9 of otklik serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otklik-stale-'));
  const env = embeddedEnv(dataDir);
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the CLI and the next start take over the stale lock', async () => {
    const first = await startServe(env);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 137);
    const lock = JSON.parse(readFileSync(join(dataDir, 'pg.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, first.child.pid, 'kill -9 left the lock behind');

    const added = await runCli(
      ['admin', 'user-add', 'petrova', '--role', 'operator', '--name', 'Петрова А. А.'],
      {
        ...env,
        OTKLIK_USER_PASSWORD: 'operator-pass-1',
      },
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Сотрудник petrova \(operator\) добавлен/);
    const restarted = await startServe(env);
    try {
      assert.equal(await signIn(restarted.base, 'admin', 'admin-pass-122'), 200);
      assert.equal(await signIn(restarted.base, 'petrova', 'operator-pass-1'), 200);
    } finally {
      restarted.child.kill('SIGTERM');
    }
    assert.equal(await restarted.exited, 0, restarted.stderr());
  });
});
