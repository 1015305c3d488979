/**
 * NLU benchmark: accuracy of the candidate classifiers (cross-validated on the seed KB and on the
 * held-out set), classification latency and throughput on one core, and training time for 1k and 10k
 * phrases. Run: node --import tsx bench/nlu.ts   (bounded to about a minute on an idle core)
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { createRng } from '../core/prng.js';
import { percentile } from '../core/stats.js';
import { sampleIntentIds } from '../kb/sample-intents.js';
import { NluClassifier, OUT_OF_SCOPE } from '../nlu/classifier.js';
import { crossValidate, trainAndEvaluate } from '../nlu/evaluate.js';
import { prepareFeatures } from '../nlu/features.js';
import { type LabeledText, type TrainOptions, trainClassifier } from '../nlu/train.js';
import { parseLabeledTsv } from '../nlu/tsv.js';

const root = new URL('../', import.meta.url).pathname;
const seed = parse(readFileSync(`${root}kb/seed/intents.yaml`, 'utf8')) as {
  intents: Array<{ id: string; phrases: string[] }>;
};
const examples: LabeledText[] = seed.intents.flatMap((i) => i.phrases.map((text) => ({ text, label: i.id })));
const heldout = parseLabeledTsv(readFileSync(`${root}nlu/data/heldout.tsv`, 'utf8'), 'nlu/data/heldout.tsv');

const f4 = (x: number): string => x.toFixed(4);
const ms = (x: number): string => `${x.toFixed(x < 10 ? 3 : 0)} ms`;
/** CPU time of this process in ms: on a shared machine wall-clock time mostly measures the neighbours. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
function timed<T>(fn: () => T): [T, number, number] {
  const t0 = performance.now();
  const c0 = cpuMs();
  const out = fn();
  return [out, performance.now() - t0, cpuMs() - c0];
}

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores`,
);
console.log(
  `seed KB: ${examples.length} phrases, ${new Set(examples.map((e) => e.label)).size} intents; held-out: ${heldout.length}`,
);

// 1. Candidates: argmax accuracy without rejection (the features and model alone).
console.log(
  '\n## classifiers (argmax, no rejection): 5-fold CV on the seed | trained on the seed, tested on held-out',
);
console.log('candidate         cv_accuracy  cv_macro_f1  heldout_accuracy  heldout_macro_f1');
await prepareFeatures({ lemmaWeight: 1 });
const candidates: Array<[string, TrainOptions]> = [
  ['logreg', { linear: { algorithm: 'logreg' } }],
  ['svm', { linear: { algorithm: 'svm' } }],
  ['nb', { linear: { algorithm: 'nb' } }],
  ['logreg + lemmas', { linear: { algorithm: 'logreg' }, features: { lemmaWeight: 1 } }],
  ['logreg, no chars', { linear: { algorithm: 'logreg' }, features: { charWeight: 0 } }],
];
for (const [name, candidate] of candidates) {
  const opts: TrainOptions = { ...candidate, calibrationFolds: 0, rejectLabel: null };
  const cv = crossValidate(examples, 5, opts);
  const ho = trainAndEvaluate(examples, heldout, opts);
  console.log(
    `${name.padEnd(16)}  ${f4(cv.accuracy).padStart(11)}  ${f4(cv.macroF1).padStart(11)}  ${f4(ho.accuracy).padStart(16)}  ${f4(ho.macroF1).padStart(16)}`,
  );
}

// 2. The shipped pipeline: calibrated thresholds, rejection to out_of_scope, emergency cues.
console.log('\n## shipped pipeline (logreg + calibration + reject/confirm thresholds + emergency cues)');
const cvFull = crossValidate(examples, 5, { rejectLabel: OUT_OF_SCOPE });
const [model, trainMs, trainCpu] = timed(() => trainClassifier(examples, { rejectLabel: OUT_OF_SCOPE }));
const hoFull = trainAndEvaluate(examples, heldout, { rejectLabel: OUT_OF_SCOPE });
console.log(`5-fold CV:  accuracy=${f4(cvFull.accuracy)} macro_f1=${f4(cvFull.macroF1)} n=${cvFull.n}`);
console.log(`held-out:   accuracy=${f4(hoFull.accuracy)} macro_f1=${f4(hoFull.macroF1)} n=${hoFull.n}`);
console.log(`thresholds: ${JSON.stringify(model.thresholds)} temperature=${model.temperature.toFixed(3)}`);
console.log(
  'top CV confusions:',
  cvFull.confusions
    .slice(0, 8)
    .map((c) => `${c.gold}->${c.predicted}:${c.count}`)
    .join(', '),
);
console.log(
  'top held-out confusions:',
  hoFull.confusions
    .slice(0, 8)
    .map((c) => `${c.gold}->${c.predicted}:${c.count}`)
    .join(', '),
);

// 3. Latency and throughput of classify() (normalization, scoring, entities, emergency) on one core.
const classifier = new NluClassifier(model, { allowedIntents: sampleIntentIds });
const utterances = heldout.map((h) => h.text);
for (const u of utterances) classifier.classify(u); // warm-up
const durations: number[] = [];
const cpuDurations: number[] = [];
const started = performance.now();
const cpuStarted = cpuMs();
while (performance.now() - started < 3000) {
  for (const u of utterances) {
    const t0 = performance.now();
    const c0 = cpuMs();
    classifier.classify(u);
    cpuDurations.push(cpuMs() - c0);
    durations.push(performance.now() - t0);
  }
}
const elapsed = performance.now() - started;
const cpuElapsed = cpuMs() - cpuStarted;
cpuDurations.sort((a, b) => a - b);
durations.sort((a, b) => a - b);
console.log('\n## classify() latency on one core (held-out utterances, 3 s loop)');
console.log('clock  calls   p50        p95        p99        max        throughput');
const row = (name: string, d: number[], total: number): string =>
  `${name.padEnd(5)}  ${String(d.length).padEnd(6)}  ${ms(percentile(d, 50)).padEnd(9)}  ${ms(percentile(d, 95)).padEnd(9)}  ${ms(percentile(d, 99)).padEnd(9)}  ${ms(d.at(-1)!).padEnd(9)}  ${Math.round((d.length / total) * 1000)} calls/s`;
console.log(row('wall', durations, elapsed));
console.log(row('cpu', cpuDurations, cpuElapsed));

// 4. Training time. 1k and 10k phrase sets: the seed, then seed phrases recombined with each other's
// openings and endings (same labels), a stand-in for a larger regional KB.
function augmented(n: number): LabeledText[] {
  const rng = createRng(7);
  const out = examples.slice(0, n);
  while (out.length < n) {
    const a = examples[Math.floor(rng() * examples.length)]!;
    const b = examples[Math.floor(rng() * examples.length)]!;
    const words = b.text.split(' ');
    const extra = rng() < 0.5 ? words.slice(0, 2) : words.slice(-2);
    out.push({
      text: rng() < 0.5 ? `${extra.join(' ')} ${a.text}` : `${a.text} ${extra.join(' ')}`,
      label: a.label,
    });
  }
  return out;
}
console.log('\n## training time (one core)');
console.log('phrases  fit only (wall / cpu)   fit + 3-fold calibration (wall / cpu)');
for (const n of [1000, 10000]) {
  const set = augmented(n);
  const [, plain, plainCpu] = timed(() =>
    trainClassifier(set, { rejectLabel: OUT_OF_SCOPE, calibrationFolds: 0 }),
  );
  const [, wall, cpu] = timed(() => trainClassifier(set, { rejectLabel: OUT_OF_SCOPE }));
  const calibrated = `${ms(wall)} / ${ms(cpu)}`;
  console.log(`${String(n).padEnd(7)}  ${`${ms(plain)} / ${ms(plainCpu)}`.padEnd(22)}  ${calibrated}`);
}
console.log(
  `(the shipped seed model above trained in ${ms(trainMs)} wall, ${ms(trainCpu)} cpu, including calibration)`,
);
