/**
 * One embedded PGlite directory, one process: a CLI command or a second `otklik serve` beside a running
 * server is refused with a message naming the process that holds the store, instead of writing into a
 * database the server overwrites (a user added this way used to vanish). A server killed with kill -9
 * leaves a stale lock that the next start takes over.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, signIn, startServe } from './support/serve.js';

describe('embedded store beside a running otklik serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otklik-lock-'));
  const env = {
    OTKLIK_DATA_DIR: dataDir,
    NLU_MODEL_DIR: join(dataDir, 'nlu'),
    OTKLIK_ADMIN_PASSWORD: 'admin-pass-122',
    // Inquiries are not under test: no worker on the Redis other tests share.
    REDIS_URL: 'redis://127.0.0.1:1',
  };
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses the CLI and a second server while one runs, and starts again after kill -9', async () => {
    const first = await startServe(env);
    try {
      const pid = String(first.child.pid);
      // The CLI and a second server, side by side (each start is slow on a loaded machine).
      const [added, second] = await Promise.all([
        runCli(['admin', 'user-add', 'petrova', '--role', 'operator', '--name', 'Петрова А. А.'], {
          ...env,
          OTKLIK_USER_PASSWORD: 'operator-pass-1',
        }),
        startServe(env).then(
          (s) => {
            s.child.kill('SIGKILL');
            return null;
          },
          (err: { code: number | null; stderr: string }) => err,
        ),
      ]);
      assert.notEqual(added.code, 0, `user-add claimed success beside a running server:\n${added.stdout}`);
      assert.doesNotMatch(added.stdout, /добавлен/);
      assert.match(added.stderr, /база данных .* занята/i);
      assert.match(added.stderr, new RegExp(`pid ${pid}\\b`));
      assert.match(added.stderr, /otklik serve/);
      assert.match(added.stderr, /DATABASE_URL/);
      // Nothing half-written: the server does not know the user either.
      assert.equal(await signIn(first.base, 'petrova', 'operator-pass-1'), 401);

      assert.ok(second, 'a second serve on the same data dir started');
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, new RegExp(`pid ${pid}\\b`));
      assert.equal(
        await signIn(first.base, 'admin', 'admin-pass-122'),
        200,
        'the first server keeps serving',
      );
    } finally {
      first.child.kill('SIGKILL');
    }
    assert.equal(await first.exited, 137);
    const lock = JSON.parse(readFileSync(join(dataDir, 'pg.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, first.child.pid, 'kill -9 left the lock behind');

    // The lock's holder is gone: the CLI takes it over, and the user it adds can sign in at the next start.
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
