import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { smallFixture } from './fixtures/index.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { addTestPhrases, listTestPhrases, removeTestPhrase } from './test-phrases.js';
import { exportKb, importKb } from './transfer.js';

/** The held-out set: kept by editors, outside the revision stamp, carried by export/import as `test_phrases:`. */
describe('the held-out set (intent_test_phrases)', () => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb('pglite');
    await importKb(db.sql, [smallFixture()]);
  });
  after(() => db?.drop());

  it('adds phrases once each and leaves the KB version alone', async () => {
    const kb = createKnowledgeBase(db.sql);
    const version = await kb.version();
    const added = await addTestPhrases(
      db.sql,
      'health.appointment',
      ['запишите к окулисту на пятницу', ' Запишите к окулисту на пятницу ', 'талончик к лору'],
      'petrova',
    );
    assert.deepEqual(
      added.map((p) => p.text),
      ['запишите к окулисту на пятницу', 'талончик к лору'],
    );
    assert.equal((await addTestPhrases(db.sql, 'health.appointment', ['ТАЛОНЧИК к лору'])).length, 0);
    assert.equal(await kb.version(), version, 'the held-out set retrains nothing');
    await assert.rejects(addTestPhrases(db.sql, 'no.such', ['что-то']), (err) =>
      isOtklikError(err, 'NOT_FOUND'),
    );
    await removeTestPhrase(db.sql, added[1]!.id);
    assert.deepEqual(
      (await listTestPhrases(db.sql)).map((p) => p.text),
      ['запишите к окулисту на пятницу'],
    );
  });

  it('is exported and imported as test_phrases:, and a file without the section keeps it', async () => {
    const exported = await exportKb(db.sql);
    assert.match(exported, /test_phrases:\n {2}- intent: health\.appointment\n {4}phrases:/);
    // An older file (the fixture has no section): the stored set stays.
    await importKb(db.sql, [smallFixture()]);
    assert.equal((await listTestPhrases(db.sql)).length, 1);
    assert.equal(await exportKb(db.sql), exported, 'export → import → export is byte-identical');
    // A file with the section replaces the set.
    const replaced = exported.replace('запишите к окулисту на пятницу', 'нужен номерок к хирургу');
    await importKb(db.sql, [{ name: 'kb.yaml', text: replaced }]);
    assert.deepEqual(
      (await listTestPhrases(db.sql)).map((p) => p.text),
      ['нужен номерок к хирургу'],
    );
    // A group naming an intent the file lacks is refused.
    const unknown = exported.replace(
      '- intent: health.appointment\n    phrases:',
      '- intent: no.such\n    phrases:',
    );
    await assert.rejects(
      importKb(db.sql, [{ name: 'kb.yaml', text: unknown }]),
      (err) => isOtklikError(err, 'VALIDATION_FAILED') && /test_phrases/.test(err.message),
    );
  });
});
