import { parentPort, workerData } from 'node:worker_threads';
import { prepareFeatures } from './features.js';
import { serializeModel } from './model-io.js';
import { type LabeledText, type TrainOptions, trainClassifier } from './train.js';

/** Worker-thread entry: trains off the serving thread and posts the serialized model back. */
const { examples, options } = workerData as { examples: LabeledText[]; options: TrainOptions };
try {
  await prepareFeatures(options.features ?? {});
  parentPort!.postMessage({ ok: true, model: serializeModel(trainClassifier(examples, options)) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
