import type { Logger } from '../core/log.js';
import { listTestPhrases } from '../kb/test-phrases.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { Sql } from '../store/sql.js';
import { OUT_OF_SCOPE } from './classifier.js';
import { type EvalReport, predictAll, report } from './evaluate.js';
import { prepareFeatures } from './features.js';
import { trainingExamplesFromKb } from './kb-examples.js';
import { deserializeModel } from './model-io.js';
import {
  activateModel,
  activeModelRow,
  claimTraining,
  failTraining,
  finishTraining,
  getModel,
  type ModelComparison,
  type ModelRow,
  modelText,
  setProgress,
  type TrainingProgress,
} from './registry.js';
import { type EvaluatedTrainJob, trainAndEvaluateInWorker, type WorkerProgress } from './train-async.js';

/**
 * Background training with evaluation (the «Обучение» page and the KB's changes): claims a registry row,
 * cross-validates, trains and tests on the editors' held-out set in a worker thread, writing progress to the
 * row, then activates the model unless it is worse than the active one on the same held-out set. The serving
 * classifier is never touched here: each node's NLU service follows the active row.
 */

/** Worse: held-out accuracy lower by more than half a percentage point, or macro-F1 lower by more than 0.005. */
export const WORSE_MARGIN = 0.005;

export function isWorse(candidate: EvalReport, active: EvalReport): boolean {
  return (
    candidate.accuracy < active.accuracy - WORSE_MARGIN || candidate.macroF1 < active.macroF1 - WORSE_MARGIN
  );
}

const percent = (x: number): string => `${(x * 100).toFixed(1).replace('.', ',')} %`;
const decimal = (x: number): string => x.toFixed(3).replace('.', ',');

export function worseReason(candidate: EvalReport, active: EvalReport, activeId: number): string {
  return (
    `хуже действующей модели на контрольной выборке: точность ${percent(candidate.accuracy)} против ` +
    `${percent(active.accuracy)}, macro-F1 ${decimal(candidate.macroF1)} против ${decimal(active.macroF1)} ` +
    `(модель №${activeId}); активировать можно только с подтверждением редактора`
  );
}

export interface NluTrainerOptions {
  sql: Sql;
  kb: KnowledgeBase;
  log: Logger;
  /** Cross-validation folds (default 5). */
  folds?: number;
  now?: () => Date;
}

export interface StartedTraining {
  id: number;
  /** The finished row (ready, active or failed). */
  done: Promise<ModelRow>;
}

export interface NluTrainer {
  /**
   * Starts a training in the background. Null when one is already running on some node, or (automatic) when
   * the KB's version already has a model.
   */
  start(opts: { trigger: 'auto' | 'manual'; by?: string | null }): Promise<StartedTraining | null>;
  close(): Promise<void>;
}

function share(p: WorkerProgress): number {
  if (p.phase === 'cross_validation') return 0.05 + (0.75 * ((p.fold ?? 1) - 1)) / (p.folds ?? 1);
  return p.phase === 'training' ? 0.82 : 0.95;
}

export function createNluTrainer(opts: NluTrainerOptions): NluTrainer {
  const { sql, kb, log } = opts;
  const now = opts.now ?? (() => new Date());
  const folds = opts.folds ?? 5;
  const jobs = new Set<EvaluatedTrainJob>();
  let closed = false;

  async function compare(
    heldOut: EvalReport | null,
    texts: { text: string; label: string }[],
  ): Promise<ModelComparison | null> {
    const active = await activeModelRow(sql);
    if (!active || !heldOut) return null;
    const serialized = await modelText(sql, active.id);
    if (!serialized) return null;
    const model = deserializeModel(serialized, `model ${active.id}`);
    await prepareFeatures(model.featureOptions);
    const activeHeldOut = report(predictAll(model, texts));
    const comparison: ModelComparison = {
      activeId: active.id,
      activeModelVersion: active.modelVersion,
      activeHeldOut,
      worse: isWorse(heldOut, activeHeldOut),
    };
    return comparison;
  }

  async function run(id: number, kbVersion: string): Promise<ModelRow> {
    let writes = Promise.resolve();
    const progress = (p: TrainingProgress): void => {
      writes = writes.then(() => setProgress(sql, id, p, now())).catch(() => {});
    };
    let job: EvaluatedTrainJob | null = null;
    try {
      progress({ phase: 'preparing', share: 0.02 });
      const examples = await trainingExamplesFromKb(kb);
      const heldOut = (await listTestPhrases(sql)).map((p) => ({ text: p.text, label: p.intentId }));
      job = trainAndEvaluateInWorker(
        examples,
        { rejectLabel: OUT_OF_SCOPE, kbVersion },
        { folds, heldOut },
        (p) => progress({ ...p, share: share(p) }),
      );
      jobs.add(job);
      const result = await job.result;
      await writes;
      const comparison = await compare(result.heldOut, heldOut);
      const worse = comparison?.worse === true;
      await finishTraining(sql, id, {
        model: result.serialized,
        modelVersion: result.model.modelVersion,
        trainingSize: examples.length,
        evaluation: { crossValidation: result.crossValidation, heldOut: result.heldOut, comparison },
        reason:
          worse && comparison && result.heldOut
            ? worseReason(result.heldOut, comparison.activeHeldOut, comparison.activeId)
            : null,
        now: now(),
      });
      if (!worse) await activateModel(sql, id, null, now());
      log.info(
        { modelId: id, modelVersion: result.model.modelVersion, kbVersion, phrases: examples.length, worse },
        worse
          ? 'NLU model trained; worse on the held-out set, not activated'
          : 'NLU model trained and activated',
      );
    } catch (err) {
      await writes;
      const message = closed
        ? 'обучение прервано: узел остановлен'
        : `обучение не удалось: ${(err as Error).message}`;
      await failTraining(sql, id, message, now()).catch(() => {});
      if (!closed) log.error({ err: (err as Error).message, modelId: id }, 'NLU training failed');
    } finally {
      if (job) jobs.delete(job);
    }
    return (await getModel(sql, id))!;
  }

  return {
    async start({ trigger, by = null }) {
      if (closed) return null;
      const kbVersion = await kb.version();
      const id = await claimTraining(sql, { kbVersion, trigger, by, now: now() });
      if (id === null) return null;
      return { id, done: run(id, kbVersion) };
    },
    async close() {
      closed = true;
      await Promise.all([...jobs].map((j) => j.cancel()));
    },
  };
}
