import { Worker } from 'node:worker_threads';
import { OtklikError } from '../core/errors.js';
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

export function trainInWorker(examples: LabeledText[], options: TrainOptions): TrainJob {
  const workerUrl = new URL('./train-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { examples, options } });
  let settled = false;
  const result = new Promise<TrainedModel>((resolve, reject) => {
    worker.once('message', (msg: { ok: boolean; model?: string; message?: string }) => {
      settled = true;
      if (msg.ok && msg.model) resolve(deserializeModel(msg.model, 'training worker'));
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
    result,
    async cancel() {
      await worker.terminate();
    },
  };
}
