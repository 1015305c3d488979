import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createContentEditor } from './content-editor.js';
import { editedFixture } from './fixtures/index.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { numberDigits } from './numbers.js';
import { exportKb, importKb } from './transfer.js';

/**
 * The numbers the line serves and the flow each runs (kb/numbers.ts): they round-trip through the YAML,
 * a number naming a missing flow (or listed twice) is refused, and the reader finds a number by its digits
 * however it is dialled.
 */
const withNumbers = editedFixture(
  'vocabulary:',
  `numbers:
  - number: "122"
    title: Единая линия
    flow: default
  - number: "+7 800 200-01-17"
    flow: default
    note: переадресация
vocabulary:`,
);

it('compares numbers by their digits, a long-distance 8 as 7', () => {
  assert.equal(numberDigits('sip:117@10.0.0.1;user=phone'), '117');
  assert.equal(numberDigits('+7 (800) 200-01-22'), '78002000122');
  assert.equal(numberDigits('8 800 200-01-22'), '78002000122');
  assert.equal(numberDigits('tel:122'), '122');
});

for (const backend of backends) {
  describe(`numbers the line serves on ${backend}`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
      await importKb(db.sql, [withNumbers]);
    });
    after(() => db.drop());

    it('round-trips through export and import, byte for byte', async () => {
      const yaml = await exportKb(db.sql);
      assert.match(yaml, /numbers:\n {2}- number: "122"\n {4}title: Единая линия\n {4}flow: default\n/);
      await importKb(db.sql, [{ name: 'again.yaml', text: yaml }]);
      assert.equal(await exportKb(db.sql), yaml);
    });

    it('gives the flow of a dialled number by its digits, null for one it does not list', async () => {
      const kb = createKnowledgeBase(db.sql);
      assert.equal(await kb.flowForNumber('sip:122@10.0.0.1'), 'default');
      assert.equal(await kb.flowForNumber('88002000117'), 'default');
      assert.equal(await kb.flowForNumber('+78002000117'), 'default');
      assert.equal(await kb.flowForNumber('112'), null);
      assert.equal(await kb.flowForNumber(''), null);
    });

    it('refuses an import whose number names a missing flow or is listed twice, changing nothing', async () => {
      const before = await exportKb(db.sql);
      const bad = editedFixture(
        'vocabulary:',
        `numbers:
  - { number: "117", flow: line_117 }
  - { number: "122", flow: default }
  - { number: "1-2-2", flow: default }
vocabulary:`,
      );
      await assert.rejects(importKb(db.sql, [bad]), (err) => {
        assert.ok(isOtklikError(err, 'VALIDATION_FAILED'));
        assert.match(err.message, /numbers\[0\]\.flow: unknown flow "line_117"/);
        assert.match(err.message, /numbers\[2\]\.number: duplicate number "122"/);
        return true;
      });
      assert.equal(await exportKb(db.sql), before);
    });

    it('refuses a number that would run the flow reading agencies’ answers (the line’s own calls only)', async () => {
      const editor = createContentEditor(db.sql);
      await editor.saveFlow('inquiry-answer', {
        title: 'Ответ уполномоченного лица',
        steps: [
          { id: 'relay', type: 'relay_answer', on: { relayed: 'bye', missing: 'bye' } },
          { id: 'bye', type: 'hangup', prompt: 'greeting' },
        ],
      });
      await assert.rejects(editor.saveNumber({ number: '118', flow: 'inquiry-answer' }), (err) => {
        assert.ok(isOtklikError(err, 'VALIDATION_FAILED'));
        assert.match(err.message, /numbers\["118"\]\.flow: flow "inquiry-answer" reads an agency answer/);
        return true;
      });
      assert.equal(await createKnowledgeBase(db.sql).flowForNumber('118'), null);
    });

    it('an editor adds a number that runs another flow only once that flow exists', async () => {
      const editor = createContentEditor(db.sql);
      await assert.rejects(editor.saveNumber({ number: '117', flow: 'line_117' }), (err) => {
        assert.ok(isOtklikError(err, 'VALIDATION_FAILED'));
        assert.match(err.message, /numbers\["117"\]\.flow: unknown flow "line_117"/);
        return true;
      });
      await editor.saveFlow('line_117', {
        title: 'Линия 117',
        steps: [{ id: 'bye', type: 'hangup', prompt: 'greeting' }],
      });
      await editor.saveNumber({ number: '117', title: 'Короткий номер', flow: 'line_117' });
      assert.equal(await createKnowledgeBase(db.sql).flowForNumber('117'), 'line_117');
      await assert.rejects(editor.saveNumber({ number: '117', flow: 'default' }), (err) =>
        isOtklikError(err, 'CONFLICT'),
      );
      await editor.saveNumber({ number: '117', flow: 'default' }, '117');
      assert.equal(await createKnowledgeBase(db.sql).flowForNumber('117'), 'default');
      await editor.deleteNumber('117');
      assert.equal(await createKnowledgeBase(db.sql).flowForNumber('117'), null);
      assert.deepEqual(
        (await editor.numbers()).map((n) => n.digits),
        ['122', '78002000117'],
      );
    });
  });
}
