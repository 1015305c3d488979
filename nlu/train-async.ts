import { Worker } from 'node:worker_threads';
import { OtklikError } from '../core/errors.js';
import type { EvalReport } from './evaluate.js';
import { deserializeModel } from './model-io.js';
import type { LabeledText, TrainedModel, TrainOptions } from './train.js';

/**
 * Trains in a worker thread so that classification keeps being served from the old model meanwhile.
 * The worker loads the TypeScript sources through tsx's loader, as the CLI does (no build step).
 */
export interface TrainJob {
  result: Promise<TrainedModel>;
  cancel(): Promise<void>;
}

/** What the worker evaluates besides training: k-fold cross-validation and the held-out set. */
export interface WorkerEvaluation {
  folds: number;
  heldOut: LabeledText[];
}

export interface WorkerProgress {
  phase: 'cross_validation' | 'training' | 'held_out';
  fold?: number;
  folds?: number;
}

export interface EvaluatedModel {
  model: TrainedModel;
  /** The serialized model, as the registry stores it. */
  serialized: string;
  crossValidation: EvalReport & { folds: number };
  heldOut: EvalReport | null;
}

export interface EvaluatedTrainJob {
  result: Promise<EvaluatedModel>;
  cancel(): Promise<void>;
}

interface WorkerMessage {
  ok?: boolean;
  model?: string;
  message?: string;
  progress?: WorkerProgress;
  report?: { crossValidation: EvalReport & { folds: number }; heldOut: EvalReport | null };
}

function startWorker(
  workerData: object,
  onProgress: (p: WorkerProgress) => void,
): { done: Promise<WorkerMessage>; cancel(): Promise<void> } {
  const workerUrl = new URL('./train-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData });
  let settled = false;
  const done = new Promise<WorkerMessage>((resolve, reject) => {
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.progress) {
        onProgress(msg.progress);
        return;
      }
      settled = true;
      if (msg.ok && msg.model) resolve(msg);
      else reject(new OtklikError('INTERNAL', `NLU training failed: ${msg.message ?? 'no model'}`));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(new OtklikError('INTERNAL', `NLU training worker failed: ${err.message}`, { cause: err }));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new OtklikError('CANCELLED', `NLU training worker exited (code ${code})`));
    });
  });
  return {
    done,
    async cancel() {
      await worker.terminate();
    },
  };
}

export function trainInWorker(examples: LabeledText[], options: TrainOptions): TrainJob {
  const job = startWorker({ examples, options }, () => {});
  return {
    result: job.done.then((msg) => deserializeModel(msg.model!, 'training worker')),
    cancel: job.cancel,
  };
}

/** Cross-validates, trains and tests on the held-out set in a worker, telling each phase as it starts. */
export function trainAndEvaluateInWorker(
  examples: LabeledText[],
  options: TrainOptions,
  evaluation: WorkerEvaluation,
  onProgress: (p: WorkerProgress) => void,
): EvaluatedTrainJob {
  const job = startWorker({ examples, options, evaluation }, onProgress);
  return {
    result: job.done.then((msg) => ({
      model: deserializeModel(msg.model!, 'training worker'),
      serialized: msg.model!,
      crossValidation: msg.report!.crossValidation,
      heldOut: msg.report!.heldOut,
    })),
    cancel: job.cancel,
  };
}
