import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { addChecklistItem, listChecklist, setChecklistItem } from './checklist.js';
import { lineOf, smallFixture } from './fixtures/index.js';
import { exportKb, importKb } from './transfer.js';
import { type KbSource, parseKbSources } from './yaml-parse.js';

/**
 * The quality checklist as the `checklist:` section of the whole-KB YAML (`otklik kb export` / `kb import`):
 * exported with every item (retired ones marked), imported item by item (left-out items retired), checked with
 * `file:line field` errors, and a file without the section (an export older than it) leaves the checklist be.
 */
const section = `checklist:
  - id: greeting
    title: Приветствие по стандарту линии
    kind: yes_no
    weight: 1
    position: 1
  - id: empathy
    title: Сочувствие к абоненту
    kind: scale
    weight: 4
    position: 2
  - id: politeness
    title: Вежливость
    kind: scale
    weight: 2
    position: 3
    retired: true
`;
const withSection = (text = section): KbSource => ({
  name: 'kb.yaml',
  text: `${smallFixture().text}${text}`,
});

function problems(source: KbSource): string[] {
  try {
    parseKbSources([source]);
  } catch (err) {
    assert.ok(isOtklikError(err, 'VALIDATION_FAILED'), String(err));
    return err.message.split('\n').slice(1);
  }
  assert.fail('expected the file to be rejected');
}

describe('the checklist section is checked with file, line and field', () => {
  it('rejects a duplicate id, a bad weight, an unknown field and a list with nothing offered', () => {
    const bad = section
      .replace('  - id: empathy', '  - id: greeting')
      .replace('weight: 4', 'weight: 0')
      .replace('    retired: true\n', '    retired: true\n    colour: red\n');
    const text = withSection(bad).text;
    assert.deepEqual(problems(withSection(bad)), [
      `kb.yaml:${lineOf(text, 'weight: 0')} checklist[1].weight: Too small: expected number to be >=1`,
      `kb.yaml:${lineOf(text, 'colour: red')} checklist[2].colour: unknown field "colour"`,
    ]);
    const dup = section.replace('  - id: empathy', '  - id: greeting');
    const dupText = withSection(dup).text;
    assert.deepEqual(problems(withSection(dup)), [
      `kb.yaml:${lineOf(dupText, 'id: greeting\n    title: Сочувствие')} checklist[1].id: duplicate id "greeting"`,
    ]);
    const none = 'checklist:\n  - { id: greeting, title: Приветствие, retired: true }\n';
    assert.deepEqual(problems(withSection(none)), [
      `kb.yaml:${lineOf(withSection(none).text, '  - { id: greeting, title: Приветствие, retired')} checklist: the checklist needs at least one item that is not retired`,
    ]);
    const badId = 'checklist:\n  - { id: Greeting-1, title: Приветствие }\n';
    assert.deepEqual(problems(withSection(badId)), [
      `kb.yaml:${lineOf(withSection(badId).text, '  - { id: Greeting-1')} checklist[0].id: код — латинские строчные буквы, цифры и _`,
    ]);
  });
});

for (const backend of backends) {
  describe(`the checklist in kb export / kb import on ${backend}`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(() => db.drop());

    it('export → import → export of the whole KB with the checklist is byte-identical', async () => {
      await importKb(db.sql, [withSection()]);
      const items = await listChecklist(db.sql, { withRetired: true });
      const state = Object.fromEntries(
        items.map((i) => [i.id, `${i.kind}:${i.weight}:${i.retired ? 'retired' : 'offered'}`]),
      );
      // The migration's other defaults are left out of the file: retired, kept for the scores that carry them.
      assert.deepEqual(state, {
        correct_information: 'scale:3:retired',
        outcome_recorded: 'yes_no:1:retired',
        greeting: 'yes_no:1:offered',
        empathy: 'scale:4:offered',
        politeness: 'scale:2:retired',
        script_followed: 'scale:3:retired',
      });
      const first = await exportKb(db.sql);
      assert.match(first, /\nchecklist:\n {2}- id: /);
      assert.ok(
        first.includes('  - id: empathy\n    title: Сочувствие к абоненту\n    kind: scale\n    weight: 4\n'),
      );
      assert.ok(first.includes('    position: 3\n    retired: true\n'));
      // An editor's changes since (one added, one retired) travel too.
      await addChecklistItem(db.sql, { title: 'Уточнил номер обращения', kind: 'yes_no', weight: 1 });
      await setChecklistItem(db.sql, {
        id: 'greeting',
        title: 'Приветствие',
        kind: 'yes_no',
        weight: 1,
        retired: true,
      });
      const second = await exportKb(db.sql);
      assert.ok(
        second.includes('  - id: utochnil_nomer_obrashcheniya\n    title: Уточнил номер обращения\n'),
      );
      // The older file brings greeting back; the item added since is not in it: retired, not deleted.
      await importKb(db.sql, [{ name: 'export.yaml', text: first }]);
      const older = await listChecklist(db.sql, { withRetired: true });
      assert.equal(older.find((i) => i.id === 'greeting')?.retired, false);
      assert.equal(older.find((i) => i.id === 'utochnil_nomer_obrashcheniya')?.retired, true);
      await importKb(db.sql, [{ name: 'export.yaml', text: second }]);
      assert.equal(await exportKb(db.sql), second);
      await importKb(db.sql, [{ name: 'again.yaml', text: second }]);
      assert.equal(await exportKb(db.sql), second);
    });

    it('a KB file without the section keeps the checklist as it is', async () => {
      const before = await listChecklist(db.sql, { withRetired: true });
      assert.ok(before.some((i) => i.id === 'utochnil_nomer_obrashcheniya' && !i.retired));
      assert.ok(!smallFixture().text.includes('checklist'));
      await importKb(db.sql, [smallFixture()]);
      assert.deepEqual(await listChecklist(db.sql, { withRetired: true }), before);
      // Even an empty KB document leaves it.
      await importKb(db.sql, [{ name: 'empty.yaml', text: 'format: otklik-kb/1\n' }]);
      assert.deepEqual(await listChecklist(db.sql, { withRetired: true }), before);
      // A rejected file changes nothing either.
      const all = 'checklist:\n  - { id: greeting, title: Приветствие, retired: true }\n';
      await assert.rejects(importKb(db.sql, [withSection(all)]), (err) =>
        isOtklikError(err, 'VALIDATION_FAILED'),
      );
      assert.deepEqual(await listChecklist(db.sql, { withRetired: true }), before);
    });
  });
}
