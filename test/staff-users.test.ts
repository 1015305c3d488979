import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kbPlugin } from '../admin/plugins/kb.js';
import { usersPlugin } from '../admin/plugins/users.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser, type Role } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { ensureSeeded } from '../kb/seed.js';
import { openTestDb, type TestDb } from './support/db.js';

/**
 * Staff accounts managed by the admin through the API (admin/plugins/users.ts): create, change, disable,
 * unlock, reset; the rules that keep an admin in charge; the lockout after failed sign-ins on the test's
 * clock; the audit log's viewer; and that an editor of an agency writes only for that agency's topics.
 */
const password = 'пароль-проверки-сотрудников';
const LOCKOUT_MS = 15 * 60_000;

describe('staff accounts and the audit log (API)', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let clock = Date.parse('2026-11-24T09:00:00+03:00');
  const now = () => new Date(clock);

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields it asserts on
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const signIn = (login: string, pw = password) =>
    call('POST', '/api/auth/login', undefined, { login, password: pw });
  const tokenOf = async (login: string, pw = password) => {
    const res = await signIn(login, pw);
    assert.equal(res.status, 200, `${login} signs in: ${JSON.stringify(res.body)}`);
    return String(res.body.token);
  };

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const staff: Array<[string, Role, string | null]> = [
      ['boss', 'admin', null],
      ['sidorova', 'supervisor', null],
      ['petrova', 'editor', null],
      ['kuznetsov', 'operator', null],
      ['lebedeva', 'editor', 'minsoc'],
      ['volkova', 'editor', null],
    ];
    for (const [login, role, agency] of staff)
      await addUser(db.sql, { login, role, name: login, agency, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      now,
      signIn: { maxFailures: 5, lockoutMs: LOCKOUT_MS },
      plugins: [adminArea(usersPlugin, { sql: db.sql, now }), adminArea(kbPlugin, { sql: db.sql })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('lets only the admin manage accounts, and the admin and supervisor read the audit log', async () => {
    const routes: Array<[string, string, unknown, Role[]]> = [
      ['GET', '/api/users', undefined, ['admin']],
      ['POST', '/api/users', { login: 'x', name: 'X', role: 'operator' }, ['admin']],
      ['POST', '/api/users/nobody', { name: 'X' }, ['admin']],
      ['POST', '/api/users/nobody/disable', {}, ['admin']],
      ['POST', '/api/users/nobody/enable', {}, ['admin']],
      ['POST', '/api/users/nobody/unlock', {}, ['admin']],
      ['POST', '/api/users/nobody/reset-password', {}, ['admin']],
      ['GET', '/api/audit', undefined, ['admin', 'supervisor']],
    ];
    const as: Record<string, string> = {
      admin: await tokenOf('boss'),
      supervisor: await tokenOf('sidorova'),
      editor: await tokenOf('petrova'),
      operator: await tokenOf('kuznetsov'),
    };
    const wrong: string[] = [];
    for (const [method, path, body, allowed] of routes) {
      if ((await call(method, path, undefined, body)).status !== 401) wrong.push(`${path} anonymous`);
      for (const [role, token] of Object.entries(as)) {
        // The admin's mutating calls name an account that does not exist (404) or create one (201).
        if (role === 'admin' && method === 'POST') continue;
        const res = await call(method, path, token, body);
        const letIn = allowed.includes(role as Role);
        if (letIn ? res.status !== 200 : res.status !== 403)
          wrong.push(`${method} ${path} as ${role}: ${res.status}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.equal((await call('POST', '/api/users/nobody/disable', as.admin, {})).status, 404);
  });

  it('creates an account with a password shown once, who then signs in; refuses a taken login in Russian', async () => {
    const admin = await tokenOf('boss');
    const created = await call('POST', '/api/users', admin, {
      login: 'smirnova',
      name: 'Смирнова О. П.',
      role: 'approver',
      agency: 'minzdrav',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const generated = String(created.body.password);
    assert.match(generated, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    assert.equal(created.body.user.agencyName, 'Министерство здравоохранения Энской области');
    await tokenOf('smirnova', generated);
    // The list never carries a password or its hash.
    const list = await call('GET', '/api/users', admin);
    const row = list.body.users.find((u: { login: string }) => u.login === 'smirnova');
    assert.deepEqual(Object.keys(row).sort(), [
      'agency',
      'agencyName',
      'createdAt',
      'disabled',
      'lastSignInAt',
      'lockedUntil',
      'login',
      'name',
      'role',
    ]);
    assert.equal(new Date(row.lastSignInAt).getTime(), clock);
    assert.ok(list.body.participants.some((p: { id: string }) => p.id === 'minsoc'));

    const taken = await call('POST', '/api/users', admin, {
      login: 'smirnova',
      name: 'Другая',
      role: 'operator',
    });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.message, 'Учётная запись «smirnova» уже есть');
    const badAgency = await call('POST', '/api/users', admin, {
      login: 'x1',
      name: 'X',
      role: 'editor',
      agency: 'minfin',
    });
    assert.equal(badAgency.status, 400);
    assert.match(badAgency.body.message, /Ведомства «minfin» нет в базе знаний/);
    const [audit] = await db.sql.query<{ login: string; object: string; details: Record<string, unknown> }>(
      `SELECT login, object, details FROM audit_log WHERE action = 'user.create'`,
    );
    assert.deepEqual(audit, {
      login: 'boss',
      object: 'smirnova',
      details: { role: 'approver', agency: 'minzdrav', passwordGenerated: true },
    });
  });

  it('disables an account (its sessions end at once), enables it; keeps one active admin', async () => {
    const admin = await tokenOf('boss');
    const operator = await tokenOf('kuznetsov');
    assert.equal((await call('GET', '/api/auth/me', operator)).status, 200);
    const off = await call('POST', '/api/users/kuznetsov/disable', admin, {});
    assert.equal(off.status, 200);
    assert.equal(off.body.user.disabled, true);
    assert.equal((await call('GET', '/api/auth/me', operator)).status, 401);
    assert.equal((await signIn('kuznetsov')).status, 401);
    assert.equal((await call('POST', '/api/users/kuznetsov/enable', admin, {})).status, 200);
    await tokenOf('kuznetsov');

    const self = await call('POST', '/api/users/boss/disable', admin, {});
    assert.equal(self.status, 409);
    assert.equal(self.body.message, 'Нельзя отключить собственную учётную запись');
    const demote = await call('POST', '/api/users/boss', admin, { role: 'supervisor' });
    assert.equal(demote.status, 409);
    assert.match(demote.body.message, /единственный действующий администратор/);
    // With a second admin, the first may be given another role (by the second, here).
    assert.equal((await call('POST', '/api/users/sidorova', admin, { role: 'admin' })).status, 200);
    const second = await tokenOf('sidorova');
    const changed = await call('POST', '/api/users/sidorova', second, {
      role: 'supervisor',
      name: 'Сидорова А. В.',
    });
    assert.equal(changed.status, 200, 'boss is still an active admin');
    assert.equal(changed.body.user.role, 'supervisor');
  });

  it('locks a login after five failures until an admin unlocks it, and lifts the lock by itself later', async () => {
    const admin = await tokenOf('boss');
    for (let i = 0; i < 5; i++) assert.equal((await signIn('petrova', 'неверный')).status, 401);
    const locked = await signIn('petrova');
    assert.equal(locked.status, 429);
    assert.match(locked.body.message, /попробуйте через 15 мин\. или обратитесь к администратору/);
    const listed = (await call('GET', '/api/users', admin)).body.users.find(
      (u: { login: string }) => u.login === 'petrova',
    );
    assert.equal(new Date(listed.lockedUntil).getTime(), clock + LOCKOUT_MS);

    const unlocked = await call('POST', '/api/users/petrova/unlock', admin, {});
    assert.equal(unlocked.status, 200);
    assert.equal(unlocked.body.user.lockedUntil, null);
    await tokenOf('petrova');

    // Locked again; fifteen minutes later it may try without anyone's help.
    for (let i = 0; i < 5; i++) await signIn('petrova', 'неверный');
    assert.equal((await signIn('petrova')).status, 429);
    clock += LOCKOUT_MS + 1000;
    await tokenOf('petrova');
    const actions = await db.sql.query<{ action: string; login: string }>(
      `SELECT action, login FROM audit_log WHERE object = 'petrova' AND action LIKE 'user.%'`,
    );
    assert.deepEqual(actions, [{ action: 'user.unlock', login: 'boss' }]);
  });

  it('resets a password: the new one works, the old one and every open session do not', async () => {
    const admin = await tokenOf('boss');
    const session = await tokenOf('petrova');
    const reset = await call('POST', '/api/users/petrova/reset-password', admin, {});
    assert.equal(reset.status, 200);
    const fresh = String(reset.body.password);
    assert.equal((await call('GET', '/api/auth/me', session)).status, 401);
    assert.equal((await signIn('petrova')).status, 401);
    await tokenOf('petrova', fresh);
    const [row] = await db.sql.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = 'user.reset_password' AND object = 'petrova'`,
    );
    // Every session petrova opened in these tests.
    assert.equal(row?.details.passwordGenerated, true);
    assert.ok(Number(row?.details.sessionsEnded) >= 1);
    assert.doesNotMatch(JSON.stringify(row?.details), new RegExp(fresh), 'the password is never audited');
  });

  it('the audit log filters by login, action prefix, object and period, newest first, page by page', async () => {
    await db.sql.query(
      `INSERT INTO audit_log (at, login, action, object) VALUES
         ('2026-11-20T10:00:00+03:00', 'orlova', 'answer.draft', 'social.benefits@v2'),
         ('2026-11-21T10:00:00+03:00', 'orlova', 'answer.submit', 'social.benefits@v2'),
         ('2026-11-22T10:00:00+03:00', 'orlova', 'answer.approve', 'social.benefits@v2'),
         ('2026-11-22T11:00:00+03:00', 'orlova', 'login', NULL),
         ('2026-11-23T10:00:00+03:00', 'ivanov', 'answer.approve', 'health.checkup@v3')`,
    );
    const supervisor = await tokenOf('sidorova');
    const q = async (query: string) => {
      const res = await call('GET', `/api/audit?${query}`, supervisor);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as {
        entries: Array<{ action: string; login: string; object: string }>;
        next: number | null;
      };
    };
    const answers = await q('login=orlova&action=answer.');
    assert.deepEqual(
      answers.entries.map((e) => e.action),
      ['answer.approve', 'answer.submit', 'answer.draft'],
    );
    const period = await q(
      `action=answer.&from=${encodeURIComponent('2026-11-21T00:00:00+03:00')}&to=${encodeURIComponent('2026-11-23T00:00:00+03:00')}`,
    );
    assert.deepEqual(
      period.entries.map((e) => `${e.login} ${e.action}`),
      ['orlova answer.approve', 'orlova answer.submit'],
    );
    assert.deepEqual(
      (await q('object=health.')).entries.map((e) => e.login),
      ['ivanov'],
    );
    // A literal "_" in the filter is not a wildcard.
    assert.deepEqual((await q('action=answer_')).entries, []);
    const first = await q('login=orlova&limit=3');
    assert.equal(first.entries.length, 3);
    assert.ok(first.next);
    const rest = await q(`login=orlova&limit=3&before=${first.next}`);
    assert.deepEqual(
      rest.entries.map((e) => e.action),
      ['answer.draft'],
    );
    assert.equal(rest.next, null);
    const backwards = await call(
      'GET',
      '/api/audit?from=2026-11-23T00:00:00Z&to=2026-11-22T00:00:00Z',
      supervisor,
    );
    assert.equal(backwards.status, 400);
  });

  it('an editor of an agency drafts and submits only for its topics; a region editor for all', async () => {
    const agencyEditor = await tokenOf('lebedeva');
    const regionEditor = await tokenOf('volkova');
    const text = { speech: 'Проверочный ответ.', screen: 'Проверочный ответ для экрана.' };
    const other = await call('POST', '/api/kb/answers/health.appointment/versions', agencyEditor, text);
    assert.equal(other.status, 403);
    assert.equal(other.body.error, 'EDITOR_OTHER_AGENCY');
    assert.match(
      other.body.message,
      /Тема «Здравоохранение» относится к ведомству «Министерство здравоохранения Энской области»; учётная запись lebedeva работает только с темами ведомства «Министерство социальной защиты населения Энской области»/,
    );
    const own = await call('POST', '/api/kb/answers/social.benefits/versions', agencyEditor, text);
    assert.equal(own.status, 201, JSON.stringify(own.body));
    assert.equal(
      (
        await call(
          'POST',
          `/api/kb/answers/social.benefits/versions/${own.body.version}/submit`,
          agencyEditor,
          {},
        )
      ).status,
      200,
    );
    // A draft of another agency's topic, written by the region's editor: the agency's editor cannot submit it.
    const health = await call('POST', '/api/kb/answers/health.appointment/versions', regionEditor, text);
    assert.equal(health.status, 201);
    const submit = await call(
      'POST',
      `/api/kb/answers/health.appointment/versions/${health.body.version}/submit`,
      agencyEditor,
      {},
    );
    assert.equal(submit.status, 403);
    assert.equal(submit.body.error, 'EDITOR_OTHER_AGENCY');
    const versions = await createKbEditor(db.sql).versions('health.appointment');
    assert.equal(versions.at(-1)?.status, 'draft');
  });
});
