import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OtklikError } from '../core/errors.js';
import type { TrainedModel } from './train.js';

/**
 * The model file (models/nlu/model.json): one JSON document with the KB version it was trained from,
 * the vocabulary, the float arrays as base64, calibration and thresholds. Written to a temporary name and
 * renamed, so a reader never sees half a model.
 */

export const MODEL_FORMAT = 'otklik-nlu/1';
export const MODEL_FILE = 'model.json';

const f32ToBase64 = (a: Float32Array): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export function serializeModel(model: TrainedModel): string {
  const vocabulary: string[] = new Array(model.vocabulary.size);
  for (const [key, i] of model.vocabulary) vocabulary[i] = key;
  return JSON.stringify({
    format: MODEL_FORMAT,
    modelVersion: model.modelVersion,
    kbVersion: model.kbVersion,
    trainedAt: model.trainedAt,
    trainingSize: model.trainingSize,
    labels: model.labels,
    rejectLabel: model.rejectLabel,
    featureOptions: model.featureOptions,
    linearOptions: model.linearOptions,
    temperature: model.temperature,
    thresholds: model.thresholds,
    vocabulary,
    idf: f32ToBase64(model.idf),
    weights: f32ToBase64(model.linear.weights),
    bias: f32ToBase64(model.linear.bias),
  });
}

/** The file's fields as written by serializeModel. */
interface ModelFile extends Omit<TrainedModel, 'vocabulary' | 'idf' | 'linear'> {
  format: string;
  vocabulary: string[];
  idf: string;
  weights: string;
  bias: string;
}

export function deserializeModel(json: string, source = 'model'): TrainedModel {
  let doc: ModelFile;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new OtklikError('MODEL_BROKEN', `${source}: not valid JSON`, { cause: err });
  }
  if (doc?.format !== MODEL_FORMAT) {
    throw new OtklikError(
      'MODEL_BROKEN',
      `${source}: format is ${String(doc?.format)}, expected ${MODEL_FORMAT}`,
    );
  }
  const complete =
    Array.isArray(doc.labels) &&
    Array.isArray(doc.vocabulary) &&
    typeof doc.weights === 'string' &&
    typeof doc.bias === 'string' &&
    typeof doc.idf === 'string' &&
    typeof doc.temperature === 'number' &&
    typeof doc.thresholds?.reject === 'number' &&
    typeof doc.featureOptions === 'object';
  if (!complete) throw new OtklikError('MODEL_BROKEN', `${source}: fields are missing`);
  const labels = doc.labels;
  const vocabularyList = doc.vocabulary;
  const weights = base64ToF32(doc.weights);
  const bias = base64ToF32(doc.bias);
  const idf = base64ToF32(doc.idf);
  if (
    weights.length !== labels.length * vocabularyList.length ||
    bias.length !== labels.length ||
    idf.length !== vocabularyList.length
  ) {
    throw new OtklikError('MODEL_BROKEN', `${source}: array sizes do not match the vocabulary and labels`);
  }
  return {
    modelVersion: doc.modelVersion,
    kbVersion: doc.kbVersion ?? null,
    trainedAt: doc.trainedAt,
    trainingSize: doc.trainingSize,
    labels,
    rejectLabel: doc.rejectLabel ?? null,
    featureOptions: doc.featureOptions,
    linearOptions: doc.linearOptions,
    temperature: doc.temperature,
    thresholds: doc.thresholds,
    vocabulary: new Map(vocabularyList.map((k, i) => [k, i])),
    idf,
    linear: { classes: labels.length, features: vocabularyList.length, weights, bias },
  };
}

export async function saveModel(dir: string, model: TrainedModel): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, MODEL_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, serializeModel(model));
  await rename(tmp, path);
  return path;
}

/** The saved model, or null when there is none. A broken file is an error (MODEL_BROKEN). */
export async function loadModel(dir: string): Promise<TrainedModel | null> {
  const path = join(dir, MODEL_FILE);
  let json: string;
  try {
    json = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OtklikError('MODEL_BROKEN', `${path}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  return deserializeModel(json, path);
}
