/**
 * One embedded PGlite directory, one process: a CLI command or a second `otklik serve` beside a running
 * server is refused with a message naming the process that holds the store, instead of writing into a
 * database the server overwrites (a user added this way used to vanish). test/store-lock-stale.test.ts:
 * the lock a server killed with kill -9 leaves behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { embeddedEnv, runCli, signIn, startServe } from './support/serve.js';

describe('embedded store beside a running otklik serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otklik-lock-'));
  const env = embeddedEnv(dataDir);
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses the CLI and a second server while one runs, and frees the store when it stops', async () => {
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
      first.child.kill('SIGTERM');
    }
    assert.equal(await first.exited, 0, first.stderr());
    assert.equal(existsSync(join(dataDir, 'pg.lock')), false, 'a clean stop releases the lock');
  });
});
