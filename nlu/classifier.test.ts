import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { sampleIntentIds } from '../kb/sample-intents.js';
import { ensureSeeded } from '../kb/seed.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { NluClassifier, OUT_OF_SCOPE } from './classifier.js';
import { deserializeModel, loadModel, saveModel } from './model-io.js';
import { trainingExamplesFromKb } from './service.js';
import { type TrainedModel, trainClassifier } from './train.js';

// Trained once from the shipped seed KB, through the real store.
describe('classifier trained from the seed knowledge base', () => {
  let db: TestDb;
  let model: TrainedModel;
  let nlu: NluClassifier;
  const now = new Date('2026-11-23T09:00:00+03:00');

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    const kb = createKnowledgeBase(db.sql);
    model = trainClassifier(await trainingExamplesFromKb(kb), {
      rejectLabel: OUT_OF_SCOPE,
      kbVersion: await kb.version(),
    });
    nlu = new NluClassifier(model, { allowedIntents: sampleIntentIds });
  });
  after(async () => {
    await db?.drop();
  });

  it('places routine questions phrased in new words', () => {
    const cases: Array<[string, string]> = [
      ['алло здравствуйте подскажите как мне записаться к терапевту на завтра', 'health.appointment'],
      ['соедините меня пожалуйста с живым оператором', 'service.operator'],
      ['где ребенку сделать прививку от гриппа', 'health.vaccination'],
      ['мужу пришла повестка из военкомата что ему делать', 'military.mobilization'],
    ];
    for (const [text, intent] of cases) assert.equal(nlu.classify(text).intent, intent, text);
  });

  it('sends gibberish to out_of_scope', () => {
    for (const text of ['ывапролдж фывапр', 'кщшгне зщхъ жэ', 'qwerty asdf zxcv', '']) {
      const c = nlu.classify(text);
      assert.equal(c.intent, OUT_OF_SCOPE, text);
      assert.deepEqual(c.alternatives, [], text);
    }
  });

  it('sends off-topic questions to out_of_scope', () => {
    for (const text of [
      'какая погода будет на выходных',
      'вызовите мне такси до вокзала',
      'сколько стоит билет на поезд до москвы',
      'кто вчера выиграл в футбол',
    ]) {
      assert.equal(nlu.classify(text).intent, OUT_OF_SCOPE, text);
    }
  });

  it('restricts to the expected answers after a confirmation question', () => {
    const expected = ['dialog.yes', 'dialog.no'];
    assert.equal(nlu.classify('да да все верно', { expected }).intent, 'dialog.yes');
    assert.equal(nlu.classify('ага', { expected }).intent, 'dialog.yes');
    assert.equal(nlu.classify('нет не то', { expected }).intent, 'dialog.no');
    const no = nlu.classify('нет мне нужна прививка от гриппа', { expected });
    assert.equal(no.intent, 'dialog.no');
    assert.ok(
      no.alternatives.some((a) => a.intent === 'health.vaccination'),
      JSON.stringify(no.alternatives),
    );
    const other = nlu.classify('соедините с оператором', { expected });
    assert.ok(['dialog.yes', 'dialog.no', OUT_OF_SCOPE].includes(other.intent), other.intent);
  });

  it('recognizes an emergency inside a long sentence, even after a yes/no question', () => {
    const text =
      'я вот звоню узнать насчет пособия на ребенка а тут у соседа дым из окна валит и никто не открывает';
    const c = nlu.classify(text);
    assert.equal(c.emergency, true);
    assert.equal(c.intent, 'emergency');
    const confirm = nlu.classify('да но у мужа сердечный приступ', { expected: ['dialog.yes', 'dialog.no'] });
    assert.equal(confirm.emergency, true);
    assert.equal(confirm.intent, 'emergency');
    assert.equal(nlu.classify('хочу записаться к кардиологу на следующей неделе').emergency, false);
  });

  it('takes a greeting for a greeting, and the question after a greeting for the question', () => {
    for (const text of [
      'Здравствуйте!',
      'Здравствуйте, подскажите пожалуйста',
      'привет',
      'алло',
      'добрый день',
    ]) {
      const c = nlu.classify(text);
      assert.equal(c.intent, 'dialog.greeting', text);
      assert.equal(c.emergency, false, text);
      assert.equal(c.emergencySuspected, false, text);
    }
    assert.equal(nlu.classify('здравствуйте хочу записаться к терапевту').intent, 'health.appointment');
    assert.equal(nlu.classify('алло добрый день мне пришла повестка').intent, 'military.mobilization');
  });

  it('never decides an emergency on a bare call for help or a guess: it is only suspected', () => {
    for (const text of ['помогите', 'помогите пожалуйста', 'мне плохо']) {
      const c = nlu.classify(text);
      assert.equal(c.emergency, false, text);
      assert.equal(c.emergencySuspected, true, text);
      assert.notEqual(c.intent, 'emergency', text);
    }
    const danger = nlu.classify('помогите человек без сознания');
    assert.equal(danger.emergency, true);
    assert.equal(danger.emergencySuspected, false);
    // A question of the line with «помогите» in it stays that question.
    const question = nlu.classify('помогите с документами и выплатами');
    assert.equal(question.intent, 'refugees.payments');
    assert.equal(question.emergencySuspected, false);
  });

  it('returns contract intents, calibrated confidences and ranked alternatives', () => {
    const c = nlu.classify('как записать ребенка в первый класс');
    assert.ok(sampleIntentIds.has(c.intent));
    assert.ok(c.confidence > 0 && c.confidence <= 1);
    assert.ok(c.alternatives.length <= 3);
    for (const a of c.alternatives) assert.ok(sampleIntentIds.has(a.intent) && a.intent !== c.intent);
    const confidences = c.alternatives.map((a) => a.confidence);
    assert.deepEqual(
      confidences,
      [...confidences].sort((a, b) => b - a),
    );
  });

  it('chose its thresholds from cross-validation and keeps entities', () => {
    const t = model.thresholds;
    assert.ok(t.reject > 0 && t.reject <= t.confirm && t.confirm < 1, JSON.stringify(t));
    const c = nlu.classify(
      'перезвоните мне на восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять завтра',
      { now },
    );
    assert.equal(c.intent, 'service.callback');
    assert.deepEqual(
      c.entities.map((e) => [e.type, e.value]),
      [
        ['phone', '+79123456789'],
        ['date', '2026-11-24'],
      ],
    );
  });

  it('saves and loads the model with its KB version and the same answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otklik-nlu-'));
    try {
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      assert.ok(loaded);
      assert.equal(loaded.kbVersion, model.kbVersion);
      assert.equal(loaded.modelVersion, model.modelVersion);
      const again = new NluClassifier(loaded, { allowedIntents: sampleIntentIds });
      for (const text of ['где сдать анализы', 'какие выплаты беженцам', 'спасибо до свидания']) {
        assert.deepEqual(again.classify(text, { now }), nlu.classify(text, { now }));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a model file with missing parts', () => {
    for (const json of ['not json', '{"format":"otklik-nlu/0"}', '{"format":"otklik-nlu/1","labels":[]}']) {
      assert.throws(
        () => deserializeModel(json, 'model.json'),
        (err: unknown) => isOtklikError(err, 'MODEL_BROKEN'),
      );
    }
  });

  it('trains deterministically', async () => {
    const kb = createKnowledgeBase(db.sql);
    // A third of the phrases is enough to show that the same data gives the same weights.
    const examples = (await trainingExamplesFromKb(kb)).filter((_, i) => i % 3 === 0);
    const twice = trainClassifier(examples, {
      rejectLabel: OUT_OF_SCOPE,
      kbVersion: model.kbVersion,
      calibrationFolds: 0,
    });
    const thrice = trainClassifier(examples, {
      rejectLabel: OUT_OF_SCOPE,
      kbVersion: model.kbVersion,
      calibrationFolds: 0,
    });
    assert.equal(twice.modelVersion, thrice.modelVersion);
    assert.deepEqual(twice.linear.weights, thrice.linear.weights);
  });
});
