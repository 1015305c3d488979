/**
 * The inbox's API without a browser (PGlite, sample KB): the default period is the region's last 30 days,
 * decisions hide what they decided and nothing else, a new intent from a group, the refusals and the roles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addTurn, createCall, endCall } from '../../calls/records.js';
import { silentLogger } from '../../core/log.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { adminArea, build } from '../server.js';
import { addUser } from '../users.js';
import { inboxPlugin } from './inbox.js';

const password = 'пароль-для-теста';
// 1 December 2026, 23:30 in Moscow: still the 1st there, already the 2nd nowhere that matters.
const NOW = new Date('2026-12-01T20:30:00Z');
// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field
type Json = Record<string, any>;

describe('admin/plugins/inbox: the inbox API', () => {
  let db: TestDb;
  let base: string;
  let close: () => Promise<void>;
  const tokens = new Map<string, string>();
  const request = async (method: string, path: string, login: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens.get(login)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    await addUser(db.sql, { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.', password });
    await addUser(db.sql, { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.', password });
    await addUser(db.sql, { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.', password });
    const calls: Array<[string, string, string[]]> = [
      ['c1', '2026-11-30T09:00:00Z', ['когда отключат горячую воду', 'где взять справку для бассейна']],
      ['c2', '2026-12-01T09:00:00Z', ['когда отключат горячую воду']],
      // 1 November in Moscow is outside the last 30 days (2 November – 1 December).
      ['c-old', '2026-11-01T08:00:00Z', ['как продлить парковочное разрешение']],
    ];
    for (const [id, at, texts] of calls) {
      await createCall(db.sql, {
        id,
        channel: 'text',
        callerNumber: null,
        dialledNumber: '122',
        startedAt: new Date(at),
      });
      for (const [i, text] of texts.entries())
        await addTurn(db.sql, id, i + 1, {
          who: 'caller',
          text,
          atMs: 1000 * (i + 1),
          intent: 'out_of_scope',
          confidence: 0.9,
        });
      await endCall(db.sql, id, 'answered', new Date(Date.parse(at) + 60_000));
    }
    const kb = createKnowledgeBase(db.sql);
    const app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(inboxPlugin, { sql: db.sql, kb, now: () => NOW })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
    for (const login of ['petrova', 'sidorova', 'kuznetsov']) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      });
      tokens.set(login, String(((await res.json()) as { token: string }).token));
    }
  });
  after(async () => {
    await close?.();
    await db?.drop();
  });

  const labels = (body: Json) => body.groups.map((g: Json) => `${g.label} ×${g.count}`);

  it('reads the last 30 days of the region’s calendar, for editors and supervisors only', async () => {
    const res = await request('GET', '/api/kb/inbox', 'petrova');
    assert.equal(res.status, 200);
    assert.equal(res.body.from, '2026-11-02');
    assert.equal(res.body.to, '2026-12-01');
    assert.deepEqual(labels(res.body), [
      'когда отключат горячую воду ×2',
      'где взять справку для бассейна ×1',
    ]);
    assert.equal(res.body.callLinks, false);
    // The week of Monday 30 November: 3 turns, all missed.
    assert.deepEqual(res.body.weeks.at(-1), { week: '2026-11-30', turns: 3, unrecognized: 3, share: 1 });
    assert.equal((await request('GET', '/api/kb/inbox', 'sidorova')).body.callLinks, true);
    assert.equal((await request('GET', '/api/kb/inbox', 'kuznetsov')).status, 403);
    const wide = await request('GET', '/api/kb/inbox?from=2026-11-01&to=2026-11-01', 'petrova');
    assert.deepEqual(labels(wide.body), ['как продлить парковочное разрешение ×1']);
    assert.equal(
      (await request('GET', '/api/kb/inbox?from=2026-11-05&to=2026-11-01', 'petrova')).status,
      400,
    );
  });

  it('dismissing hides that group only, and only editors decide', async () => {
    const { body } = await request('GET', '/api/kb/inbox', 'petrova');
    const water = body.groups.find((g: Json) => g.label === 'когда отключат горячую воду');
    assert.equal(
      (await request('POST', '/api/kb/inbox/dismiss', 'sidorova', { keys: water.keys })).status,
      403,
    );
    const res = await request('POST', '/api/kb/inbox/dismiss', 'petrova', {
      keys: water.keys,
      sample: water.label,
    });
    assert.deepEqual(res.body, { dismissed: 1 });
    assert.deepEqual(labels((await request('GET', '/api/kb/inbox', 'petrova')).body), [
      'где взять справку для бассейна ×1',
    ]);
  });

  it('refuses an unknown intent, a taken intent id and an unknown topic', async () => {
    const keys = ['x'];
    const unknown = await request('POST', '/api/kb/inbox/assign', 'petrova', {
      intentId: 'no.such',
      phrase: 'а',
      keys,
    });
    assert.equal(unknown.status, 404);
    const taken = await request('POST', '/api/kb/inbox/new-intent', 'petrova', {
      id: 'health.appointment',
      topicId: 'health',
      title: 'Запись',
      phrases: ['запишите меня'],
      keys,
    });
    assert.equal(taken.status, 409);
    assert.match(taken.body.message, /Намерение «health.appointment» уже есть/);
    const topic = await request('POST', '/api/kb/inbox/new-intent', 'petrova', {
      id: 'health.pool_certificate',
      topicId: 'no_such_topic',
      title: 'Справка для бассейна',
      phrases: ['где взять справку для бассейна'],
      keys,
    });
    assert.equal(topic.status, 404);
    const badId = await request('POST', '/api/kb/inbox/new-intent', 'petrova', {
      id: 'Health Pool',
      topicId: 'health',
      title: 'Справка',
      phrases: ['справка'],
      keys,
    });
    assert.equal(badId.status, 400);
  });

  it('makes a new intent of a group with its phrases', async () => {
    const { body } = await request('GET', '/api/kb/inbox', 'petrova');
    const pool = body.groups.find((g: Json) => g.label === 'где взять справку для бассейна');
    const res = await request('POST', '/api/kb/inbox/new-intent', 'petrova', {
      id: 'health.pool_certificate',
      topicId: 'health',
      title: 'Справка для бассейна',
      phrases: pool.texts,
      keys: pool.keys,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const intent = await createKnowledgeBase(db.sql).intent('health.pool_certificate');
    assert.deepEqual(intent?.phrases, ['где взять справку для бассейна']);
    assert.deepEqual(labels((await request('GET', '/api/kb/inbox', 'petrova')).body), []);
  });
});
