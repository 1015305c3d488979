import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/log.js';
import { listRevisions } from '../../kb/revisions.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { signInStaff, staffRequest } from '../../test/support/staff-api.js';
import { listAudit } from '../audit.js';
import { adminArea, build } from '../server.js';
import type { TypedApp } from '../typed.js';
import { addUser } from '../users.js';
import { studioIntentsPlugin } from './studio-intents.js';

/**
 * The studio's topics and intents over HTTP: who may read and write, an agency's editor kept to her
 * participant's topics, phrases flagged and held for confirmation, refusals with their Russian reasons, and
 * every write audited with a KB revision.
 */
const password = 'пароль-для-студии';

describe('topics and intents through the admin API', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  const tokens = new Map<string, string>();

  const request = staffRequest(() => base, tokens);

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    const users = [
      { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.' },
      { login: 'orlova', role: 'editor', name: 'Орлова И. В.', agency: 'minzdrav' },
      { login: 'lebedev', role: 'approver', name: 'Лебедев А. А.', agency: 'minzdrav' },
      { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.' },
    ] as const;
    for (const u of users) await addUser(db.sql, { ...u, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(studioIntentsPlugin, { sql: db.sql })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const { login } of users) {
      tokens.set(login, await signInStaff(base, login, password));
    }
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('lists topics with phrase counts for editors, approvers and supervisors; not for operators', async () => {
    const { status, body } = await request('GET', '/api/kb/topics', 'lebedev');
    assert.equal(status, 200);
    const health = body.topics.find((t: { id: string }) => t.id === 'health');
    assert.equal(health.editable, false, 'an approver reads');
    assert.ok(health.intents.find((i: { id: string }) => i.id === 'health.covid').phrases > 10);
    assert.equal((await request('GET', '/api/kb/topics', 'kuznetsov')).status, 403);
    assert.equal((await request('POST', '/api/kb/topics', 'lebedev', { id: 'x', title: 'X' })).status, 403);
    const own = (await request('GET', '/api/kb/topics', 'orlova')).body.topics;
    assert.deepEqual(
      own.filter((t: { editable: boolean }) => t.editable).map((t: { id: string }) => t.id),
      ['health'],
    );
  });

  it('keeps an agency editor to her topics, with the reason', async () => {
    const res = await request('POST', '/api/kb/topics/military/rename', 'orlova', { title: 'Армия' });
    assert.equal(res.status, 403);
    assert.match(res.body.message, /^Тема «Мобилизация и военная служба по контракту» относится к ведомству/);
    const made = await request('POST', '/api/kb/topics', 'orlova', { id: 'heat', title: 'Отопление' });
    assert.equal(made.status, 201);
    const topics = (await request('GET', '/api/kb/topics', 'orlova')).body.topics;
    assert.equal(topics.find((t: { id: string }) => t.id === 'heat').participantId, 'minzdrav');
  });

  it('creates an intent and adds phrases: duplicates skipped, another intent’s held for confirmation', async () => {
    const created = await request('POST', '/api/kb/intents', 'petrova', {
      id: 'heat.outage',
      topicId: 'heat',
      title: 'Нет отопления',
      phrases: ['нет отопления'],
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.intent.phrases, ['нет отопления']);
    const bad = await request('POST', '/api/kb/intents', 'petrova', {
      id: 'Heat',
      topicId: 'heat',
      title: 'x',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /недопустим/);

    const covid = 'у меня положительный тест на ковид что делать';
    const check = await request('POST', '/api/kb/intents/heat.outage/phrases/check', 'lebedev', {
      phrases: ['Нет отопления!', covid, 'батареи холодные'],
    });
    assert.deepEqual(
      check.body.flags.map((f: { status: string }) => f.status),
      ['duplicate', 'other_intent', 'new'],
    );
    const add = await request('POST', '/api/kb/intents/heat.outage/phrases', 'orlova', {
      phrases: ['Нет отопления!', covid, 'батареи холодные'],
    });
    assert.deepEqual(add.body, {
      added: ['батареи холодные'],
      skipped: ['Нет отопления!'],
      needsConfirmation: [{ text: covid, intent: 'health.covid', intentTitle: 'Коронавирусная инфекция' }],
    });
    const confirmed = await request('POST', '/api/kb/intents/heat.outage/phrases', 'orlova', {
      phrases: [covid],
      confirm: true,
    });
    assert.deepEqual(confirmed.body.added, [covid]);
    const removed = await request('POST', '/api/kb/intents/heat.outage/phrases/remove', 'orlova', {
      text: covid,
    });
    assert.equal(removed.body.removed, true);
  });

  it('refuses to retire or merge away what the bot needs, and merges otherwise', async () => {
    const retire = await request('POST', '/api/kb/intents/service.operator/retire', 'petrova', {});
    assert.equal(retire.status, 409);
    assert.match(retire.body.message, /нужно самому голосовому боту/);
    await request('POST', '/api/kb/intents', 'petrova', {
      id: 'heat.cold',
      topicId: 'heat',
      title: 'Холодно',
      phrases: ['дома холодно', 'батареи холодные'],
    });
    const merged = await request('POST', '/api/kb/intents/heat.cold/merge', 'petrova', {
      into: 'heat.outage',
    });
    assert.equal(merged.status, 200);
    assert.equal(merged.body.moved, 1);
    assert.equal(merged.body.dropped, 1);
    assert.deepEqual(merged.body.intent.phrases, ['нет отопления', 'батареи холодные', 'дома холодно']);
    const again = await request('POST', '/api/kb/intents/heat.cold/merge', 'petrova', {
      into: 'heat.outage',
    });
    assert.equal(again.status, 409);
    const restored = await request('POST', '/api/kb/intents/heat.cold/restore', 'petrova', {});
    assert.equal(restored.body.intent.retired, false);
  });

  it('audits every write with a KB revision', async () => {
    const audit = (await listAudit(db.sql)).filter((a) => a.action !== 'login');
    assert.deepEqual(
      audit.map((a) => `${a.login} ${a.action} ${a.object}`),
      [
        'orlova topic.create heat',
        'petrova intent.create heat.outage',
        'orlova intent.phrases_add heat.outage',
        'orlova intent.phrases_add heat.outage',
        'orlova intent.phrase_remove heat.outage',
        'petrova intent.create heat.cold',
        'petrova intent.merge heat.cold',
        'petrova intent.restore heat.cold',
      ],
    );
    const revisions = await listRevisions(db.sql, { search: 'heat' });
    assert.equal(revisions.length, audit.length);
  });
});
