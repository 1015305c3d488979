import { parentPort, workerData } from 'node:worker_threads';
import { crossValidate, predictAll, report } from './evaluate.js';
import { prepareFeatures } from './features.js';
import { serializeModel } from './model-io.js';
import { type LabeledText, type TrainOptions, trainClassifier } from './train.js';
import type { WorkerEvaluation } from './train-async.js';

/**
 * Worker-thread entry: trains off the serving thread and posts the serialized model back. With `evaluation`
 * it cross-validates first and tests the final model on the held-out set, posting progress as it goes.
 */
const { examples, options, evaluation } = workerData as {
  examples: LabeledText[];
  options: TrainOptions;
  evaluation?: WorkerEvaluation;
};
const post = (msg: object): void => parentPort!.postMessage(msg);
try {
  await prepareFeatures(options.features ?? {});
  if (!evaluation) {
    post({ ok: true, model: serializeModel(trainClassifier(examples, options)) });
  } else {
    const folds = Math.max(2, Math.min(evaluation.folds, examples.length));
    const cv = crossValidate(examples, folds, {
      ...options,
      onFold: (fold, n) => post({ progress: { phase: 'cross_validation', fold, folds: n } }),
    });
    post({ progress: { phase: 'training' } });
    const model = trainClassifier(examples, options);
    post({ progress: { phase: 'held_out' } });
    const heldOut = evaluation.heldOut.length > 0 ? report(predictAll(model, evaluation.heldOut)) : null;
    post({ ok: true, model: serializeModel(model), report: { crossValidation: { ...cv, folds }, heldOut } });
  }
} catch (err) {
  post({ ok: false, message: (err as Error).message });
}
