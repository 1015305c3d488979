import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { MODEL_FILE } from './model-io.js';
import { createNluService } from './service.js';

describe('NLU service over the knowledge base', () => {
  let db: TestDb;
  let modelDir: string;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    modelDir = await mkdtemp(join(tmpdir(), 'otklik-nlu-service-'));
  });
  after(async () => {
    await db?.drop();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });

  const savedKbVersion = async () => JSON.parse(await readFile(join(modelDir, MODEL_FILE), 'utf8')).kbVersion;

  it('trains when no model is saved, and saves it with the KB version', async () => {
    const kb = createKnowledgeBase(db.sql);
    const service = await createNluService({ kb, modelDir, log: silentLogger });
    try {
      assert.equal(service.classifier().classify('хочу записаться к терапевту').intent, 'health.appointment');
      assert.equal(await savedKbVersion(), await kb.version());
    } finally {
      await service.close();
    }
  });

  it('loads the saved model when the KB has not changed', async () => {
    const kb = createKnowledgeBase(db.sql);
    const first = JSON.parse(await readFile(join(modelDir, MODEL_FILE), 'utf8')).modelVersion;
    const service = await createNluService({ kb, modelDir, log: silentLogger });
    try {
      assert.equal(service.classifier().modelVersion, first);
      assert.equal(await service.retrainIfStale(), false);
    } finally {
      await service.close();
    }
  });

  it('retrains after a KB edit while the old model keeps serving', async () => {
    const kb = createKnowledgeBase(db.sql);
    const service = await createNluService({ kb, modelDir, log: silentLogger });
    try {
      const classifier = service.classifier();
      const before = classifier.modelVersion;
      await createKbEditor(db.sql).addPhrases('health.vaccination', [
        'хочу уколоться от гриппа в поликлинике',
      ]);
      const retraining = service.retrainIfStale();
      // Still answering from the old model while the worker trains.
      assert.equal(classifier.modelVersion, before);
      assert.equal(classifier.classify('где поставить прививку').intent, 'health.vaccination');
      assert.equal(await retraining, true);
      assert.notEqual(classifier.modelVersion, before);
      assert.equal(await savedKbVersion(), await kb.version());
      assert.equal(await service.retrainIfStale(), false);
    } finally {
      await service.close();
    }
  });

  it('replaces an unreadable model file by training a new one', async () => {
    await writeFile(join(modelDir, MODEL_FILE), '{"format": "something else"}');
    const kb = createKnowledgeBase(db.sql);
    const service = await createNluService({ kb, modelDir, log: silentLogger });
    try {
      assert.equal(service.classifier().classify('соедините с оператором').intent, 'service.operator');
      assert.equal(await savedKbVersion(), await kb.version());
    } finally {
      await service.close();
    }
  });
});
