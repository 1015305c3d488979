import { createRequire } from 'node:module';
import { lemma, loadLemmatizer } from './lemmas.js';

/**
 * Text → sparse TF-IDF vector over three blocks: word stems, stem bigrams and character 3-5-grams of each
 * word. Stems come from natural's PorterStemmerRu applied token by token: its `tokenizeAndStem` would drop
 * stop words, and «не», «мне», «на дом» matter for intents. The input is already normalized (normalize.ts),
 * so tokens are split on spaces only; natural's default tokenizers would drop Cyrillic.
 */

// The stemmer module alone: natural's index loads dotenv (which prints to stdout) and ~200 other modules.
const require = createRequire(import.meta.url);
const porterRu = require('natural/lib/natural/stemmers/porter_stemmer_ru.js') as {
  stem(token: string): string;
};

export interface FeatureOptions {
  /** Block weights (each block is L2-normalized on its own, then scaled). */
  wordWeight: number;
  bigramWeight: number;
  charWeight: number;
  /** Weight of the dictionary-lemma block (nlu/lemmas.ts); 0 leaves lemmas out. */
  lemmaWeight: number;
  charMin: number;
  charMax: number;
  /** Character n-grams over the whole utterance (spanning word boundaries) instead of word by word. */
  charAcrossWords: boolean;
  /** Features seen in fewer training texts are dropped (keeps large models small). */
  minDf: number;
}

export const defaultFeatureOptions: FeatureOptions = {
  wordWeight: 1,
  bigramWeight: 0.25,
  charWeight: 2,
  lemmaWeight: 0,
  charMin: 3,
  charMax: 5,
  charAcrossWords: false,
  minDf: 1,
};

/** Loads what the options need beyond the code itself (the lemma dictionaries); call before training or serving. */
export async function prepareFeatures(opts: Partial<FeatureOptions>): Promise<void> {
  if ((opts.lemmaWeight ?? 0) > 0) await loadLemmatizer();
}

const stemCache = new Map<string, string>();

/** The stem of one normalized token; digits collapse to one feature since their value rarely names an intent. */
export function stemToken(token: string): string {
  if (/^\d/.test(token)) return '#';
  let stem = stemCache.get(token);
  if (stem === undefined) {
    stem = /^[а-я]+$/.test(token) && token.length > 3 ? porterRu.stem(token) : token;
    if (stemCache.size > 100_000) stemCache.clear();
    stemCache.set(token, stem);
  }
  return stem;
}

/** Raw feature counts per block, keyed by a prefixed feature name. */
export function rawFeatures(normalized: string, opts: FeatureOptions): Map<string, number>[] {
  const tokens = normalized.split(' ').filter((t) => t.length > 0);
  const stems = tokens.map(stemToken);
  const wordsBlock = new Map<string, number>();
  const bigramBlock = new Map<string, number>();
  const charBlock = new Map<string, number>();
  const lemmaBlock = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  for (let i = 0; i < stems.length; i++) {
    inc(wordsBlock, `w:${stems[i]}`);
    if (i > 0) inc(bigramBlock, `b:${stems[i - 1]}_${stems[i]}`);
    if (opts.lemmaWeight > 0 && /^[а-я]/.test(tokens[i]!)) inc(lemmaBlock, `l:${lemma(tokens[i]!)}`);
  }
  const chunks = opts.charAcrossWords ? [tokens.filter((t) => !/^\d/.test(t)).join(' ')] : tokens;
  for (const chunk of chunks) {
    if (chunk.length === 0 || /^\d/.test(chunk)) continue;
    const padded = ` ${chunk} `;
    for (let n = opts.charMin; n <= opts.charMax; n++) {
      for (let j = 0; j + n <= padded.length; j++) inc(charBlock, `c:${padded.slice(j, j + n)}`);
    }
  }
  return [wordsBlock, bigramBlock, charBlock, lemmaBlock];
}

/** A sparse vector: parallel arrays of feature indices (ascending) and values. */
export interface SparseVector {
  index: Int32Array;
  value: Float32Array;
}

export interface Vectorizer {
  options: FeatureOptions;
  vocabulary: Map<string, number>;
  idf: Float32Array;
}

/** Learns the vocabulary and IDF from training texts (already normalized). Deterministic: sorted keys. */
export function fitVectorizer(texts: string[], opts: FeatureOptions = defaultFeatureOptions): Vectorizer {
  return fitVectorizerRaw(
    texts.map((t) => rawFeatures(t, opts)),
    opts,
  );
}

/** fitVectorizer over precomputed rawFeatures (training reuses them across cross-validation folds). */
export function fitVectorizerRaw(raws: Map<string, number>[][], opts: FeatureOptions): Vectorizer {
  const df = new Map<string, number>();
  for (const blocks of raws) {
    for (const block of blocks) {
      for (const key of block.keys()) df.set(key, (df.get(key) ?? 0) + 1);
    }
  }
  const keys = [...df.entries()]
    .filter(([k, count]) => count >= opts.minDf || !k.startsWith('c:'))
    .map(([k]) => k)
    .sort();
  const vocabulary = new Map<string, number>();
  const idf = new Float32Array(keys.length);
  const n = raws.length;
  keys.forEach((key, i) => {
    vocabulary.set(key, i);
    idf[i] = Math.log((1 + n) / (1 + (df.get(key) ?? 0))) + 1;
  });
  return { options: opts, vocabulary, idf };
}

const blockWeight = (opts: FeatureOptions, block: number): number =>
  [opts.wordWeight, opts.bigramWeight, opts.charWeight, opts.lemmaWeight][block] ?? 0;

/** The TF-IDF vector of a normalized text; features unknown to the vocabulary are ignored. */
export function vectorize(v: Vectorizer, normalized: string): SparseVector {
  return vectorizeRaw(v, rawFeatures(normalized, v.options));
}

export function vectorizeRaw(v: Vectorizer, blocks: Map<string, number>[]): SparseVector {
  const entries: Array<[number, number]> = [];
  blocks.forEach((block, b) => {
    const start = entries.length;
    let norm = 0;
    for (const [key, count] of block) {
      const idx = v.vocabulary.get(key);
      if (idx === undefined) continue;
      const x = (1 + Math.log(count)) * v.idf[idx]!;
      entries.push([idx, x]);
      norm += x * x;
    }
    const scale = norm > 0 ? blockWeight(v.options, b) / Math.sqrt(norm) : 0;
    for (let i = start; i < entries.length; i++) entries[i]![1] *= scale;
  });
  entries.sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, x] of entries) total += x * x;
  const scale = total > 0 ? 1 / Math.sqrt(total) : 0;
  return {
    index: Int32Array.from(entries, (e) => e[0]),
    value: Float32Array.from(entries, (e) => e[1] * scale),
  };
}
