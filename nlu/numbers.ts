import * as ru from '../core/russian.js';

/**
 * Russian number words → digits, for text as speech recognition returns it (lower case, ё already е).
 * «двадцать третьего» → 23, «две тысячи двадцать шестого» → 2026, and a spoken phone number
 * «восемь девятьсот двенадцать триста сорок пять…» → "8 912 345 …": a word that cannot extend the number
 * being built (a hundred after a unit, a ten after a ten) starts a new number, which is exactly how people
 * dictate digit groups.
 */

type NumberClass = 'zero' | 'unit' | 'teen' | 'ten' | 'hundred' | 'thousand' | 'million';

interface NumberWord {
  value: number;
  cls: NumberClass;
  /** Ordinal forms («третьего») end the number they belong to. */
  ordinal: boolean;
}

const words = new Map<string, NumberWord>();

/** Recognition sees «е» for «ё». */
const fold = (word: string): string => word.replace(/ё/g, 'е');

function add(cls: NumberClass, value: number, forms: readonly string[], ordinal = false): void {
  for (const form of forms) words.set(fold(form), { value, cls, ordinal });
}

function classOf(value: number): NumberClass {
  if (value === 0) return 'zero';
  if (value < 10) return 'unit';
  if (value < 20) return 'teen';
  if (value < 100) return 'ten';
  if (value < 1000) return 'hundred';
  return value < 1e6 ? 'thousand' : 'million';
}

function addCardinal(value: number, nom: string, gen: string): void {
  add(classOf(value), value, [nom, gen, ...(ru.CARDINAL_OTHER_FORMS.get(value) ?? [])]);
}

function addOrdinal(value: number, nominative: string): void {
  add(
    classOf(value),
    value,
    ru.ORDINAL_FORMS.map((form) => ru.declineOrdinal(nominative, form)),
    true,
  );
}

// The words come from core/russian.ts, the table the TTS speaks with; this is the other direction.
for (const [value, nom] of ru.UNITS_NOM.entries()) addCardinal(value, nom, ru.UNITS_GEN[value]!);
for (const gender of ['f', 'n'] as const) add('unit', 1, [ru.ONE[gender].nom, ru.ONE[gender].gen]);
add('unit', 2, [ru.TWO_FEMININE]);
for (const [value, forms] of ru.COLLECTIVE) add('unit', value, forms);
for (let d = 2; d <= 9; d++) addCardinal(d * 10, ru.TENS_NOM[d]!, ru.TENS_GEN[d]!);
for (let d = 1; d <= 9; d++) addCardinal(d * 100, ru.HUNDREDS_NOM[d]!, ru.HUNDREDS_GEN[d]!);
// Numbers here go up to millions: «миллиард» is not read.
for (const scale of ru.SCALES.filter((s) => s.value <= 1e6))
  add(classOf(scale.value), scale.value, [...scale.nom, ...scale.gen, ...scale.other]);

// Ordinals end the number they belong to: units, teens, tens, «сотый» and «тысячный».
for (let value = 1; value < 20; value++) addOrdinal(value, ru.ORD_UNITS[value]!);
for (let d = 2; d <= 9; d++) addOrdinal(d * 10, ru.ORD_TENS[d]!);
addOrdinal(100, ru.ORD_HUNDREDS[1]!);
addOrdinal(1000, ru.SCALES.find((s) => s.value === 1e3)!.ordinal);

/** One digit as people dictate a phone number: «ноль»/«нуль» … «девять», «одна», «две». */
const digitWords = new Map<string, number>([
  ...ru.UNITS_NOM.slice(0, 10).map((word, digit): [string, number] => [word, digit]),
  [ru.ZERO_VARIANT, 0],
  [ru.ONE.f.nom, 1],
  [ru.TWO_FEMININE, 2],
]);

/** The digit a dictated digit word stands for, or undefined for any other token. */
export function dictatedDigit(token: string): number | undefined {
  return digitWords.get(token);
}

const rank: Record<NumberClass, number> = {
  zero: 0,
  unit: 1,
  teen: 2,
  ten: 3,
  hundred: 4,
  thousand: 5,
  million: 6,
};

/** The number word's value and class, or undefined for any other token. */
export function numberWord(token: string): NumberWord | undefined {
  return words.get(token);
}

/** Whether `next` may continue a number whose last word had class `last` (below the current multiplier). */
function canFollow(last: NumberClass, next: NumberClass): boolean {
  if (next === 'zero') return false;
  if (next === 'thousand' || next === 'million') return last !== 'thousand' && last !== 'million';
  if (last === 'thousand' || last === 'million') return true;
  if (last === 'hundred') return next === 'ten' || next === 'teen' || next === 'unit';
  if (last === 'ten') return next === 'unit';
  return false;
}

/**
 * Replaces runs of number words in a token list with digit tokens. Tokens that are not number words pass
 * through unchanged.
 */
export function numberWordsToDigits(tokens: string[]): string[] {
  const out: string[] = [];
  let total = 0; // completed thousands/millions of the number being built
  let current = 0; // the part below the last multiplier
  let last: NumberClass | null = null;
  let maxMultiplier = Number.POSITIVE_INFINITY;

  const flush = (): void => {
    if (last !== null) out.push(String(total + current));
    total = 0;
    current = 0;
    last = null;
    maxMultiplier = Number.POSITIVE_INFINITY;
  };

  for (const token of tokens) {
    const word = words.get(token);
    if (!word) {
      flush();
      out.push(token);
      continue;
    }
    const isMultiplier = word.cls === 'thousand' || word.cls === 'million';
    const fits =
      last !== null &&
      canFollow(last, word.cls) &&
      (!isMultiplier || word.value < maxMultiplier) &&
      // «сорок» after «тысяча сто» is fine, but «сто» after «двадцать» is a new number.
      rank[word.cls] !== rank[last];
    if (!fits) flush();
    if (isMultiplier && !word.ordinal) {
      total += (current === 0 && last === null ? 1 : current) * word.value;
      current = 0;
      maxMultiplier = word.value;
    } else if (isMultiplier) {
      // «двухтысячный» is rare; «тысячного» after digits multiplies what came before.
      total += (current === 0 ? 1 : current) * word.value;
      current = 0;
    } else {
      current += word.value;
    }
    last = word.cls;
    if (word.ordinal || word.cls === 'zero') flush();
  }
  flush();
  return out;
}
