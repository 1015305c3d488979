import { createHash } from 'node:crypto';
import { chooseThresholds, defaultThresholds, fitTemperature, type Thresholds } from './calibrate.js';
import {
  defaultFeatureOptions,
  type FeatureOptions,
  fitVectorizerRaw,
  rawFeatures,
  type SparseVector,
  vectorizeRaw,
} from './features.js';
import { stratifiedFolds } from './folds.js';
import {
  defaultLinearOptions,
  type LinearModel,
  type LinearOptions,
  linearScores,
  softmax,
  trainLinear,
} from './linear.js';
import { normalize } from './normalize.js';

/** One labeled training or test phrase. Labels are free strings (KB intent ids or any TSV's labels). */
export interface LabeledText {
  text: string;
  label: string;
}

export interface TrainOptions {
  features?: Partial<FeatureOptions>;
  linear?: Partial<LinearOptions>;
  /** Folds for calibrating confidence and choosing thresholds (0 = keep the defaults, fastest). */
  calibrationFolds?: number;
  /** The label that rejected utterances get (out_of_scope). Null: never reject (arbitrary label sets). */
  rejectLabel?: string | null;
  /** Stored with the model: the KB version it was trained from. */
  kbVersion?: string | null;
}

/** Everything classify needs, in memory. model-io.ts turns it into a file and back. */
export interface TrainedModel {
  modelVersion: string;
  kbVersion: string | null;
  trainedAt: string;
  labels: string[];
  rejectLabel: string | null;
  featureOptions: FeatureOptions;
  linearOptions: LinearOptions;
  vocabulary: Map<string, number>;
  idf: Float32Array;
  linear: LinearModel;
  temperature: number;
  thresholds: Thresholds;
  trainingSize: number;
}

type Raw = Map<string, number>[];

function fitCore(
  raws: Raw[],
  ys: Int32Array,
  labels: string[],
  features: FeatureOptions,
  linear: LinearOptions,
): { vocabulary: Map<string, number>; idf: Float32Array; model: LinearModel; xs: SparseVector[] } {
  const vectorizer = fitVectorizerRaw(raws, features);
  const xs = raws.map((r) => vectorizeRaw(vectorizer, r));
  const model = trainLinear(xs, ys, labels.length, vectorizer.idf.length, linear);
  return { vocabulary: vectorizer.vocabulary, idf: vectorizer.idf, model, xs };
}

function prepareLabels(examples: LabeledText[]): { labels: string[]; ys: Int32Array } {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  return { labels, ys: Int32Array.from(examples, (e) => index.get(e.label)!) };
}

/**
 * Out-of-fold raw scores: each example scored by a model trained without its fold. The vectorizer is
 * refitted per fold too, so unseen words stay unseen.
 */
export function outOfFoldScores(
  raws: Raw[],
  ys: Int32Array,
  labels: string[],
  folds: number,
  features: FeatureOptions,
  linear: LinearOptions,
): Float64Array[] {
  const scores: Float64Array[] = new Array(raws.length);
  const assignment = stratifiedFolds(ys, folds, linear.seed);
  for (let f = 0; f < folds; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    assignment.forEach((a, i) => {
      (a === f ? testIdx : trainIdx).push(i);
    });
    if (testIdx.length === 0 || trainIdx.length === 0) continue;
    const core = fitCore(
      trainIdx.map((i) => raws[i]!),
      Int32Array.from(trainIdx, (i) => ys[i]!),
      labels,
      features,
      linear,
    );
    const vectorizer = { options: features, vocabulary: core.vocabulary, idf: core.idf };
    for (const i of testIdx) scores[i] = linearScores(core.model, vectorizeRaw(vectorizer, raws[i]!));
  }
  return scores;
}

/** Trains a classifier from plain labeled texts: the KB path and `nlu eval` on any TSV share this. */
export function trainClassifier(examples: LabeledText[], opts: TrainOptions = {}): TrainedModel {
  const features = { ...defaultFeatureOptions, ...opts.features };
  const linear = { ...defaultLinearOptions, ...opts.linear };
  const raws = examples.map((e) => rawFeatures(normalize(e.text), features));
  const { labels, ys } = prepareLabels(examples);
  const rejectLabel = opts.rejectLabel === undefined ? null : opts.rejectLabel;
  const core = fitCore(raws, ys, labels, features, linear);

  let temperature = 1;
  let thresholds = defaultThresholds;
  const folds = Math.min(opts.calibrationFolds ?? 3, examples.length);
  if (folds >= 2 && labels.length >= 2) {
    const oof = outOfFoldScores(raws, ys, labels, folds, features, linear);
    const known = oof.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
    const knownScores = known.map((i) => oof[i]!);
    const knownYs = Int32Array.from(known, (i) => ys[i]!);
    temperature = fitTemperature(knownScores, knownYs);
    const probs = knownScores.map((s) => softmax(s, temperature));
    thresholds = chooseThresholds({ probs, ys: knownYs }, rejectLabel ? labels.indexOf(rejectLabel) : -1);
  }

  const hash = createHash('sha256');
  hash.update(JSON.stringify({ features, linear, labels }));
  for (const e of examples) hash.update(`${e.label}\t${e.text}\n`);
  return {
    modelVersion: `nlu-${hash.digest('hex').slice(0, 12)}`,
    kbVersion: opts.kbVersion ?? null,
    trainedAt: new Date().toISOString(),
    labels,
    rejectLabel,
    featureOptions: features,
    linearOptions: linear,
    vocabulary: core.vocabulary,
    idf: core.idf,
    linear: core.model,
    temperature,
    thresholds,
    trainingSize: examples.length,
  };
}
