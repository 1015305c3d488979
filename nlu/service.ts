import { isOtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import { NluClassifier, OUT_OF_SCOPE } from './classifier.js';
import { type GazetteerEntry, gazetteerFromVocabulary } from './entities/index.js';
import { prepareFeatures } from './features.js';
import { loadModel, saveModel } from './model-io.js';
import type { LabeledText, TrainedModel } from './train.js';
import { type TrainJob, trainInWorker } from './train-async.js';
import type { Classification, ClassifyContext, IntentClassifier } from './types.js';

/**
 * The NLU as the dialog engine uses it: a classifier that is always usable, trained from the knowledge
 * base. A saved model whose KB version matches is loaded as is; otherwise a new one trains in a worker
 * thread while the old one (if any) keeps serving, and is saved under modelDir when ready.
 */

export interface NluService {
  /** A stable classifier whose model is swapped in place when a retrained one is ready. */
  classifier(): IntentClassifier;
  /** Retrains when the KB version differs from the model's; true if a new model was swapped in. */
  retrainIfStale(): Promise<boolean>;
  close(): Promise<void>;
}

export interface NluServiceOptions {
  kb: KnowledgeBase;
  modelDir: string;
  log: Logger;
}

/** The KB's training phrases as labeled texts: every intent of the current KB, the editors' own included. */
export async function trainingExamplesFromKb(kb: KnowledgeBase): Promise<LabeledText[]> {
  const intents = await kb.intents();
  return intents.flatMap((i) => i.phrases.map((text) => ({ text, label: i.id })));
}

/** The intents a classification may return: those of the KB the model was trained from. */
async function intentIdsOf(kb: KnowledgeBase): Promise<ReadonlySet<string>> {
  return new Set((await kb.intents()).map((i) => i.id));
}

export async function gazetteerFromKb(kb: KnowledgeBase): Promise<GazetteerEntry[]> {
  return gazetteerFromVocabulary(await kb.vocabulary());
}

export async function createNluService(opts: NluServiceOptions): Promise<NluService> {
  const { kb, modelDir, log } = opts;
  let gazetteer = await gazetteerFromKb(kb);
  // Relative dates («завтра») are the region's days; the zone, like the names, is the KB's as last trained.
  let timeZone = await kb.timezone();
  let allowedIntents = await intentIdsOf(kb);
  const build = (model: TrainedModel): NluClassifier =>
    new NluClassifier(model, { allowedIntents, gazetteer, timeZone });

  let saved: TrainedModel | null = null;
  try {
    saved = await loadModel(modelDir);
    if (saved) await prepareFeatures(saved.featureOptions);
  } catch (err) {
    if (!isOtklikError(err, 'MODEL_BROKEN') && !isOtklikError(err, 'MODEL_MISSING')) throw err;
    saved = null;
    log.warn({ err: err.message, modelDir }, 'saved NLU model is unreadable; retraining');
  }
  let current: NluClassifier | null = saved ? build(saved) : null;
  let job: TrainJob | null = null;
  let inFlight: Promise<boolean> | null = null;
  let closed = false;

  async function retrain(version: string): Promise<boolean> {
    const examples = await trainingExamplesFromKb(kb);
    gazetteer = await gazetteerFromKb(kb);
    timeZone = await kb.timezone();
    allowedIntents = await intentIdsOf(kb);
    const started = Date.now();
    job = trainInWorker(examples, { rejectLabel: OUT_OF_SCOPE, kbVersion: version });
    try {
      const model = await job.result;
      if (closed) return false;
      current = build(model);
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
    if (current && current.model.kbVersion === version) return false;
    inFlight = retrain(version).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  if (!current) await retrainIfStale();
  else
    void retrainIfStale().catch((err: Error) => {
      if (!closed) log.error({ err: err.message }, 'NLU retraining failed; the previous model keeps serving');
    });

  const facade: IntentClassifier = {
    get modelVersion() {
      return current!.modelVersion;
    },
    classify(text: string, context?: ClassifyContext): Classification {
      return current!.classify(text, context);
    },
  };
  return {
    classifier: () => facade,
    retrainIfStale,
    async close() {
      closed = true;
      if (job) await job.cancel();
    },
  };
}
