import { createRng, shuffleInPlace } from '../core/prng.js';

/**
 * Stratified k-fold assignment: every label is spread over the folds in proportion, in a seeded order, so
 * that cross-validation gives the same numbers on every run.
 */
export function stratifiedFolds(ys: Int32Array, folds: number, seed: number): Int32Array {
  const byLabel = new Map<number, number[]>();
  ys.forEach((y, i) => {
    const list = byLabel.get(y);
    if (list) list.push(i);
    else byLabel.set(y, [i]);
  });
  const rng = createRng(seed);
  const assignment = new Int32Array(ys.length);
  let offset = 0;
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byLabel.get(label)!, rng);
    members.forEach((i, j) => {
      assignment[i] = (offset + j) % folds;
    });
    // Rotate where the next label starts so small labels do not all land in fold 0.
    offset = (offset + members.length) % folds;
  }
  return assignment;
}
