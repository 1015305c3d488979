/**
 * The KB's history: every change leaves the whole KB as it stood, the difference between two states names the
 * items, and a restore brings back the earlier content while the answer scripts and their approvals stay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createContentEditor } from './content-editor.js';
import { createKbEditor } from './editor.js';
import { createKnowledgeBase } from './knowledge-base.js';
import {
  diffDocuments,
  listRevisions,
  previousRevisionId,
  recordKbChange,
  restoreRevision,
  revisionDocument,
} from './revisions.js';
import { ensureSeeded } from './seed.js';

for (const backend of backends) {
  describe(`KB revisions on ${backend}`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
    });
    after(() => db?.drop());

    it('records the seed, each change with who and what, and the difference naming the items', async () => {
      const [seeded] = await listRevisions(db.sql);
      assert.equal(seeded?.action, 'kb.seed');
      const kb = createKnowledgeBase(db.sql);
      const original = await kb.prompt('goodbye');
      await createContentEditor(db.sql).savePrompt('goodbye', { text: 'До новых встреч!' });
      const at = new Date('2026-11-28T21:30:00Z');
      const id = await recordKbChange(db.sql, {
        actor: 'petrova',
        action: 'prompt.save',
        subject: 'goodbye',
        at,
      });
      const [latest] = await listRevisions(db.sql, { actor: 'petrova' });
      assert.deepEqual(
        { ...latest, at: latest?.at.toISOString() },
        { id, at: at.toISOString(), actor: 'petrova', action: 'prompt.save', subject: 'goodbye' },
      );
      assert.equal((await listRevisions(db.sql, { search: 'GOODBYE' }))[0]?.id, id);
      const prev = await previousRevisionId(db.sql, id);
      assert.equal(prev, seeded?.id);
      const diff = diffDocuments(
        (await revisionDocument(db.sql, prev!)).doc,
        (await revisionDocument(db.sql, id)).doc,
      );
      assert.deepEqual(diff, [{ section: 'prompts', added: [], removed: [], changed: ['goodbye'] }]);
      assert.notEqual(original, 'До новых встреч!');
    });

    it('restores an earlier state but keeps the answers and approvals as they are now', async () => {
      const editor = createKbEditor(db.sql);
      const kb = createKnowledgeBase(db.sql);
      const [seeded] = (await listRevisions(db.sql, { actor: 'seed' })).slice(-1);
      // Since the seed: a new intent, and a new draft of an existing answer.
      await editor.upsertIntent({
        id: 'housing.heating',
        topicId: 'services',
        title: 'Отопление',
        handling: 'answer',
        phrases: ['нет отопления в квартире'],
      });
      const draft = await editor.createDraft('health.appointment', {
        speech: 'Новый текст о записи к врачу.',
        screen: 'Новый текст о записи к врачу.',
        author: 'petrova',
      });
      await recordKbChange(db.sql, { actor: 'petrova', action: 'intent.create', subject: 'housing.heating' });
      const restoredId = await restoreRevision(db.sql, seeded!.id, 'petrova');
      assert.equal(await kb.intent('housing.heating'), null);
      assert.notEqual(await kb.prompt('goodbye'), 'До новых встреч!');
      const versions = await editor.versions('health.appointment');
      assert.ok(versions.some((v) => v.version === draft.version && v.status === 'draft'));
      const [latest] = await listRevisions(db.sql);
      assert.deepEqual(
        [latest?.id, latest?.action, latest?.subject],
        [restoredId, 'kb.restore', `#${seeded!.id}`],
      );
      // The restore itself can be undone: back to the state with the new intent.
      const before = (await listRevisions(db.sql, { search: 'housing.heating' }))[0]!;
      await restoreRevision(db.sql, before.id, 'petrova');
      assert.equal((await kb.intent('housing.heating'))?.title, 'Отопление');
    });

    it('says in Russian that a revision does not exist', async () => {
      await assert.rejects(revisionDocument(db.sql, 999_999), /Версии базы знаний №999999 нет/);
    });
  });
}
