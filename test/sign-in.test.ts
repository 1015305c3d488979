import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { openTestDb, type TestDb } from './support/db.js';

/**
 * Staff sign-in against password guessing: failures per login are limited and then locked out (the app's
 * clock is the test's: it moves past the lockout instead of waiting for it), every
 * failure is audited with the caller's masked address, and an unknown login costs as much time as a known one.
 */
const password = 'верный-пароль-1';

describe('staff sign-in', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let clock = Date.parse('2026-11-24T09:00:00+03:00');

  const signIn = async (login: string, pw: string) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password: pw }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    db = await openTestDb('pglite');
    for (const login of ['petrova', 'sidorova', 'ivanov', 'orlova'])
      await addUser(db.sql, { login, role: 'editor', name: login, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      signIn: { maxFailures: 3, lockoutMs: 1500 },
      now: () => new Date(clock),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('locks a login after the configured number of failures, with Retry-After, then lets it in again', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await signIn('petrova', 'неверный');
      assert.equal(res.status, 401);
      assert.equal(res.body.message, 'Неверный логин или пароль');
    }
    // Locked: even the right password is refused, and the refusal says when to try again.
    const locked = await signIn('petrova', password);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error, 'SIGN_IN_LOCKED');
    assert.equal(locked.body.retryable, true);
    assert.match(
      String(locked.body.message),
      /Слишком много неудачных попыток входа.*попробуйте через 1 мин\./,
    );
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    // Another login is not affected.
    assert.equal((await signIn('sidorova', password)).status, 200);

    clock += retryAfter * 1000 + 100;
    const again = await signIn('petrova', password);
    assert.equal(again.status, 200, JSON.stringify(again.body));

    const audit = await db.sql.query<{ action: string; details: { pii?: { ip?: string } } }>(
      `SELECT action, details FROM audit_log WHERE login = 'petrova' ORDER BY id`,
    );
    assert.deepEqual(
      audit.map((a) => a.action),
      ['login.failed', 'login.failed', 'login.failed', 'login.locked', 'login'],
    );
    assert.equal(audit[0]?.details.pii?.ip, '127.0.*.*');
  });

  it('audits a failed sign-in for a login that does not exist', async () => {
    assert.equal((await signIn('nobody', 'что-угодно')).status, 401);
    const [row] = await db.sql.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE login = 'nobody'`,
    );
    assert.equal(row?.action, 'login.failed');
  });

  it('takes as long for an unknown login as for a known one with a wrong password', async () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const time = async (login: string) => {
      const started = performance.now();
      assert.equal((await signIn(login, 'неверный')).status, 401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Two failures each (under the limit of three), alternating so that load on the machine hits both alike.
    for (let i = 0; i < 2; i++) {
      known.push(await time('ivanov'));
      unknown.push(await time(`ghost-${i}-a`));
      unknown.push(await time(`ghost-${i}-b`));
    }
    known.push(await time('sidorova'), await time('sidorova'));
    // Without the dummy hash an unknown login answers in about a millisecond, a known one after scrypt.
    assert.ok(
      median(unknown) > median(known) * 0.5,
      `unknown ${median(unknown).toFixed(1)} ms, known ${median(known).toFixed(1)} ms`,
    );
  });

  it('counts guesses sent at once: no more than the limit are checked, the rest are refused as locked', async () => {
    // Each attempt is counted before its password is checked; counted after, all eight would pass the
    // check while the first were still hashing, and a burst could try any number of passwords.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn('orlova', `догадка-${i}`)));
    const statuses = burst.map((r) => r.status).sort();
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429, 429, 429]);
    const locked = await signIn('orlova', password);
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error, 'SIGN_IN_LOCKED');
    const audit = await db.sql.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE login = 'orlova' GROUP BY action ORDER BY action`,
    );
    assert.deepEqual(audit, [
      { action: 'login.failed', n: 3 },
      { action: 'login.locked', n: 6 },
    ]);
  });
});
