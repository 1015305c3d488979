/**
 * The desk's callbacks through the HTTP API (PGlite, the shared Redis under a prefix of the test's own): an
 * operator schedules a callback for a time the citizen asked for and it becomes due then (a BullMQ delayed
 * job); staff move, renumber and cancel it; operators see numbers masked, supervisors in clear; other roles
 * are refused; every change is audited.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { silentLogger } from '../../core/log.js';
import { OperatorQueue, queuedCall } from '../../telephony/queue.js';
import { eventually } from '../../telephony/testing/bot-socket.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { type RunningWorker, startWorker } from '../jobs/worker.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { callbacksPlugin } from './callbacks.js';

const password = 'пароль-для-стола';
const REDIS = 'redis://127.0.0.1:6379';
const hour = 3_600_000;

interface CallbackView {
  id: string;
  phone: string;
  state: string;
  source: string;
  dueAt: string | null;
  outcome: string | null;
  note: string | null;
  attempts: number;
  maxAttempts: number;
}

describe('callbacks on the desk (HTTP API)', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  let worker: RunningWorker;
  let jobs: Queue;
  let redis: Redis;
  let queue: OperatorQueue;
  let t = Date.parse('2026-03-02T10:00:00Z');
  const now = () => new Date(t);
  const tokens = new Map<string, string>();
  const prefix = `otklik-test-${randomUUID()}`;

  const request = async (method: string, path: string, login: string | null, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(login ? { authorization: `Bearer ${tokens.get(login)}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const list = async (login: string, query = '') =>
    (await request('GET', `/api/desk/callbacks${query}`, login)).body.callbacks as CallbackView[];

  before(async () => {
    db = await openTestDb('pglite');
    queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
    worker = await startWorker({
      redisUrl: REDIS,
      sql: db.sql,
      mailer: null,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix,
      callbacks: queue.callbacks,
      now,
    });
    redis = new Redis(REDIS, { maxRetriesPerRequest: null });
    jobs = new Queue('otklik-inquiries', { connection: redis, prefix });
    await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [
        adminArea(callbacksPlugin, {
          sql: db.sql,
          callbacks: queue.callbacks,
          schedule: (cb) => worker.scheduleCallback(cb),
          now,
        }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['kuznetsov', 'sidorova', 'petrova']) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      tokens.set(login, String(((await res.json()) as { token: string }).token));
    }
  });
  after(async () => {
    await app?.close();
    await worker?.close();
    await jobs?.close();
    redis?.disconnect();
    await db?.drop();
  });

  const audited = async (action: string) =>
    (
      await db.sql.query<{ login: string; object: string }>(
        'SELECT login, object FROM audit_log WHERE action = $1 ORDER BY id',
        [action],
      )
    ).map((r) => `${r.login} ${r.object}`);

  const delayedJobs = async (id: string) =>
    (await jobs.getDelayed()).filter((j) => j.name === 'callback-due' && j.data.callbackId === id);

  it('an operator schedules a callback for a time; it becomes due then, in the ACD at that place', async () => {
    const dueAt = new Date(t + hour);
    const created = await request('POST', '/api/desk/callbacks', 'kuznetsov', {
      phone: '+7 900 111-22-33',
      dueAt: dueAt.toISOString(),
      topicId: 'health',
      note: 'просила перезвонить после обеда',
    });
    assert.equal(created.status, 201);
    const cb = created.body.callback as CallbackView;
    assert.equal(cb.state, 'scheduled');
    assert.equal(cb.source, 'operator');
    assert.equal(cb.phone, '*********33');
    assert.equal(cb.dueAt, dueAt.toISOString());
    assert.equal(cb.maxAttempts, 3);
    assert.equal(cb.note, 'просила перезвонить после обеда');
    assert.deepEqual(await audited('callback.create'), [`kuznetsov ${cb.id}`]);

    // Operators see the number masked, supervisors in clear (and that view is audited).
    assert.deepEqual(
      (await list('kuznetsov', '?state=scheduled')).map((c) => c.phone),
      ['*********33'],
    );
    assert.deepEqual(
      (await list('sidorova')).map((c) => c.phone),
      ['+79001112233'],
    );
    assert.deepEqual(await audited('callback.list'), ['sidorova all']);
    assert.deepEqual(await list('kuznetsov', '?state=done'), []);

    // Not due yet: nothing in the ACD; a delayed job waits for its time.
    assert.equal(await queuedCall(db.sql, `callback:${cb.id}:1`), null);
    const [job] = await eventually(async () => {
      const found = await delayedJobs(cb.id);
      return found.length > 0 ? found : undefined;
    }, 'the delayed job');
    assert.equal(job!.opts.delay, hour);
    t += hour;
    await job!.promote();
    const entry = await eventually(
      () => queuedCall(db.sql, `callback:${cb.id}:1`),
      'the callback due in the ACD',
    );
    assert.equal(entry.state, 'waiting');
    assert.equal(entry.enqueuedAt.toISOString(), dueAt.toISOString());
    assert.equal(entry.context.callerNumber, '+79001112233');
    assert.equal((await list('kuznetsov'))[0]!.state, 'pending');
  });

  it('staff move it to another time, change the number and note, then cancel it', async () => {
    const [cb] = await list('kuznetsov');
    const later = new Date(t + 2 * hour);
    const moved = await request('PUT', `/api/desk/callbacks/${cb!.id}`, 'kuznetsov', {
      dueAt: later.toISOString(),
    });
    assert.equal(moved.status, 200);
    assert.equal((moved.body.callback as CallbackView).state, 'scheduled');
    assert.equal((moved.body.callback as CallbackView).dueAt, later.toISOString());
    // Out of the ACD until its new time; a job for that time.
    assert.equal(await queuedCall(db.sql, `callback:${cb!.id}:1`), null);
    await eventually(
      async () => (await delayedJobs(cb!.id)).some((j) => j.opts.delay === 2 * hour),
      'the job for the new time',
    );

    const renumbered = await request('PUT', `/api/desk/callbacks/${cb!.id}`, 'kuznetsov', {
      phone: '+79005556677',
      note: 'другой номер, мобильный',
    });
    assert.equal((renumbered.body.callback as CallbackView).phone, '*********77');
    assert.equal((renumbered.body.callback as CallbackView).note, 'другой номер, мобильный');
    assert.equal((await list('sidorova'))[0]!.phone, '+79005556677');

    const cancelled = await request('PUT', `/api/desk/callbacks/${cb!.id}`, 'sidorova', {
      state: 'cancelled',
    });
    assert.equal(cancelled.status, 200);
    assert.equal((cancelled.body.callback as CallbackView).state, 'cancelled');
    assert.equal((cancelled.body.callback as CallbackView).outcome, 'cancelled');
    // Its old job fires at the time and finds nothing to do.
    t += 2 * hour;
    for (const j of await delayedJobs(cb!.id)) await j.promote();
    await eventually(async () => (await delayedJobs(cb!.id)).length === 0, 'the jobs ran');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await queuedCall(db.sql, `callback:${cb!.id}:1`), null);
    assert.equal((await list('kuznetsov'))[0]!.state, 'cancelled');
    assert.deepEqual(await audited('callback.edit'), [
      `kuznetsov ${cb!.id}`,
      `kuznetsov ${cb!.id}`,
      `sidorova ${cb!.id}`,
    ]);
  });

  it('a callback due now goes straight to the ACD; done by hand closes it', async () => {
    const created = await request('POST', '/api/desk/callbacks', 'kuznetsov', { phone: '89001234567' });
    const cb = created.body.callback as CallbackView;
    assert.equal(cb.state, 'pending');
    assert.equal((await queuedCall(db.sql, `callback:${cb.id}:1`))?.state, 'waiting');
    const done = await request('PUT', `/api/desk/callbacks/${cb.id}`, 'kuznetsov', { state: 'done' });
    assert.equal((done.body.callback as CallbackView).state, 'done');
    assert.equal(await queuedCall(db.sql, `callback:${cb.id}:1`), null);
    // A done callback gets no new time.
    const again = await request('PUT', `/api/desk/callbacks/${cb.id}`, 'kuznetsov', {
      dueAt: new Date(t + hour).toISOString(),
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'CONFLICT');
  });

  it('refuses other roles, strangers, bad numbers and unknown callbacks', async () => {
    assert.equal((await request('GET', '/api/desk/callbacks', null)).status, 401);
    assert.equal((await request('GET', '/api/desk/callbacks', 'petrova')).status, 403);
    const refused = await request('POST', '/api/desk/callbacks', 'petrova', { phone: '+79001112233' });
    assert.equal(refused.status, 403);
    const bad = await request('POST', '/api/desk/callbacks', 'kuznetsov', { phone: 'позвоните мне' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    const badTime = await request('POST', '/api/desk/callbacks', 'kuznetsov', {
      phone: '+79001112233',
      dueAt: 'завтра утром',
    });
    assert.equal(badTime.status, 400);
    const unknown = await request('PUT', '/api/desk/callbacks/nope', 'kuznetsov', { state: 'cancelled' });
    assert.equal(unknown.status, 404);
    assert.equal((await request('GET', '/api/desk/callbacks?state=lost', 'kuznetsov')).status, 400);
  });
});
