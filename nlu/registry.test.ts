import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { listTestPhrases } from '../kb/test-phrases.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { activateModel, listModels } from './registry.js';
import { createNluService, type NluService } from './service.js';

/**
 * The model registry with its gate: the first model is activated by itself, a model trained from a
 * deliberately damaged training set (the phrases of two intents swapped) is worse on the held-out set and
 * stays `ready` with the reason until an editor confirms it; an earlier model can be activated again.
 */
describe('NLU model registry', () => {
  let db: TestDb;
  let modelDir: string;
  let service: NluService;
  const now = () => new Date('2026-03-02T09:00:00Z');

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    modelDir = await mkdtemp(join(tmpdir(), 'otklik-nlu-registry-'));
  });
  after(async () => {
    await service?.close();
    await db?.drop();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  const registry = () => ({ sql: db.sql, followMs: 0, folds: 3, now });

  it('trains, evaluates and activates the first model at start', async () => {
    assert.ok((await listTestPhrases(db.sql)).length >= 50, 'the sample KB has a held-out set');
    const kb = createKnowledgeBase(db.sql);
    service = await createNluService({ kb, modelDir, log: silentLogger, registry: registry() });
    const [first, ...rest] = await listModels(db.sql);
    assert.equal(rest.length, 0);
    assert.equal(first!.status, 'active');
    assert.equal(first!.kbVersion, await kb.version());
    assert.equal(service.activeModelId(), first!.id);
    const ev = first!.evaluation!;
    assert.equal(ev.crossValidation.folds, 3);
    assert.ok(ev.crossValidation.accuracy > 0.8, `CV accuracy ${ev.crossValidation.accuracy}`);
    assert.ok(ev.heldOut && ev.heldOut.accuracy > 0.8, `held-out accuracy ${ev.heldOut?.accuracy}`);
    assert.ok(ev.heldOut!.perLabel.some((l) => l.label === 'health.appointment'));
    assert.equal(first!.progress.phase, 'done');
    assert.equal(service.classifier().classify('хочу записаться к терапевту').intent, 'health.appointment');
  });

  it('does not activate a model trained from a damaged set, and says why', async () => {
    const editor = createKbEditor(db.sql);
    const intents = await createKnowledgeBase(db.sql).intents();
    const phrasesOf = (id: string) => intents.find((i) => i.id === id)!.phrases;
    const appointment = phrasesOf('health.appointment');
    const vaccination = phrasesOf('health.vaccination');
    await editor.setPhrases('health.appointment', vaccination);
    await editor.setPhrases('health.vaccination', appointment);

    const before = service.activeModelId();
    assert.equal(await service.retrainIfStale(), false, 'nothing swapped in');
    const [damaged, first] = await listModels(db.sql);
    assert.equal(damaged!.status, 'ready');
    assert.match(damaged!.reason!, /^хуже действующей модели на контрольной выборке: точность /);
    assert.equal(damaged!.evaluation!.comparison!.activeId, first!.id);
    assert.equal(damaged!.evaluation!.comparison!.worse, true);
    assert.ok(damaged!.evaluation!.heldOut!.accuracy < first!.evaluation!.heldOut!.accuracy);
    assert.ok(
      damaged!.evaluation!.heldOut!.confusions.some(
        (c) => c.gold === 'health.appointment' && c.predicted === 'health.vaccination',
      ),
    );
    assert.equal(first!.status, 'active');
    assert.equal(service.activeModelId(), before);
    // Calls keep being understood by the serving model.
    assert.equal(service.classifier().classify('хочу записаться к терапевту').intent, 'health.appointment');
    // The same KB version is not trained again by itself.
    assert.equal(await service.retrainIfStale(), false);
    assert.equal((await listModels(db.sql)).length, 2);
  });

  it('serves the damaged model once an editor confirms it, and rolls back to the first', async () => {
    const [damaged, first] = await listModels(db.sql);
    await activateModel(db.sql, damaged!.id, 'editor1', now());
    assert.equal(await service.retrainIfStale(), true);
    assert.equal(service.activeModelId(), damaged!.id);
    assert.equal(service.classifier().classify('хочу записаться к терапевту').intent, 'health.vaccination');

    await activateModel(db.sql, first!.id, 'editor1', now());
    assert.equal(await service.retrainIfStale(), true);
    assert.equal(service.classifier().classify('хочу записаться к терапевту').intent, 'health.appointment');
    const rows = await listModels(db.sql);
    assert.deepEqual(
      rows.map((r) => [r.id, r.status, r.activatedBy]),
      [
        [damaged!.id, 'retired', 'editor1'],
        [first!.id, 'active', 'editor1'],
      ],
    );
  });

  it('a second node serves the active model without training one', async () => {
    const other = await createNluService({
      kb: createKnowledgeBase(db.sql),
      modelDir,
      log: silentLogger,
      registry: registry(),
    });
    try {
      assert.equal(other.activeModelId(), service.activeModelId());
      assert.equal((await listModels(db.sql)).length, 2);
    } finally {
      await other.close();
    }
  });

  it('runs one training at a time', async () => {
    const first = await service.trainer!.start({ trigger: 'manual', by: 'editor1' });
    assert.ok(first);
    assert.equal(await service.trainer!.start({ trigger: 'manual', by: 'editor2' }), null);
    const row = await first.done;
    assert.equal(row.createdBy, 'editor1');
    assert.equal(row.trigger, 'manual');
    // Trained from the same damaged KB as model 2: worse than the active first model, so not activated.
    assert.equal(row.status, 'ready');
  });
});
