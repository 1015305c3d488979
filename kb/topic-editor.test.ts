import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createContentEditor } from './content-editor.js';
import { createKbEditor } from './editor.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { ensureSeeded } from './seed.js';
import { createTopicEditor, phraseKey, type TopicEditor } from './topic-editor.js';
import { exportKb, importKb } from './transfer.js';

const rejectsWith = (code: string, p: Promise<unknown>, message?: RegExp) =>
  assert.rejects(p, (err) => {
    assert.ok(isOtklikError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });

const petrova = { login: 'petrova', agency: null };
const minzdravEditor = { login: 'orlova', agency: 'minzdrav' };
const at = new Date('2026-03-02T09:00:00Z');

for (const backend of backends) {
  describe(`topics and intents in the studio on ${backend}`, () => {
    let db: TestDb;
    let topics: TopicEditor;

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      topics = createTopicEditor(db.sql, { now: () => at });
    });
    after(() => db?.drop());

    it('normalizes phrases for comparison: case, ё, punctuation and spaces', () => {
      assert.equal(phraseKey('  Где  ПРИВИТЬСЯ от гриппа, ёлки?! '), 'где привиться от гриппа елки');
    });

    it('creates a topic and an intent with phrases; ids are checked and unique', async () => {
      await topics.createTopic({ id: 'heat', title: 'Отопление', participant: 'minzdrav' }, petrova);
      await rejectsWith('CONFLICT', topics.createTopic({ id: 'heat', title: 'Ещё раз' }, petrova));
      await rejectsWith('VALIDATION_FAILED', topics.createTopic({ id: 'Тепло', title: 'x' }, petrova));
      await topics.createIntent(
        {
          id: 'heat.outage',
          topicId: 'heat',
          title: 'Нет отопления',
          phrases: ['в квартире нет отопления', 'В квартире нет отопления!', 'батареи холодные'],
        },
        petrova,
      );
      const intent = await topics.intent('heat.outage');
      assert.deepEqual(intent.phrases, ['в квартире нет отопления', 'батареи холодные']);
      const kb = createKnowledgeBase(db.sql);
      assert.equal((await kb.intent('heat.outage'))?.topicId, 'heat');
      const listed = (await topics.list()).find((t) => t.id === 'heat');
      assert.deepEqual(
        listed?.intents.map((i) => [i.id, i.phrases]),
        [['heat.outage', 2]],
      );
    });

    it('flags duplicates and phrases of another intent; adds new ones, others only when confirmed', async () => {
      const covid = (await topics.intent('health.covid')).phrases[0]!;
      const flags = await topics.checkPhrases('heat.outage', [
        'Батареи  холодные',
        'отключили горячую воду',
        'отключили горячую воду.',
        covid.toUpperCase(),
      ]);
      assert.deepEqual(
        flags.map((f) => [f.status, f.status === 'other_intent' ? f.intent : null]),
        [
          ['duplicate', null],
          ['new', null],
          ['duplicate', null],
          ['other_intent', 'health.covid'],
        ],
      );
      const first = await topics.addPhrases(
        'heat.outage',
        ['батареи холодные', 'отключили горячую воду', covid],
        petrova,
      );
      assert.deepEqual(first.added, ['отключили горячую воду']);
      assert.deepEqual(first.skipped, ['батареи холодные']);
      assert.deepEqual(
        first.needsConfirmation.map((n) => n.intent),
        ['health.covid'],
      );
      const confirmed = await topics.addPhrases('heat.outage', [covid], petrova, { confirm: true });
      assert.deepEqual(confirmed.added, [covid]);
      assert.equal(await topics.removePhrase('heat.outage', covid, petrova), true);
      assert.deepEqual((await topics.intent('heat.outage')).phrases, [
        'в квартире нет отопления',
        'батареи холодные',
        'отключили горячую воду',
      ]);
    });

    it('renames by title only', async () => {
      await topics.renameIntent('heat.outage', 'Нет отопления в доме', petrova);
      await topics.renameTopic('heat', 'Отопление и горячая вода', petrova);
      const i = await topics.intent('heat.outage');
      assert.equal(i.title, 'Нет отопления в доме');
      assert.equal(i.topicTitle, 'Отопление и горячая вода');
      await rejectsWith('VALIDATION_FAILED', topics.renameIntent('heat.outage', '  ', petrova));
    });

    it('keeps an editor of an agency to the topics of her participant', async () => {
      await rejectsWith(
        'FORBIDDEN',
        topics.renameTopic('military', 'Чужая тема', minzdravEditor),
        /относится к ведомству/,
      );
      await rejectsWith('FORBIDDEN', topics.addPhrases('military.contract', ['контракт'], minzdravEditor));
      await rejectsWith(
        'FORBIDDEN',
        topics.createTopic({ id: 'other', title: 'Чужая', participant: 'voenkomat' }, minzdravEditor),
      );
      // Her own participant's topic is hers to edit.
      await topics.addPhrases('heat.outage', ['холодно в квартире'], minzdravEditor);
    });

    it('merges one intent into another: phrases move without duplicates, its answers are retired', async () => {
      await topics.createIntent(
        {
          id: 'heat.cold',
          topicId: 'heat',
          title: 'Холодно дома',
          phrases: ['холодные батареи зимой', 'Батареи холодные', 'дома холодно'],
        },
        petrova,
      );
      const answers = createKbEditor(db.sql);
      await answers.createDraft('heat.cold', {
        speech: 'Звоните в управляющую компанию.',
        screen: 'УК',
        author: 'petrova',
      });
      const result = await topics.mergeIntents('heat.cold', 'heat.outage', petrova);
      assert.deepEqual(result, { moved: 2, dropped: 1, answersRetired: 1 });
      const into = await topics.intent('heat.outage');
      assert.deepEqual(into.phrases.slice(-2), ['холодные батареи зимой', 'дома холодно']);
      const from = await topics.intent('heat.cold');
      assert.equal(from.retired, true);
      assert.equal(from.mergedInto, 'heat.outage');
      assert.deepEqual(from.phrases, []);
      assert.deepEqual(
        (await answers.versions('heat.cold')).map((v) => v.status),
        ['retired'],
      );
      const kb = createKnowledgeBase(db.sql);
      assert.equal(await kb.intent('heat.cold'), null);
      assert.ok(!(await kb.intents()).some((i) => i.id === 'heat.cold'));
      assert.ok((await kb.intents({ withRetired: true })).some((i) => i.id === 'heat.cold'));
    });

    it('refuses to retire or merge away what the bot or a flow needs, naming why', async () => {
      await rejectsWith('CONFLICT', topics.retireIntent('dialog.yes', petrova), /голосовому боту/);
      await rejectsWith('CONFLICT', topics.mergeIntents('service.operator', 'service.callback', petrova));
      const content = createContentEditor(db.sql);
      const flow = structuredClone(await content.flow('default')) as {
        steps: Array<{ id: string; cases?: Record<string, string> }>;
      };
      flow.steps.find((s) => s.id === 'route')!.cases!['health.covid'] = 'check_confirm';
      await content.saveFlow('default', flow);
      await rejectsWith(
        'CONFLICT',
        topics.retireIntent('health.covid', petrova),
        /сценарии «default» \(шаг «route»\)/,
      );
      await rejectsWith('CONFLICT', topics.mergeIntents('health.covid', 'health.vaccination', petrova));
      await rejectsWith('CONFLICT', topics.retireTopic('health', petrova), /меню «main»/);
      await rejectsWith('CONFLICT', topics.retireTopic('dialog', petrova), /голосовому боту/);
    });

    it('a retired intent is not trained, classified or served, and comes back on restore', async () => {
      const kb = createKnowledgeBase(db.sql);
      const editor = createKbEditor(db.sql);
      const d = await editor.createDraft('heat.outage', {
        speech: 'Звоните в УК.',
        screen: 'УК',
        author: 'petrova',
      });
      await editor.submitForApproval('heat.outage', d.version, 'petrova');
      await editor.approve('heat.outage', d.version, { login: 'minzdrav.boss', agency: 'minzdrav' });
      assert.ok(await kb.approvedAnswer('heat.outage'));
      const before = await kb.version();
      await topics.retireIntent('heat.outage', petrova);
      assert.notEqual(await kb.version(), before, 'the KB version moves: the NLU retrains');
      assert.ok(!(await kb.intents()).some((i) => i.id === 'heat.outage'));
      assert.equal(await kb.approvedAnswer('heat.outage'), null);
      assert.ok(!(await kb.scripts()).some((s) => s.intent === 'heat.outage'));
      await topics.restoreIntent('heat.outage', petrova);
      assert.ok(await kb.approvedAnswer('heat.outage'));
      // A retired topic takes its intents out of service.
      await topics.retireTopic('heat', petrova);
      assert.equal(await kb.intent('heat.outage'), null);
      assert.equal((await topics.list()).find((t) => t.id === 'heat')?.retired, true);
      await rejectsWith('CONFLICT', topics.restoreIntent('heat.cold', petrova), /в архиве/);
    });

    it('exports retired topics and intents as `retired: true` (and merged_into); import brings them back', async () => {
      const yaml = await exportKb(db.sql);
      assert.match(
        yaml,
        /- id: heat\n {4}title: Отопление и горячая вода\n {4}participant: minzdrav\n {4}retired: true/,
      );
      assert.match(yaml, /- id: heat\.cold\n(?: {4}.*\n)*? {4}retired: true\n {4}merged_into: heat\.outage/);
      await importKb(db.sql, [{ name: 'kb.yaml', text: yaml }]);
      assert.equal(await exportKb(db.sql), yaml);
      assert.equal((await topics.intent('heat.cold')).mergedInto, 'heat.outage');
      assert.equal((await topics.list()).find((t) => t.id === 'heat')?.retired, true);
      await topics.restoreTopic('heat', petrova);
      assert.ok(await createKnowledgeBase(db.sql).intent('heat.outage'));
    });
  });
}
