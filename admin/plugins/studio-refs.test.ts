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
import { studioRefsPlugin } from './studio-refs.js';

/**
 * The reference data's routes on the shipped KB: who may read and write, a refused save answered 400 with the
 * Russian reason and nothing stored, every save audited (and a KB revision for the KB's own sections), and the
 * incident with its topic and answer in one request.
 */
const password = 'пароль-для-справочников';
const NOW = new Date('2026-12-08T11:00:00+03:00');

describe('the knowledge studio reference data through the admin API', () => {
  let db: TestDb;
  let app: TypedApp;
  let base: string;
  const tokens = new Map<string, string>();

  const call = staffRequest(() => base, tokens);

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    for (const [login, role] of [
      ['petrova', 'editor'],
      ['sidorova', 'supervisor'],
      ['kuznetsov', 'operator'],
    ] as const)
      await addUser(db.sql, { login, role, name: login, password });
    app = await build({
      sql: db.sql,
      log: silentLogger,
      plugins: [adminArea(studioRefsPlugin, { sql: db.sql, now: () => NOW })],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const login of ['petrova', 'sidorova', 'kuznetsov']) {
      tokens.set(login, await signInStaff(base, login, password));
    }
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  it('lists agencies with whether they are open at a local date-time of the region', async () => {
    const tuesday = await call('GET', '/api/kb/agencies?local=2026-12-08T11:00', 'sidorova');
    assert.equal(tuesday.status, 200);
    assert.equal(tuesday.body.timezone, 'Europe/Moscow');
    assert.equal(tuesday.body.at, '2026-12-08T08:00:00.000Z');
    const hotline = tuesday.body.agencies.find((a: { id: string }) => a.id === 'health_hotline');
    assert.equal(hotline.open, true);
    const night = await call('GET', '/api/kb/agencies?local=2026-12-08T23:00', 'sidorova');
    assert.equal(night.body.agencies.find((a: { id: string }) => a.id === 'health_hotline').open, false);
    assert.equal((await call('GET', '/api/kb/agencies', 'kuznetsov')).status, 403);
  });

  it('editors save; a broken save is refused with the reason and changes nothing; saves are audited', async () => {
    const agency = {
      name: 'Горячая линия министерства здравоохранения',
      participant: 'minzdrav',
      contactPerson: 'Смирнова О. П.',
      email: 'smirnova@example.ru',
      forwardNumber: '+7 000 000-00-77',
      schedule: 'office',
    };
    assert.equal((await call('PUT', '/api/kb/agencies/health_hotline', 'sidorova', agency)).status, 403);
    const saved = await call('PUT', '/api/kb/agencies/health_hotline', 'petrova', agency);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.equal(saved.body.agency.contactPerson, 'Смирнова О. П.');
    const bad = await call('PUT', '/api/kb/agencies/health_hotline', 'petrova', {
      ...agency,
      participant: 'nobody',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    assert.match(bad.body.message, /Участник — участника «nobody» нет в базе знаний/);

    const day = await call('PUT', '/api/kb/calendar/2026-12-08', 'petrova', {
      kind: 'holiday',
      title: 'Праздник',
    });
    assert.equal(day.status, 200);
    const closed = await call('GET', '/api/kb/agencies?local=2026-12-08T11:00', 'petrova');
    assert.equal(closed.body.agencies.find((a: { id: string }) => a.id === 'health_hotline').open, false);
    assert.equal((await call('DELETE', '/api/kb/calendar/2026-12-08', 'petrova')).status, 200);
    assert.equal((await call('DELETE', '/api/kb/calendar/2026-12-08', 'petrova')).status, 404);
    const year = await call('GET', '/api/kb/calendar?year=2026', 'petrova');
    assert.ok(!year.body.days.some((d: { date: string }) => d.date === '2026-12-08'));

    const schedule = await call('PUT', '/api/kb/schedules/night', 'petrova', {
      title: 'Ночная смена',
      weekly: { mon: ['22:00-06:00'] },
    });
    assert.equal(schedule.status, 200, JSON.stringify(schedule.body));
    assert.deepEqual(schedule.body.schedule.weekly, { mon: ['22:00-06:00'] });

    const outcome = await call('POST', '/api/kb/outcomes', 'petrova', { id: 'duplicate', title: 'Повтор' });
    assert.equal(outcome.status, 201);
    assert.equal(
      (await call('POST', '/api/kb/outcomes', 'petrova', { id: 'duplicate', title: 'x' })).status,
      409,
    );
    const retired = await call('PUT', '/api/kb/outcomes/duplicate', 'petrova', { retired: true });
    assert.equal(retired.body.outcome.retired, true);

    const audit = (await listAudit(db.sql, { login: 'petrova' }))
      .filter((e) => e.action !== 'login')
      .map((e) => `${e.action} ${e.object}`);
    assert.deepEqual(audit, [
      'agency.save health_hotline',
      'calendar.save 2026-12-08',
      'calendar.remove 2026-12-08',
      'schedule.save night',
      'outcome.create duplicate',
      'outcome.retire duplicate',
    ]);
    const revisions = (await listRevisions(db.sql, { actor: 'petrova' })).map((r) => r.action);
    assert.deepEqual(revisions, ['schedule.save', 'calendar.remove', 'calendar.save', 'agency.save']);
  });

  it('a supervisor starts an incident with its topic, intent and answer in one request', async () => {
    const body = {
      title: 'Авария на теплотрассе',
      announcement: 'В Северном районе отключено отопление, бригады работают.',
      level: 'regional',
      durationHours: 12,
      topic: { id: 'heating', title: 'Теплоснабжение', agency: 'health_hotline' },
      intent: { id: 'heating.outage', title: 'Когда дадут отопление', phrases: ['когда дадут отопление'] },
      answer: { speech: 'До вечера.', screen: 'До 20:00.' },
    };
    assert.equal((await call('POST', '/api/incidents/with-topic', 'petrova', body)).status, 403);
    const made = await call('POST', '/api/incidents/with-topic', 'sidorova', body);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.state, 'awaiting_approval');
    assert.equal(made.body.intentId, 'heating.outage');
    const again = await call('POST', '/api/incidents/with-topic', 'sidorova', body);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /вопрос с кодом «heating\.outage» уже есть/);
    const [entry] = await listAudit(db.sql, { login: 'sidorova', action: 'incident.start' });
    assert.equal(entry?.details.answer, 'heating.outage@v1');
  });
});
