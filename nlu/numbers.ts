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

function add(cls: NumberClass, value: number, forms: string[], ordinal = false): void {
  for (const form of forms) words.set(form, { value, cls, ordinal });
}

// Cardinal forms in the cases people use when dictating numbers, dates and amounts. «семью» (also
// "family") and «раз» are left out on purpose.
add('zero', 0, ['ноль', 'нуль', 'ноля', 'нуля']);
add('unit', 1, ['один', 'одна', 'одно', 'одного', 'одной', 'одному', 'одним', 'одном', 'одну']);
add('unit', 2, ['два', 'две', 'двух', 'двум', 'двумя']);
add('unit', 3, ['три', 'трех', 'трем', 'тремя']);
add('unit', 4, ['четыре', 'четырех', 'четырем', 'четырьмя']);
add('unit', 5, ['пять', 'пяти', 'пятью']);
add('unit', 6, ['шесть', 'шести', 'шестью']);
add('unit', 7, ['семь', 'семи']);
add('unit', 8, ['восемь', 'восьми', 'восемью', 'восьмью']);
add('unit', 9, ['девять', 'девяти', 'девятью']);
// Collective numerals («трое детей», «у нас пятеро»).
add('unit', 2, ['двое', 'двоих', 'двоим']);
add('unit', 3, ['трое', 'троих', 'троим']);
add('unit', 4, ['четверо', 'четверых']);
add('unit', 5, ['пятеро', 'пятерых']);
add('unit', 6, ['шестеро', 'шестерых']);
add('unit', 7, ['семеро', 'семерых']);
const teens = [
  'десят',
  'одиннадцат',
  'двенадцат',
  'тринадцат',
  'четырнадцат',
  'пятнадцат',
  'шестнадцат',
  'семнадцат',
  'восемнадцат',
  'девятнадцат',
];
for (const [i, stem] of teens.entries()) add('teen', 10 + i, [`${stem}ь`, `${stem}и`, `${stem}ью`]);
add('ten', 20, ['двадцать', 'двадцати', 'двадцатью']);
add('ten', 30, ['тридцать', 'тридцати', 'тридцатью']);
add('ten', 40, ['сорок', 'сорока']);
add('ten', 50, ['пятьдесят', 'пятидесяти']);
add('ten', 60, ['шестьдесят', 'шестидесяти']);
add('ten', 70, ['семьдесят', 'семидесяти']);
add('ten', 80, ['восемьдесят', 'восьмидесяти']);
add('ten', 90, ['девяносто', 'девяноста']);
add('hundred', 100, ['сто', 'ста', 'сотни']);
add('hundred', 200, ['двести', 'двухсот', 'двумстам']);
add('hundred', 300, ['триста', 'трехсот', 'тремстам']);
add('hundred', 400, ['четыреста', 'четырехсот', 'четыремстам']);
add('hundred', 500, ['пятьсот', 'пятисот', 'пятистам']);
add('hundred', 600, ['шестьсот', 'шестисот', 'шестистам']);
add('hundred', 700, ['семьсот', 'семисот', 'семистам']);
add('hundred', 800, ['восемьсот', 'восьмисот', 'восьмистам']);
add('hundred', 900, ['девятьсот', 'девятисот', 'девятистам']);
add('thousand', 1000, [
  'тысяча',
  'тысячи',
  'тысяч',
  'тысячу',
  'тысячей',
  'тысячам',
  'тысячами',
  'тыща',
  'тыщи',
  'тыщ',
]);
add('million', 1_000_000, ['миллион', 'миллиона', 'миллионов', 'миллионом']);

// Ordinals: adjective endings on a stem. «-ый» stems take the first set, stressed «-ой» stems the second.
const endingsY = ['ый', 'ого', 'ому', 'ым', 'ом', 'ая', 'ой', 'ую', 'ое', 'ые', 'ых', 'ыми'];
const endingsO = ['ой', 'ого', 'ому', 'ым', 'ом', 'ая', 'ую', 'ое', 'ые', 'ых', 'ыми'];
function addOrdinal(cls: NumberClass, value: number, stem: string, endings: string[]): void {
  add(
    cls,
    value,
    endings.map((e) => stem + e),
    true,
  );
}
addOrdinal('unit', 1, 'перв', endingsY);
addOrdinal('unit', 2, 'втор', endingsO);
add(
  'unit',
  3,
  [
    'третий',
    'третьего',
    'третьему',
    'третьим',
    'третьем',
    'третья',
    'третьей',
    'третью',
    'третье',
    'третьи',
    'третьих',
    'третьими',
  ],
  true,
);
addOrdinal('unit', 4, 'четверт', endingsY);
addOrdinal('unit', 5, 'пят', endingsY);
addOrdinal('unit', 6, 'шест', endingsO);
addOrdinal('unit', 7, 'седьм', endingsO);
addOrdinal('unit', 8, 'восьм', endingsO);
addOrdinal('unit', 9, 'девят', endingsY);
for (const [i, stem] of teens.entries()) addOrdinal('teen', 10 + i, stem, endingsY);
addOrdinal('ten', 20, 'двадцат', endingsY);
addOrdinal('ten', 30, 'тридцат', endingsY);
addOrdinal('ten', 40, 'сороков', endingsO);
addOrdinal('ten', 50, 'пятидесят', endingsY);
addOrdinal('ten', 60, 'шестидесят', endingsY);
addOrdinal('ten', 70, 'семидесят', endingsY);
addOrdinal('ten', 80, 'восьмидесят', endingsY);
addOrdinal('ten', 90, 'девяност', endingsY);
addOrdinal('hundred', 100, 'сот', endingsY);
addOrdinal('thousand', 1000, 'тысячн', endingsY);

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
