import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numberWordsToDigits } from '../../nlu/numbers.js';
import { cardinal, ordinal } from './numbers.js';

// The TTS and the NLU share core/russian.ts's number words: what the bot says, the NLU reads back.
const heard = (spoken: string): string[] => spoken.replace(/ё/g, 'е').split(' ');

describe('number words, both directions over one table', () => {
  it('reads back every cardinal the bot says, in both cases and every gender, up to a million', () => {
    const values = [...Array.from({ length: 3000 }, (_, i) => i), 12_345, 100_000, 999_999, 1_000_000];
    for (const n of values)
      for (const gender of ['m', 'f', 'n'] as const)
        for (const grammaticalCase of ['nom', 'gen'] as const)
          assert.deepEqual(numberWordsToDigits(heard(cardinal(n, gender, grammaticalCase))), [String(n)]);
  });

  it('reads back the ordinals of dates and years', () => {
    for (const n of [1, 3, 4, 12, 23, 31, 40, 100, 1000, 2026])
      for (const form of ['nom_m', 'nom_n', 'gen_m', 'gen_f', 'prep_m'] as const)
        assert.deepEqual(numberWordsToDigits(heard(ordinal(n, form))), [String(n)], ordinal(n, form));
  });
});
