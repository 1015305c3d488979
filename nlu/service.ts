import { isOtklikError, OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { Sql } from '../store/sql.js';
import { NluClassifier, OUT_OF_SCOPE } from './classifier.js';
import type { GazetteerEntry } from './entities/index.js';
import { prepareFeatures } from './features.js';
import { gazetteerFromKb, intentIdsOfKb, trainingExamplesFromKb } from './kb-examples.js';
import { deserializeModel, loadModel, saveModel } from './model-io.js';
import { activeModelId, hasModelFor, modelText } from './registry.js';
import type { TrainedModel } from './train.js';
import { type TrainJob, trainInWorker } from './train-async.js';
import { createNluTrainer, type NluTrainer } from './trainer.js';
import type { Classification, ClassifyContext, IntentClassifier } from './types.js';

export { gazetteerFromKb, trainingExamplesFromKb } from './kb-examples.js';

/**
 * The NLU as the dialog engine uses it: a classifier that is always usable, trained from the knowledge
 * base. Two ways to keep its model:
 * - with `registry` (otklik serve): the store's model registry (nlu/registry.ts). The service serves the
 *   active model and polls which one is active, so every node serves the same; a KB change starts a
 *   background training (nlu/trainer.ts) whose model is evaluated and activated only if it is not worse on
 *   the held-out set. With no active model at all (a fresh install) the first one is trained at start.
 * - without it (the CLI, tests): a model file under modelDir; a saved model whose KB version matches is
 *   loaded as is, otherwise a new one trains in a worker thread while the old one keeps serving.
 * Either way the classifier object stays the same and its model is swapped in place.
 */

export interface NluService {
  /** A stable classifier whose model is swapped in place when a retrained one is ready. */
  classifier(): IntentClassifier;
  /**
   * Registry: follows the active model, and starts a training when the KB's version has no model yet.
   * File: retrains when the KB version differs from the model's. True if a new model was swapped in.
   */
  retrainIfStale(): Promise<boolean>;
  /** The registry row id of the model serving now (null without a registry). */
  activeModelId(): number | null;
  /** The background trainer (registry mode only): the «Обучение» page starts trainings through it. */
  readonly trainer: NluTrainer | null;
  close(): Promise<void>;
}

export interface NluRegistryOptions {
  sql: Sql;
  /** How often the active model is checked, ms (default 5000; 0: only on retrainIfStale). */
  followMs?: number;
  /** Cross-validation folds of each training (default 5). */
  folds?: number;
  now?: () => Date;
}

export interface NluServiceOptions {
  kb: KnowledgeBase;
  modelDir: string;
  log: Logger;
  registry?: NluRegistryOptions;
}

interface Holder {
  current: NluClassifier | null;
  gazetteer: GazetteerEntry[];
  timeZone: string;
  allowed: Set<string>;
}

function facadeOf(holder: Holder): IntentClassifier {
  return {
    get modelVersion() {
      return holder.current!.modelVersion;
    },
    classify(text: string, context?: ClassifyContext): Classification {
      return holder.current!.classify(text, context);
    },
  };
}

async function holderFor(kb: KnowledgeBase): Promise<Holder> {
  // Relative dates («завтра») are the region's days; the zone, like the names, is the KB's as last loaded.
  return {
    current: null,
    gazetteer: await gazetteerFromKb(kb),
    timeZone: await kb.timezone(),
    allowed: await intentIdsOfKb(kb),
  };
}

async function refreshKbParts(holder: Holder, kb: KnowledgeBase): Promise<void> {
  holder.gazetteer = await gazetteerFromKb(kb);
  holder.timeZone = await kb.timezone();
  holder.allowed = await intentIdsOfKb(kb);
}

const build = (holder: Holder, model: TrainedModel): NluClassifier =>
  new NluClassifier(model, {
    allowedIntents: holder.allowed,
    gazetteer: holder.gazetteer,
    timeZone: holder.timeZone,
  });

export async function createNluService(opts: NluServiceOptions): Promise<NluService> {
  return opts.registry ? createRegistryService(opts, opts.registry) : createFileService(opts);
}

/** How long a node without any active model waits for another node's first training. */
const FIRST_MODEL_WAIT_MS = 10 * 60_000;

async function createRegistryService(opts: NluServiceOptions, reg: NluRegistryOptions): Promise<NluService> {
  const { kb, log } = opts;
  const { sql } = reg;
  const holder = await holderFor(kb);
  const trainer = createNluTrainer({
    sql,
    kb,
    log,
    ...(reg.folds ? { folds: reg.folds } : {}),
    ...(reg.now ? { now: reg.now } : {}),
  });
  let currentId: number | null = null;
  let inFlight: Promise<boolean> | null = null;
  let closed = false;
  const failedVersions = new Set<string>();

  /** Loads the active model when it is not the one serving; true if it swapped. */
  async function follow(): Promise<boolean> {
    const id = await activeModelId(sql);
    if (id === null || id === currentId) return false;
    const text = await modelText(sql, id);
    if (!text) return false;
    const model = deserializeModel(text, `NLU model ${id}`);
    await prepareFeatures(model.featureOptions);
    await refreshKbParts(holder, kb);
    holder.current = build(holder, model);
    currentId = id;
    log.info({ modelId: id, modelVersion: model.modelVersion }, 'NLU serves model %d', id);
    return true;
  }

  async function check(): Promise<boolean> {
    let swapped = await follow();
    const version = await kb.version();
    if (failedVersions.has(version) || (await hasModelFor(sql, version))) return swapped;
    const started = await trainer.start({ trigger: 'auto' });
    if (!started) return swapped;
    const row = await started.done;
    if (row.status === 'failed') failedVersions.add(version);
    swapped = (await follow()) || swapped;
    return swapped;
  }

  function retrainIfStale(): Promise<boolean> {
    if (inFlight) return inFlight;
    inFlight = check().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  await follow();
  if (!holder.current) {
    await retrainIfStale();
    // Another node may be training the first model: wait for it to become active.
    const deadline = Date.now() + FIRST_MODEL_WAIT_MS;
    while (!holder.current && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (!(await follow())) await retrainIfStale();
    }
    if (!holder.current)
      throw new OtklikError('MODEL_MISSING', 'Нет действующей модели NLU: обучение не удалось');
  } else {
    void retrainIfStale().catch((err: Error) => {
      if (!closed) log.error({ err: err.message }, 'NLU retraining failed; the active model keeps serving');
    });
  }
  const timer =
    reg.followMs === 0
      ? null
      : setInterval(() => {
          follow().catch((err: Error) =>
            log.warn({ err: err.message }, 'could not check the active NLU model'),
          );
        }, reg.followMs ?? 5000);
  timer?.unref();

  const facade = facadeOf(holder);
  return {
    classifier: () => facade,
    retrainIfStale,
    activeModelId: () => currentId,
    trainer,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await trainer.close();
      await inFlight?.catch(() => {});
    },
  };
}

async function createFileService(opts: NluServiceOptions): Promise<NluService> {
  const { kb, modelDir, log } = opts;
  const holder = await holderFor(kb);

  let saved: TrainedModel | null = null;
  try {
    saved = await loadModel(modelDir);
    if (saved) await prepareFeatures(saved.featureOptions);
  } catch (err) {
    if (!isOtklikError(err, 'MODEL_BROKEN') && !isOtklikError(err, 'MODEL_MISSING')) throw err;
    saved = null;
    log.warn({ err: err.message, modelDir }, 'saved NLU model is unreadable; retraining');
  }
  holder.current = saved ? build(holder, saved) : null;
  let job: TrainJob | null = null;
  let inFlight: Promise<boolean> | null = null;
  let closed = false;

  async function retrain(version: string): Promise<boolean> {
    const examples = await trainingExamplesFromKb(kb);
    const started = Date.now();
    job = trainInWorker(examples, { rejectLabel: OUT_OF_SCOPE, kbVersion: version });
    try {
      const model = await job.result;
      if (closed) return false;
      await refreshKbParts(holder, kb);
      holder.current = build(holder, model);
      await saveModel(modelDir, model).catch((err: Error) =>
        log.warn({ err: err.message, modelDir }, 'could not save the NLU model; it serves from memory'),
      );
      log.info(
        {
          modelVersion: model.modelVersion,
          kbVersion: version,
          phrases: examples.length,
          ms: Date.now() - started,
        },
        'NLU model trained',
      );
      return true;
    } finally {
      job = null;
    }
  }

  async function retrainIfStale(): Promise<boolean> {
    if (inFlight) return inFlight;
    const version = await kb.version();
    if (holder.current && holder.current.model.kbVersion === version) return false;
    inFlight = retrain(version).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  if (!holder.current) await retrainIfStale();
  else
    void retrainIfStale().catch((err: Error) => {
      if (!closed) log.error({ err: err.message }, 'NLU retraining failed; the previous model keeps serving');
    });

  const facade = facadeOf(holder);
  return {
    classifier: () => facade,
    retrainIfStale,
    activeModelId: () => null,
    trainer: null,
    async close() {
      closed = true;
      if (job) await job.cancel();
    },
  };
}
