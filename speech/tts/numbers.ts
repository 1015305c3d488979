import { OtklikError } from '../../core/errors.js';
import {
  type Case,
  declineOrdinal,
  type Gender,
  HUNDREDS_GEN,
  HUNDREDS_NOM,
  ONE,
  ORD_HUNDREDS,
  ORD_TENS,
  ORD_UNITS,
  type OrdinalForm,
  SCALES,
  TENS_GEN,
  TENS_NOM,
  TWO_FEMININE,
  UNITS_GEN,
  UNITS_NOM,
} from '../../core/russian.js';

/**
 * Russian number words for speech: cardinals in the nominative and genitive case (with grammatical gender),
 * ordinals (for dates and years), and agreement of the counted noun (1 час, 2 часа, 5 часов). The words
 * themselves are core/russian.ts's table, which the NLU reads back with.
 */

export type { Case, Gender, OrdinalForm };

/** Which plural form a count takes: 0 = one (1, 21), 1 = few (2-4, 22-24), 2 = many (5-20, 25...). */
export function pluralIndex(n: number): 0 | 1 | 2 {
  const abs = Math.abs(n) % 100;
  if (abs >= 11 && abs <= 14) return 2;
  const last = abs % 10;
  if (last === 1) return 0;
  if (last >= 2 && last <= 4) return 1;
  return 2;
}

/** The noun form for a count in the nominative: plural(5, ['час', 'часа', 'часов']) → 'часов'. */
export function plural(n: number, forms: readonly [string, string, string]): string {
  return forms[pluralIndex(n)]!;
}

function unitWord(n: number, gender: Gender, grammaticalCase: Case): string {
  if (n === 1) return ONE[gender][grammaticalCase];
  if (n === 2 && gender === 'f' && grammaticalCase === 'nom') return TWO_FEMININE;
  return (grammaticalCase === 'gen' ? UNITS_GEN : UNITS_NOM)[n]!;
}

function triad(n: number, gender: Gender, grammaticalCase: Case): string[] {
  const words: string[] = [];
  const h = Math.floor(n / 100);
  const rest = n % 100;
  if (h) words.push((grammaticalCase === 'gen' ? HUNDREDS_GEN : HUNDREDS_NOM)[h]!);
  if (rest >= 20) {
    words.push((grammaticalCase === 'gen' ? TENS_GEN : TENS_NOM)[Math.floor(rest / 10)]!);
    if (rest % 10) words.push(unitWord(rest % 10, gender, grammaticalCase));
  } else if (rest > 0) {
    words.push(unitWord(rest, gender, grammaticalCase));
  }
  return words;
}

/** 2026 → «две тысячи двадцать шесть»; cardinal(2, 'f') → «две»; cardinal(9, 'm', 'gen') → «девяти». */
export function cardinal(n: number, gender: Gender = 'm', grammaticalCase: Case = 'nom'): string {
  if (!Number.isInteger(n)) throw new OtklikError('VALIDATION_FAILED', `cardinal: ${n} is not an integer`);
  if (n < 0) return `минус ${cardinal(-n, gender, grammaticalCase)}`;
  if (n === 0) return grammaticalCase === 'gen' ? 'ноля' : 'ноль';
  if (n >= 1e12)
    return String(n)
      .split('')
      .map((d) => UNITS_NOM[Number(d)])
      .join(' ');
  const words: string[] = [];
  let rest = n;
  for (const scale of SCALES) {
    const count = Math.floor(rest / scale.value);
    rest %= scale.value;
    if (!count) continue;
    // «тысяча» alone, without «одна», is how the number is said.
    const countWords =
      count === 1 && scale.value === 1e3 && grammaticalCase === 'nom'
        ? []
        : triad(count, scale.gender, grammaticalCase);
    const form =
      grammaticalCase === 'gen' ? scale.gen[pluralIndex(count) === 0 ? 0 : 1]! : plural(count, scale.nom);
    words.push(...countWords, form);
  }
  if (rest) words.push(...triad(rest, gender, grammaticalCase));
  return words.join(' ');
}

/** Compound genitive prefix used in «двухтысячный», «пятидесятитысячный». */
function genitivePrefix(n: number): string {
  if (n === 1) return '';
  if (n === 100) return 'сто';
  return cardinal(n, 'm', 'gen')
    .replace(/одного/g, 'одно')
    .replace(/\s+/g, '');
}

/** 2026 → «две тысячи двадцать шестой»; ordinal(1, 'nom_n') → «первое»; ordinal(2000, 'gen_m') → «двухтысячного». */
export function ordinal(n: number, form: OrdinalForm = 'nom_m'): string {
  if (!Number.isInteger(n) || n <= 0)
    throw new OtklikError('VALIDATION_FAILED', `ordinal: ${n} is not a positive integer`);
  const lastGroup = n % 1000;
  let prefixValue: number;
  let word: string;
  if (lastGroup === 0) {
    // The lowest non-zero group names the ordinal: «двухтысячный», «трёхмиллионный».
    const scale = n % 1e6 !== 0 ? 1e3 : n % 1e9 !== 0 ? 1e6 : 1e9;
    const count = Math.floor(n / scale) % 1000;
    prefixValue = n - count * scale;
    word = `${genitivePrefix(count)}${SCALES.find((s) => s.value === scale)!.ordinal}`;
  } else {
    const tail = lastGroup % 100;
    if (tail === 0) {
      prefixValue = n - lastGroup;
      word = ORD_HUNDREDS[lastGroup / 100]!;
    } else if (tail < 20) {
      prefixValue = n - tail;
      word = ORD_UNITS[tail]!;
    } else if (tail % 10 === 0) {
      prefixValue = n - tail;
      word = ORD_TENS[tail / 10]!;
    } else {
      prefixValue = n - (tail % 10);
      word = ORD_UNITS[tail % 10]!;
    }
  }
  const prefix = prefixValue > 0 ? `${cardinal(prefixValue)} ` : '';
  return `${prefix}${declineOrdinal(word, form)}`;
}

/** Reads digits one by one: «0 5» style for codes and the leading zeros of phone groups. */
export function digits(text: string): string {
  return text
    .split('')
    .filter((c) => c >= '0' && c <= '9')
    .map((d) => UNITS_NOM[Number(d)])
    .join(' ');
}

/** A wait said in whole minutes, at least one: 90 000 ms → «две минуты», 61 min → «шестьдесят одна минута». */
export function spokenMinutes(ms: number): string {
  const n = Math.max(1, Math.round(ms / 60_000));
  return `${cardinal(n, 'f')} ${plural(n, ['минута', 'минуты', 'минут'])}`;
}
