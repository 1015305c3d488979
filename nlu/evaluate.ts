import { decideLabel, scoreText } from './classifier.js';
import { stratifiedFolds } from './folds.js';
import { type LabeledText, type TrainedModel, type TrainOptions, trainClassifier } from './train.js';

/**
 * Evaluation: train on one set, predict another (or k-fold over one set), and report per-label precision,
 * recall and F1, the most frequent confusions, accuracy and macro F1. Predictions are what classify()
 * decides without context (including rejection to out_of_scope when the label set has it).
 */

export interface Prediction {
  text: string;
  gold: string;
  predicted: string;
}

export interface LabelStats {
  label: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalReport {
  n: number;
  accuracy: number;
  macroF1: number;
  perLabel: LabelStats[];
  /** gold → predicted pairs with counts, most frequent first. */
  confusions: Array<{ gold: string; predicted: string; count: number }>;
}

export function predictAll(model: TrainedModel, examples: LabeledText[]): Prediction[] {
  const vectorizer = { options: model.featureOptions, vocabulary: model.vocabulary, idf: model.idf };
  return examples.map((e) => ({
    text: e.text,
    gold: e.label,
    predicted: decideLabel(model, scoreText(model, vectorizer, e.text)).label,
  }));
}

export function report(predictions: Prediction[]): EvalReport {
  const labels = [...new Set(predictions.flatMap((p) => [p.gold, p.predicted]))].sort();
  const tp = new Map<string, number>();
  const goldCount = new Map<string, number>();
  const predCount = new Map<string, number>();
  const pairs = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  let correct = 0;
  for (const p of predictions) {
    inc(goldCount, p.gold);
    inc(predCount, p.predicted);
    if (p.gold === p.predicted) {
      correct++;
      inc(tp, p.gold);
    } else inc(pairs, `${p.gold}\t${p.predicted}`);
  }
  const perLabel = labels.map((label) => {
    const t = tp.get(label) ?? 0;
    const precision = t / Math.max(1, predCount.get(label) ?? 0);
    const recall = t / Math.max(1, goldCount.get(label) ?? 0);
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, support: goldCount.get(label) ?? 0, precision, recall, f1 };
  });
  const confusions = [...pairs.entries()]
    .map(([k, count]) => {
      const [gold, predicted] = k.split('\t') as [string, string];
      return { gold, predicted, count };
    })
    .sort(
      (a, b) => b.count - a.count || a.gold.localeCompare(b.gold) || a.predicted.localeCompare(b.predicted),
    );
  return {
    n: predictions.length,
    accuracy: predictions.length ? correct / predictions.length : 0,
    macroF1: perLabel.length ? perLabel.reduce((s, l) => s + l.f1, 0) / perLabel.length : 0,
    perLabel,
    confusions,
  };
}

/** Trains on `train` only and evaluates on `test`. */
export function trainAndEvaluate(
  train: LabeledText[],
  test: LabeledText[],
  opts: TrainOptions = {},
): EvalReport {
  const rejectLabel = opts.rejectLabel !== undefined ? opts.rejectLabel : rejectLabelFor(train);
  const model = trainClassifier(train, { ...opts, rejectLabel });
  return report(predictAll(model, test));
}

/**
 * Stratified k-fold cross-validation. `extraTrain` (for example generic off-topic phrases) joins every
 * training fold but is never tested on, so it cannot flatter the score.
 */
export function crossValidate(
  examples: LabeledText[],
  folds: number,
  opts: TrainOptions & {
    extraTrain?: LabeledText[];
    seed?: number;
    /** Told before each fold is trained (fold counts from 1). */
    onFold?: (fold: number, folds: number) => void;
  } = {},
): EvalReport {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  const assignment = stratifiedFolds(
    Int32Array.from(examples, (e) => index.get(e.label)!),
    folds,
    opts.seed ?? 122,
  );
  const rejectLabel = opts.rejectLabel !== undefined ? opts.rejectLabel : rejectLabelFor(examples);
  const predictions: Prediction[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => assignment[i] !== f).concat(opts.extraTrain ?? []);
    const test = examples.filter((_, i) => assignment[i] === f);
    if (test.length === 0) continue;
    opts.onFold?.(f + 1, folds);
    const model = trainClassifier(train, { ...opts, rejectLabel });
    predictions.push(...predictAll(model, test));
  }
  return report(predictions);
}

/** Rejection is part of the decision only when the label set has an out_of_scope label to reject to. */
export function rejectLabelFor(examples: LabeledText[]): string | null {
  return examples.some((e) => e.label === 'out_of_scope') ? 'out_of_scope' : null;
}

const pct = (x: number): string => x.toFixed(4);

/** The per-label table, the top confusions, and the contract's last line. */
export function formatReport(r: EvalReport, maxConfusions = 15): string {
  const width = Math.max(12, ...r.perLabel.map((l) => l.label.length));
  const lines = [`${'label'.padEnd(width)}  support  precision  recall  f1`];
  for (const l of r.perLabel) {
    lines.push(
      `${l.label.padEnd(width)}  ${String(l.support).padStart(7)}  ${pct(l.precision).padStart(9)}  ${pct(l.recall).padStart(6)}  ${pct(l.f1)}`,
    );
  }
  if (r.confusions.length > 0) {
    lines.push('', 'top confusions (gold -> predicted: count)');
    for (const c of r.confusions.slice(0, maxConfusions))
      lines.push(`  ${c.gold} -> ${c.predicted}: ${c.count}`);
  }
  lines.push(`accuracy=${pct(r.accuracy)} macro_f1=${pct(r.macroF1)} n=${r.n}`);
  return lines.join('\n');
}
