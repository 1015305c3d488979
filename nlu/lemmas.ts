import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OtklikError } from '../core/errors.js';

/**
 * Dictionary lemmas from the `az` package (OpenCorpora dictionaries shipped inside it): «детей» →
 * «ребёнок», «беженцам» → «беженец». The dictionaries load asynchronously once per process (about half a
 * second); classification itself stays synchronous, so callers await loadLemmatizer() before training or
 * loading a model that uses lemmas.
 */

interface AzParse {
  normalize(): { word: string };
}
interface AzModule {
  Morph: ((word: string) => AzParse[]) & { init(path: string, done: (err?: unknown) => void): void };
}

const require = createRequire(import.meta.url);
let loaded: Promise<void> | null = null;
let morph: ((word: string) => AzParse[]) | null = null;
const cache = new Map<string, string>();

export function loadLemmatizer(): Promise<void> {
  loaded ??= new Promise<void>((resolve, reject) => {
    try {
      const az = require('az') as AzModule;
      const dicts = join(dirname(require.resolve('az/package.json')), 'dicts');
      az.Morph.init(dicts, (err?: unknown) => {
        if (err) reject(new OtklikError('MODEL_MISSING', `az dictionaries failed to load: ${String(err)}`));
        else {
          morph = az.Morph;
          resolve();
        }
      });
    } catch (err) {
      reject(
        new OtklikError('MODEL_MISSING', `az dictionaries failed to load: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  });
  return loaded;
}

export function lemmatizerReady(): boolean {
  return morph !== null;
}

/** The most likely lemma (ё → е), or the word itself when the dictionary does not know it. */
export function lemma(word: string): string {
  if (!morph) throw new OtklikError('INTERNAL', 'lemmatizer used before loadLemmatizer() finished');
  let out = cache.get(word);
  if (out === undefined) {
    const parses = morph(word);
    out = (parses[0]?.normalize().word ?? word).toLowerCase().replace(/ё/g, 'е');
    if (cache.size > 100_000) cache.clear();
    cache.set(word, out);
  }
  return out;
}
