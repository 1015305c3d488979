import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allSchemas } from '../cli/schema.js';
import { migrate } from '../store/migrate.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createKbEditor } from './editor.js';
import { smallFixture } from './fixtures/index.js';
import { addWorkingDays } from './hours.js';
import { createKnowledgeBase, type KnowledgeBaseReader } from './knowledge-base.js';
import { importKb } from './transfer.js';

const msk = (local: string) => new Date(`${local}+03:00`);

// The store contract: the same answers from PGlite and from the PostgreSQL server.
for (const backend of backends) {
  describe(`knowledge base read API on ${backend}`, () => {
    let db: TestDb;
    let kb: KnowledgeBaseReader;
    before(async () => {
      db = await openTestDb(backend);
      await importKb(db.sql, [smallFixture()]);
      kb = createKnowledgeBase(db.sql);
    });
    after(() => db.drop());

    it('has its schema up to date: migrating again applies nothing', async () => {
      assert.deepEqual(await migrate(db.sql, allSchemas), []);
      const [row] = await db.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM schema_migrations WHERE id = '0001_knowledge_base'`,
      );
      assert.equal(row?.n, 1);
    });

    it('lists intents with their training phrases in order', async () => {
      const intents = await kb.intents();
      assert.deepEqual(
        intents.map((i) => i.id),
        ['health.appointment', 'service.operator'],
      );
      assert.deepEqual(await kb.intent('health.appointment'), {
        id: 'health.appointment',
        topicId: 'health',
        title: 'Запись на приём к врачу',
        handling: 'answer',
        phrases: ['хочу записаться к терапевту', 'как попасть к окулисту'],
      });
      assert.equal(await kb.intent('health.covid'), null);
    });

    it('gives topics and agencies with their links', async () => {
      assert.deepEqual(await kb.topic('health'), {
        id: 'health',
        title: 'Здравоохранение',
        agencyId: 'health_hotline',
        participantId: 'minzdrav',
      });
      assert.deepEqual(await kb.agency('health_hotline'), {
        id: 'health_hotline',
        name: 'Горячая линия минздрава',
        participantId: 'minzdrav',
        forwardNumber: '+7 000 000-00-01',
        contactPerson: 'Иванова И. И.',
        email: 'hotline@example.ru',
        scheduleId: 'office',
      });
      assert.equal(await kb.agency('nobody'), null);
      assert.equal((await kb.topics()).length, 2);
    });

    it('serves only the approved version of a script, with its version tag', async () => {
      const served = await kb.approvedAnswer('health.appointment');
      assert.ok(served);
      assert.equal(served.versionTag, 'health.appointment@v1');
      assert.equal(served.version, 1);
      assert.match(served.speech, /^Записаться к врачу/);
      assert.equal(served.approvedBy, 'agency.minzdrav.ivanov');
      assert.deepEqual(served.approvedAt, msk('2026-10-02T12:00'));
      assert.equal(await kb.approvedAnswer('service.operator'), null);
    });

    it('gives prompts, the main menu and flows', async () => {
      assert.equal(await kb.prompt('greeting'), 'Здравствуйте!');
      assert.equal(await kb.prompt('nothing'), null);
      const menu = await kb.menu();
      assert.equal(menu?.promptId, 'menu');
      assert.deepEqual(menu?.items[0], {
        digit: '1',
        label: 'Здравоохранение',
        keywords: ['врач', 'поликлиника'],
        action: { kind: 'topic', topicId: 'health' },
      });
      assert.deepEqual(menu?.items[1]?.action, { kind: 'queue', queue: 'general' });
      assert.equal(await kb.menu('absent'), null);
      // The flow as written: the voice bot fills the defaults.
      const flow = (await kb.flow('default')) as { id: string; operator: string; steps: unknown[] };
      assert.equal(flow.id, 'default');
      assert.equal(flow.operator, 'operator');
      assert.deepEqual(flow.steps[0], { id: 'greeting', type: 'say', prompt: 'greeting', next: 'menu' });
      assert.equal(await kb.flow('absent'), null);
    });

    it('announces an incident only inside its window', async () => {
      assert.deepEqual(
        (await kb.activeIncidents(msk('2026-11-02T10:00'))).map((i) => i.id),
        ['heat-outage'],
      );
      assert.deepEqual(await kb.activeIncidents(msk('2026-11-05T00:00')), []);
      assert.deepEqual(await kb.activeIncidents(msk('2026-10-31T23:59')), []);
    });

    it('knows when an agency works by its schedule and the calendar', async () => {
      assert.deepEqual(await kb.agencyOpen('health_hotline', msk('2026-11-24T10:00')), {
        open: true,
        nextChange: msk('2026-11-24T18:00'),
      });
      // 30 December 2026 is a short day in the fixture: 09:00-17:00; 31 December is a holiday.
      assert.deepEqual(await kb.agencyOpen('health_hotline', msk('2026-12-30T17:30')), {
        open: false,
        nextChange: msk('2027-01-01T09:00'),
      });
      assert.deepEqual(await kb.agencyOpen('nobody', msk('2026-11-24T10:00')), {
        open: false,
        nextChange: null,
      });
      // Terms in working days (an agency's answer to an inquiry) count on the store's calendar.
      assert.equal(addWorkingDays(await kb.calendar(), '2026-12-30', 1), '2027-01-01');
    });

    it('gives vocabulary words for speech recognition', async () => {
      const words = await kb.vocabulary();
      for (const w of ['заречный район', 'врач', 'поликлиника', 'здравоохранение'])
        assert.ok(words.includes(w), w);
    });

    it('changes its version on every edit and only then', async () => {
      const v1 = await kb.version();
      assert.equal(await kb.version(), v1);
      await createKbEditor(db.sql).addPhrases('service.operator', ['позовите живого человека']);
      const v2 = await kb.version();
      assert.notEqual(v2, v1);
      await db.sql.query(`UPDATE prompts SET text = 'Добрый день!' WHERE id = 'greeting'`);
      assert.notEqual(await kb.version(), v2);
    });
  });
}
