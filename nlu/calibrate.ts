import { softmax } from './linear.js';

/**
 * Confidence calibration and the decision thresholds, all fitted on out-of-fold predictions of the
 * training set (the model never scores text it was trained on here).
 *  - temperature: softmax(scores / T) with T minimizing the negative log-likelihood;
 *  - reject: below this top probability the utterance goes to the reject label (out_of_scope → a person);
 *  - confirm and margin: above reject but below `confirm`, or with the runner-up within `margin`, the
 *    caller is asked to confirm.
 * The thresholds maximize an expected utility in which a wrong answer served without confirmation costs
 * far more than a handover to an operator: a citizen told the wrong procedure is the failure to avoid.
 */

export interface Thresholds {
  reject: number;
  confirm: number;
  margin: number;
}

export const defaultThresholds: Thresholds = { reject: 0.3, confirm: 0.5, margin: 0.1 };

export type Decision = 'accept' | 'confirm' | 'reject';

/** The decision for a probability vector; shared by classify() and eval so both measure the same thing. */
export function decide(top: number, second: number, t: Thresholds): Decision {
  if (top < t.reject) return 'reject';
  if (top < t.confirm || top - second < t.margin) return 'confirm';
  return 'accept';
}

const utility = {
  acceptRight: 1,
  acceptWrong: -4,
  confirmRight: 0.7,
  confirmWrong: -0.4,
  rejectInScope: 0,
  rejectOutOfScope: 1,
};

export function fitTemperature(scores: Float64Array[], ys: Int32Array): number {
  let best = 1;
  let bestLoss = Number.POSITIVE_INFINITY;
  for (let e = -3; e <= 3.001; e += 0.1) {
    const t = 2 ** e;
    let loss = 0;
    scores.forEach((s, n) => {
      loss -= Math.log(Math.max(softmax(s, t)[ys[n]!]!, 1e-12));
    });
    if (loss < bestLoss - 1e-9) {
      bestLoss = loss;
      best = t;
    }
  }
  return best;
}

export interface OutOfFold {
  /** Calibrated probabilities per example. */
  probs: Float64Array[];
  ys: Int32Array;
}

/**
 * Picks thresholds by grid search over the out-of-fold probabilities. `rejectIndex` is the class that
 * rejection maps to (out_of_scope), or -1 when the label set has none (then rejecting is never right).
 */
export function chooseThresholds(oof: OutOfFold, rejectIndex: number): Thresholds {
  const rows = oof.probs.map((p, n) => {
    let a = -1;
    let b = -1;
    for (let c = 0; c < p.length; c++) {
      if (a < 0 || p[c]! > p[a]!) {
        b = a;
        a = c;
      } else if (b < 0 || p[c]! > p[b]!) b = c;
    }
    const y = oof.ys[n]!;
    return { top: p[a]!, second: b >= 0 ? p[b]! : 0, right: a === y, outOfScope: y === rejectIndex };
  });
  let best = defaultThresholds;
  let bestUtility = Number.NEGATIVE_INFINITY;
  for (let r = 0; r <= 80; r += 2) {
    for (let c = r; c <= 90; c += 5) {
      for (let m = 0; m <= 40; m += 2.5) {
        const t = { reject: r / 100, confirm: c / 100, margin: m / 100 };
        let u = 0;
        for (const row of rows) {
          const d = decide(row.top, row.second, t);
          if (d === 'reject') u += row.outOfScope ? utility.rejectOutOfScope : utility.rejectInScope;
          else if (d === 'confirm') u += row.right ? utility.confirmRight : utility.confirmWrong;
          else u += row.right ? utility.acceptRight : utility.acceptWrong;
        }
        // Ties go to the lower thresholds met first: fewer needless questions to the caller.
        if (u > bestUtility + 1e-9) {
          bestUtility = u;
          best = t;
        }
      }
    }
  }
  return best;
}
