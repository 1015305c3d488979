import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { editedFixture, lineOf, smallFixture } from './fixtures/index.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { ensureSeeded, seedSources } from './seed.js';
import { writeKbDocument } from './store-io.js';
import { exportKb, importKb } from './transfer.js';
import { type KbSource, parseKbSources } from './yaml-parse.js';

/** The messages of a failed validation, one `file:line field: message` per problem. */
function problems(sources: KbSource[]): string[] {
  try {
    parseKbSources(sources);
  } catch (err) {
    assert.ok(isOtklikError(err, 'VALIDATION_FAILED'), String(err));
    return err.message.split('\n').slice(1);
  }
  assert.fail('expected the file to be rejected');
}

describe('import validation names the file, line and field', () => {
  const text = smallFixture().text;

  it('rejects an intent id that is not of the id form, naming the rule', () => {
    const src = editedFixture('  - id: health.appointment\n', '  - id: Health.Запись\n');
    assert.deepEqual(problems([src]), [
      `small.yaml:${lineOf(text, '  - id: health.appointment\n')} intents[0].id: ids are lower-case ASCII letters, digits, "_" and "." ([a-z0-9_.]+)`,
    ]);
  });

  it('rejects a date that does not exist and an unknown field', () => {
    const src = editedFixture('date: 2026-12-30', 'date: 2026-02-30\n    colour: red');
    assert.deepEqual(problems([src]), [
      `small.yaml:${lineOf(text, 'date: 2026-12-30')} calendar[2].date: no such calendar date`,
      `small.yaml:${lineOf(text, 'date: 2026-12-30') + 1} calendar[2].colour: unknown field "colour"`,
    ]);
  });

  it('rejects a digit used twice and a menu action pointing nowhere or where the flow has no step', () => {
    const src = editedFixture('digit: "0"', 'digit: "1"');
    const src2 = {
      ...src,
      text: src.text.replace('{ kind: topic, topic: health }', '{ kind: forward, agency: minfin }'),
    };
    assert.deepEqual(problems([src2]), [
      `small.yaml:${lineOf(text, 'kind: topic, topic: health')} menus[0].items[0].action.agency: unknown agency "minfin"`,
      `small.yaml:${lineOf(text, 'digit: "0"')} menus[0].items[1].digit: digit "1" is used twice in menu "main"`,
      // The flow's menu step has no branch for what the item now does.
      `small.yaml:${lineOf(text, 'on: { topic: ask')} flows[0].steps[1].on: flow "default", step "menu": menu "main" item "1" leads to "forward", but the step has no on.forward`,
    ]);
  });

  it('rejects two approved versions and an approval without an approver', () => {
    const src = editedFixture('        status: draft\n', '        status: approved\n');
    const lines = problems([src]);
    const at = lineOf(text, '        status: draft\n');
    // A missing field is reported at the start of its item (the line before `status`).
    assert.deepEqual(lines, [
      `small.yaml:${at - 1} answers[0].versions[1].approved_by: an approved version needs approved_by`,
      `small.yaml:${at - 1} answers[0].versions[1].approved_at: an approved version needs approved_at`,
      `small.yaml:${at} answers[0].versions[1].status: intent "health.appointment" has more than one approved version`,
    ]);
  });

  it('rejects an approved version whose approver is left blank', () => {
    const src = editedFixture('approved_by: "agency.minzdrav.ivanov"', 'approved_by: "   "');
    assert.deepEqual(problems([src]), [
      `small.yaml:${lineOf(text, 'approved_by: "agency.minzdrav.ivanov"')} answers[0].versions[0].approved_by: an approved version needs approved_by`,
    ]);
  });

  it('rejects broken references between sections', () => {
    const src = editedFixture('    schedule: office', '    schedule: office_hours');
    assert.deepEqual(problems([src]), [
      `small.yaml:${lineOf(text, '    schedule: office')} agencies[0].schedule: unknown schedule "office_hours"`,
    ]);
  });

  it('rejects bad times, time zones and a weekday marked as a working day', () => {
    const src = editedFixture(
      '      fri: ["09:00-16:45"]',
      '      fri: ["9-16:45"]\n    timezone: Europe/Enskgrad',
    );
    const lines = problems([src]);
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^small\.yaml:\d+ schedules\[1\]\.weekly\.fri\[0\]: expected an interval "HH:MM-HH:MM"$/,
    );
    assert.match(lines[1]!, /^small\.yaml:\d+ schedules\[1\]\.timezone: unknown IANA time zone$/);
    const weekday = editedFixture('date: 2027-01-09', 'date: 2027-01-11');
    assert.match(problems([weekday])[0]!, /^small\.yaml:\d+ calendar\[3\]\.kind: 2027-01-11 is a weekday/);
  });

  it('rejects a flow step that leads to a missing step or names an unknown prompt, naming flow and step', () => {
    const src = editedFixture(
      '{ id: greeting, type: say, prompt: greeting, next: menu }',
      '{ id: greeting, type: say, prompt: greting, next: menu }',
    );
    const src2 = {
      ...src,
      text: src.text.replace('no_input: goodbye, no_match', 'no_input: goodby, no_match'),
    };
    assert.deepEqual(problems([src2]), [
      `small.yaml:${lineOf(text, 'prompt: greeting, next: menu')} flows[0].steps[0].prompt: flow "default", step "greeting": unknown prompt "greting"`,
      `small.yaml:${lineOf(text, 'no_input: goodbye, no_match')} flows[0].steps[2].on.no_input: flow "default", step "ask": leads to unknown step "goodby"`,
    ]);
  });

  it('rejects a flow step of an unknown type or with a misspelt field, naming flow and step', () => {
    const src = editedFixture(
      '{ id: goodbye, type: hangup }',
      '{ id: goodbye, type: hangup, promt: goodbye }',
    );
    assert.deepEqual(problems([src]), [
      `small.yaml:${lineOf(text, '{ id: goodbye, type: hangup }')} flows[0].steps[6].promt: flow "default", step "goodbye": unknown field "promt"`,
    ]);
    const type = editedFixture('{ id: goodbye, type: hangup }', '{ id: goodbye, type: hang_up }');
    assert.deepEqual(problems([type]), [
      `small.yaml:${lineOf(text, '{ id: goodbye, type: hangup }')} flows[0].steps[6].type: flow "default", step "goodbye": unknown step type "hang_up"`,
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const src = editedFixture('    title: "Служебные"', '    title: "Служебные');
    assert.match(problems([src])[0]!, /^small\.yaml:\d+ \(yaml\): /);
  });

  it('names the right file when several files are merged', () => {
    const region = { name: 'region.yaml', text: text.replace(/intents:[\s\S]*?\nanswers:/, 'answers:') };
    const intents = {
      name: 'intents.yaml',
      text: '# intents\nintents:\n  - id: health.appointment\n    topic: health\n    title: "Запись"\n    handling: answer\n  - id: service.operator\n    topic: servise\n    title: "Оператор"\n    handling: operator\n',
    };
    assert.deepEqual(problems([region, intents]), [
      'intents.yaml:8 intents[1].topic: unknown topic "servise"',
    ]);
    const fixed = { ...intents, text: intents.text.replace('servise', 'service') };
    assert.equal(parseKbSources([region, fixed]).intents.length, 2);
  });
});

function seedProblem(): string | undefined {
  try {
    parseKbSources(seedSources());
    return undefined;
  } catch (err) {
    return `the shipped seed is incomplete or invalid: ${(err as Error).message.split('\n')[1] ?? ''}`;
  }
}

for (const backend of backends) {
  describe(`import and export on ${backend}`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(() => db.drop());

    it('exports what was imported, and export → import → export is byte-identical', async () => {
      await importKb(db.sql, [smallFixture()]);
      const first = await exportKb(db.sql);
      assert.match(first, /^format: otklik-kb\/1\nregion: Тестовая область/);
      await importKb(db.sql, [{ name: 'export.yaml', text: first }]);
      const second = await exportKb(db.sql);
      assert.equal(second, first);
    });

    it('changes nothing when an import is rejected', async () => {
      const kb = createKnowledgeBase(db.sql);
      const before = await exportKb(db.sql);
      const version = await kb.version();
      await assert.rejects(
        importKb(db.sql, [editedFixture('  - id: health.appointment\n', '  - id: health.apointment\n')]),
        (err) => isOtklikError(err, 'VALIDATION_FAILED'),
      );
      assert.equal(await exportKb(db.sql), before);
      assert.equal(await kb.version(), version);
      const brokenFlow = editedFixture(
        'cases: { service.operator: operator }',
        'cases: { service.operator: operatr }',
      );
      await assert.rejects(
        importKb(db.sql, [brokenFlow]),
        (err) =>
          isOtklikError(err, 'VALIDATION_FAILED') &&
          err.message.includes('flow "default", step "route": leads to unknown step "operatr"'),
      );
      assert.equal(await exportKb(db.sql), before);
      assert.equal(await kb.version(), version);
    });

    it('rolls a write that fails half-way back whole', async () => {
      const before = await exportKb(db.sql);
      const doc = parseKbSources([smallFixture()]);
      // Validation is bypassed on purpose: the store's own constraint stops the write after several tables.
      doc.incidents[0]!.topic = 'military';
      await assert.rejects(db.sql.transaction((tx) => writeKbDocument(tx, doc)));
      assert.equal(await exportKb(db.sql), before);
    });

    it('seeds only an empty store', async () => {
      const kb = createKnowledgeBase(db.sql);
      const loaded = await exportKb(db.sql);
      assert.equal(await ensureSeeded(db.sql, [smallFixture()]), false);
      // Importing an empty document empties the store.
      await importKb(db.sql, [{ name: 'empty.yaml', text: 'format: otklik-kb/1\n' }]);
      assert.deepEqual(await kb.intents(), []);
      assert.equal(await ensureSeeded(db.sql, [smallFixture()]), true);
      const version = await kb.version();
      assert.equal(await ensureSeeded(db.sql, [smallFixture()]), false);
      assert.equal(await kb.version(), version);
      assert.equal(await exportKb(db.sql), loaded);
    });

    it('loads the shipped seed of the whole region and round-trips it byte for byte', async (t) => {
      const problem = seedProblem();
      if (problem) return t.skip(problem);
      await importKb(db.sql, [{ name: 'empty.yaml', text: 'format: otklik-kb/1\n' }]);
      assert.equal(await ensureSeeded(db.sql), true);
      const kb = createKnowledgeBase(db.sql);
      assert.equal((await kb.menu())?.items.map((i) => i.digit).join(''), '1234509');
      assert.equal((await kb.agency('education_hotline'))?.scheduleId, 'office_yekaterinburg');
      assert.ok((await kb.intents()).length > 0);
      const first = await exportKb(db.sql);
      await importKb(db.sql, [{ name: 'seed-export.yaml', text: first }]);
      assert.equal(await exportKb(db.sql), first);
    });
  });
}
