import { createRng, shuffleInPlace } from '../core/prng.js';
import type { SparseVector } from './features.js';

/**
 * Linear classifiers over sparse TF-IDF vectors. Weights are feature-major (w[f * K + k]) so that scoring
 * a sparse input touches contiguous memory. Three algorithms, measured against each other in
 * bench/results-nlu.md: multinomial logistic regression and a Crammer-Singer linear SVM, both trained by
 * SGD with L2 regularization, and multinomial naive Bayes as the closed-form baseline.
 */

export type Algorithm = 'logreg' | 'svm' | 'nb';

export interface LinearOptions {
  algorithm: Algorithm;
  epochs: number;
  /** L2 regularization strength. */
  lambda: number;
  /** Initial learning rate. */
  eta: number;
  seed: number;
}

export const defaultLinearOptions: LinearOptions = {
  algorithm: 'logreg',
  epochs: 10,
  lambda: 1e-6,
  eta: 2,
  seed: 122,
};

export interface LinearModel {
  classes: number;
  features: number;
  weights: Float32Array;
  bias: Float32Array;
}

export function linearScores(model: LinearModel, x: SparseVector): Float64Array {
  const k = model.classes;
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) out[c] = model.bias[c]!;
  for (let i = 0; i < x.index.length; i++) {
    const base = x.index[i]! * k;
    const v = x.value[i]!;
    for (let c = 0; c < k; c++) out[c]! += v * model.weights[base + c]!;
  }
  return out;
}

export function softmax(scores: ArrayLike<number>, temperature = 1): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]! / temperature);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp(scores[i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export function trainLinear(
  xs: SparseVector[],
  ys: Int32Array,
  classes: number,
  features: number,
  opts: LinearOptions = defaultLinearOptions,
): LinearModel {
  if (opts.algorithm === 'nb') return trainNaiveBayes(xs, ys, classes, features);
  return trainSgd(xs, ys, classes, features, opts);
}

/**
 * SGD with the weight-scale trick (w = scale * v) so that L2 decay costs O(1) per step on sparse inputs.
 */
function trainSgd(
  xs: SparseVector[],
  ys: Int32Array,
  classes: number,
  features: number,
  opts: LinearOptions,
): LinearModel {
  const k = classes;
  const v = new Float64Array(features * k);
  const bias = new Float64Array(k);
  let scale = 1;
  const order = xs.map((_, i) => i);
  const rng = createRng(opts.seed);
  const scores = new Float64Array(k);
  let t = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, rng);
    for (const n of order) {
      const x = xs[n]!;
      const y = ys[n]!;
      const eta = opts.eta / (1 + opts.eta * opts.lambda * t);
      t++;
      for (let c = 0; c < k; c++) scores[c] = bias[c]!;
      for (let i = 0; i < x.index.length; i++) {
        const base = x.index[i]! * k;
        const xv = x.value[i]! * scale;
        for (let c = 0; c < k; c++) scores[c]! += xv * v[base + c]!;
      }
      scale *= 1 - eta * opts.lambda;
      if (scale < 1e-6) {
        for (let i = 0; i < v.length; i++) v[i]! *= scale;
        scale = 1;
      }
      const step = eta / scale;
      if (opts.algorithm === 'logreg') {
        const p = softmax(scores);
        for (let i = 0; i < x.index.length; i++) {
          const base = x.index[i]! * k;
          const xv = x.value[i]! * step;
          for (let c = 0; c < k; c++) v[base + c]! -= xv * (p[c]! - (c === y ? 1 : 0));
        }
        for (let c = 0; c < k; c++) bias[c]! -= eta * 0.1 * (p[c]! - (c === y ? 1 : 0));
      } else {
        // Crammer-Singer: push the true class above the strongest rival by a margin of 1.
        let rival = -1;
        for (let c = 0; c < k; c++) if (c !== y && (rival < 0 || scores[c]! > scores[rival]!)) rival = c;
        if (rival >= 0 && 1 + scores[rival]! - scores[y]! > 0) {
          for (let i = 0; i < x.index.length; i++) {
            const base = x.index[i]! * k;
            const xv = x.value[i]! * step;
            v[base + y]! += xv;
            v[base + rival]! -= xv;
          }
          bias[y]! += eta * 0.1;
          bias[rival]! -= eta * 0.1;
        }
      }
    }
  }
  const weights = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) weights[i] = v[i]! * scale;
  return { classes: k, features, weights, bias: Float32Array.from(bias) };
}

/** Multinomial naive Bayes on TF-IDF weights with Laplace smoothing; scores are log-likelihoods. */
function trainNaiveBayes(xs: SparseVector[], ys: Int32Array, classes: number, features: number): LinearModel {
  const k = classes;
  const mass = new Float64Array(features * k);
  const totals = new Float64Array(k);
  const counts = new Float64Array(k);
  xs.forEach((x, n) => {
    const y = ys[n]!;
    counts[y]!++;
    for (let i = 0; i < x.index.length; i++) {
      mass[x.index[i]! * k + y]! += x.value[i]!;
      totals[y]! += x.value[i]!;
    }
  });
  const alpha = 0.1;
  const weights = new Float32Array(features * k);
  for (let f = 0; f < features; f++) {
    for (let c = 0; c < k; c++) {
      weights[f * k + c] = Math.log((mass[f * k + c]! + alpha) / (totals[c]! + alpha * features));
    }
  }
  const bias = Float32Array.from(counts, (n) => Math.log((n + 1) / (xs.length + k)));
  return { classes: k, features, weights, bias };
}
