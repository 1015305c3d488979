import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createKbEditor, type KbEditor } from './editor.js';
import { smallFixture } from './fixtures/index.js';
import { createKnowledgeBase, type KnowledgeBaseReader } from './knowledge-base.js';
import { importKb } from './transfer.js';

const rejectsWith = (code: string, p: Promise<unknown>) =>
  assert.rejects(p, (err) => isOtklikError(err) && err.code === code);

for (const backend of backends) {
  describe(`answer approval workflow on ${backend}`, () => {
    let db: TestDb;
    let kb: KnowledgeBaseReader;
    let editor: KbEditor;
    const intent = 'service.operator';
    const draft = (n: number) => ({
      speech: `Ответ номер ${n}.`,
      screen: `Экран ${n}.`,
      author: 'editor.petrova',
    });
    // The approver belongs to the agency responsible for the `service` topic; the author is someone else.
    const lebedev = { login: 'agency.cur.lebedev', agency: 'governor_office' };

    before(async () => {
      db = await openTestDb(backend);
      await importKb(db.sql, [smallFixture()]);
      await db.sql.query(
        `INSERT INTO participants (id, name) VALUES ('governor_office', 'Аппарат губернатора')`,
      );
      await db.sql.query(`UPDATE topics SET participant_id = 'governor_office' WHERE id = 'service'`);
      kb = createKnowledgeBase(db.sql);
      editor = createKbEditor(db.sql);
    });
    after(() => db.drop());

    it('never serves a draft or a script waiting for approval', async () => {
      const v1 = await editor.createDraft(intent, draft(1));
      assert.equal(v1.version, 1);
      assert.equal(v1.status, 'draft');
      assert.equal(await kb.approvedAnswer(intent), null);
      const pending = await editor.submitForApproval(intent, 1, 'editor.smirnov');
      assert.equal(pending.status, 'pending_approval');
      assert.ok(pending.submittedAt);
      assert.equal(pending.submittedBy, 'editor.smirnov');
      assert.equal(await kb.approvedAnswer(intent), null);
    });

    it("refuses the author, the submitter and anyone outside the topic's agency as approver", async () => {
      await rejectsWith(
        'APPROVER_IS_AUTHOR',
        editor.approve(intent, 1, { login: 'editor.petrova', agency: 'governor_office' }),
      );
      await rejectsWith(
        'APPROVER_IS_AUTHOR',
        editor.approve(intent, 1, { login: 'editor.smirnov', agency: 'governor_office' }),
      );
      await rejectsWith(
        'APPROVER_WITHOUT_AGENCY',
        editor.approve(intent, 1, { login: 'admin', agency: null }),
      );
      await rejectsWith(
        'APPROVER_OTHER_AGENCY',
        editor.approve(intent, 1, { login: 'agency.minzdrav.ivanov', agency: 'minzdrav' }),
      );
      await rejectsWith(
        'APPROVER_OTHER_AGENCY',
        editor.reject(intent, 1, { login: 'agency.minzdrav.ivanov', agency: 'minzdrav' }, 'не наше'),
      );
      const [v1] = await editor.versions(intent);
      assert.equal(v1?.status, 'pending_approval');
      assert.equal(v1?.approvedBy, null);
      assert.equal(await kb.approvedAnswer(intent), null);
    });

    it('refuses to approve a topic that names no responsible agency', async () => {
      await db.sql.query(`UPDATE topics SET participant_id = NULL WHERE id = 'service'`);
      try {
        await assert.rejects(editor.approve(intent, 1, lebedev), (err) => {
          assert.ok(isOtklikError(err, 'APPROVER_OTHER_AGENCY'));
          assert.match(err.message, /не указано ответственное ведомство/);
          return true;
        });
      } finally {
        await db.sql.query(`UPDATE topics SET participant_id = 'governor_office' WHERE id = 'service'`);
      }
    });

    it('serves a script once approved, recording who approved it and when', async () => {
      const approved = await editor.approve(intent, 1, lebedev);
      assert.equal(approved.status, 'approved');
      const served = await kb.approvedAnswer(intent);
      assert.equal(served?.versionTag, 'service.operator@v1');
      assert.equal(served?.speech, 'Ответ номер 1.');
      assert.equal(served?.approvedBy, 'agency.cur.lebedev');
      assert.ok(served?.approvedAt instanceof Date);
    });

    it('keeps serving the old version until a new one is approved, then retires the old one', async () => {
      await editor.createDraft(intent, draft(2));
      await editor.submitForApproval(intent, 2);
      assert.equal((await kb.approvedAnswer(intent))?.version, 1);
      await editor.approve(intent, 2, lebedev);
      assert.equal((await kb.approvedAnswer(intent))?.versionTag, 'service.operator@v2');
      const statuses = (await editor.versions(intent)).map((v) => [v.version, v.status]);
      assert.deepEqual(statuses, [
        [1, 'retired'],
        [2, 'approved'],
      ]);
    });

    it('sends a rejected script back to draft with the reviewer note, and lets the draft be edited', async () => {
      await editor.createDraft(intent, draft(3));
      await editor.submitForApproval(intent, 3);
      const rejected = await editor.reject(intent, 3, lebedev, 'уточните телефон');
      assert.equal(rejected.status, 'draft');
      assert.equal(rejected.reviewNote, 'уточните телефон');
      assert.equal(rejected.returnedBy, 'agency.cur.lebedev');
      const edited = await editor.updateDraft(intent, 3, { speech: 'Исправленный ответ.' });
      assert.equal(edited.speech, 'Исправленный ответ.');
      assert.equal(edited.screen, 'Экран 3.');
      assert.equal((await kb.approvedAnswer(intent))?.version, 2);
    });

    it('refuses moves the workflow does not allow', async () => {
      await rejectsWith('CONFLICT', editor.approve(intent, 3, lebedev));
      await rejectsWith('CONFLICT', editor.updateDraft(intent, 2, { speech: 'правка утверждённого' }));
      await rejectsWith('CONFLICT', editor.submitForApproval(intent, 2));
      await rejectsWith('CONFLICT', editor.approve(intent, 1, lebedev));
      await rejectsWith('CONFLICT', editor.reject(intent, 3, lebedev, 'y'));
      await editor.submitForApproval(intent, 3);
      await rejectsWith('CONFLICT', editor.retire(intent, 3));
      await rejectsWith('NOT_FOUND', editor.approve(intent, 99, lebedev));
      await rejectsWith('NOT_FOUND', editor.createDraft('health.covid', draft(1)));
      await rejectsWith('VALIDATION_FAILED', editor.createDraft(intent, { ...draft(1), speech: ' ' }));
      await rejectsWith(
        'VALIDATION_FAILED',
        editor.approve(intent, 3, { login: '', agency: 'governor_office' }),
      );
      // Nothing above changed what is served.
      assert.equal((await kb.approvedAnswer(intent))?.version, 2);
    });

    it('stops serving an intent whose approved script is retired', async () => {
      await editor.retire(intent, 2);
      assert.equal(await kb.approvedAnswer(intent), null);
    });

    it('lets the store itself refuse a second approved version', async () => {
      await assert.rejects(
        db.sql.query(
          `INSERT INTO answer_versions (intent_id, version, status, speech, screen, approved_by, approved_at)
           VALUES ('health.appointment', 9, 'approved', 'a', 'b', 'x', now())`,
        ),
      );
    });

    it('gives concurrent drafts distinct version numbers', async () => {
      const made = await Promise.all(
        [1, 2, 3].map((n) => editor.createDraft('health.appointment', draft(n))),
      );
      assert.deepEqual(made.map((v) => v.version).sort(), [3, 4, 5]);
    });

    it('edits intents and phrases; a new intent takes any id of the id form', async () => {
      await editor.upsertIntent({
        id: 'health.covid',
        topicId: 'health',
        title: 'Коронавирусная инфекция',
        handling: 'answer',
        phrases: ['у меня ковид что делать', '  ', 'положительный тест'],
      });
      assert.deepEqual((await kb.intent('health.covid'))?.phrases, [
        'у меня ковид что делать',
        'положительный тест',
      ]);
      await editor.addPhrases('health.covid', ['положительный тест', 'температура и кашель']);
      assert.equal((await kb.intent('health.covid'))?.phrases.length, 3);
      // An id the sample does not have is the editors' choice; one outside [a-z0-9_.]+ is refused.
      await editor.upsertIntent({
        id: 'health.dental_care',
        topicId: 'health',
        title: 'Стоматология',
        handling: 'answer',
        phrases: ['где вылечить зуб бесплатно'],
      });
      assert.equal((await kb.intent('health.dental_care'))?.title, 'Стоматология');
      await rejectsWith(
        'VALIDATION_FAILED',
        editor.upsertIntent({ id: 'Health.Зубы', topicId: 'health', title: 't', handling: 'answer' }),
      );
      await rejectsWith(
        'NOT_FOUND',
        editor.upsertIntent({
          id: 'education.enrollment',
          topicId: 'education',
          title: 't',
          handling: 'answer',
        }),
      );
      await rejectsWith('NOT_FOUND', editor.setPhrases('social.benefits', ['пособие']));
    });
  });
}
