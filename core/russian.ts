/** Russian month names in the genitive case, as dates are spoken and written («25 ноября»), January first. */
export const MONTHS_GENITIVE: readonly string[] = [
  'января',
  'февраля',
  'марта',
  'апреля',
  'мая',
  'июня',
  'июля',
  'августа',
  'сентября',
  'октября',
  'ноября',
  'декабря',
];

/*
 * Russian number words: the one table that both directions use — the TTS says digits as words
 * (speech/tts/numbers.ts) and the NLU reads spoken words back as digits (nlu/numbers.ts). Spelled
 * with «ё» as written; the NLU folds it to «е» as speech recognition returns it.
 */

export type Gender = 'm' | 'f' | 'n';
export type Case = 'nom' | 'gen';

/** 0–19 in the nominative (masculine where it agrees). */
export const UNITS_NOM: readonly string[] = [
  'ноль',
  'один',
  'два',
  'три',
  'четыре',
  'пять',
  'шесть',
  'семь',
  'восемь',
  'девять',
  'десять',
  'одиннадцать',
  'двенадцать',
  'тринадцать',
  'четырнадцать',
  'пятнадцать',
  'шестнадцать',
  'семнадцать',
  'восемнадцать',
  'девятнадцать',
];
/** 0–19 in the genitive (masculine where it agrees). */
export const UNITS_GEN: readonly string[] = [
  'ноля',
  'одного',
  'двух',
  'трёх',
  'четырёх',
  'пяти',
  'шести',
  'семи',
  'восьми',
  'девяти',
  'десяти',
  'одиннадцати',
  'двенадцати',
  'тринадцати',
  'четырнадцати',
  'пятнадцати',
  'шестнадцати',
  'семнадцати',
  'восемнадцати',
  'девятнадцати',
];
/** Tens by digit (index 2 = 20), nominative and genitive. */
export const TENS_NOM: readonly string[] = [
  '',
  '',
  'двадцать',
  'тридцать',
  'сорок',
  'пятьдесят',
  'шестьдесят',
  'семьдесят',
  'восемьдесят',
  'девяносто',
];
export const TENS_GEN: readonly string[] = [
  '',
  '',
  'двадцати',
  'тридцати',
  'сорока',
  'пятидесяти',
  'шестидесяти',
  'семидесяти',
  'восьмидесяти',
  'девяноста',
];
/** Hundreds by digit (index 1 = 100), nominative and genitive. */
export const HUNDREDS_NOM: readonly string[] = [
  '',
  'сто',
  'двести',
  'триста',
  'четыреста',
  'пятьсот',
  'шестьсот',
  'семьсот',
  'восемьсот',
  'девятьсот',
];
export const HUNDREDS_GEN: readonly string[] = [
  '',
  'ста',
  'двухсот',
  'трёхсот',
  'четырёхсот',
  'пятисот',
  'шестисот',
  'семисот',
  'восьмисот',
  'девятисот',
];

/** «один» and «два» agree with the counted noun's gender; the other numbers do not. */
export const ONE: Readonly<Record<Gender, Readonly<Record<Case, string>>>> = {
  m: { nom: 'один', gen: 'одного' },
  f: { nom: 'одна', gen: 'одной' },
  n: { nom: 'одно', gen: 'одного' },
};
export const TWO_FEMININE = 'две';
/** «нуль», said as often as «ноль» when digits are dictated. */
export const ZERO_VARIANT = 'нуль';

/**
 * The other forms people use when dictating numbers, dates and amounts (dative, instrumental, prepositional,
 * accusative, variants): recognised, never spoken. «семью» (also "family") is left out on purpose.
 */
export const CARDINAL_OTHER_FORMS: ReadonlyMap<number, readonly string[]> = new Map([
  [0, [ZERO_VARIANT, 'нуля']],
  [1, ['одному', 'одним', 'одном', 'одну']],
  [2, ['двум', 'двумя']],
  [3, ['трём', 'тремя']],
  [4, ['четырём', 'четырьмя']],
  [5, ['пятью']],
  [6, ['шестью']],
  [8, ['восемью', 'восьмью']],
  [9, ['девятью']],
  ...UNITS_NOM.slice(10).map((nom, i): [number, string[]] => [10 + i, [`${nom}ю`]]),
  [20, ['двадцатью']],
  [30, ['тридцатью']],
  [100, ['сотни']],
  [200, ['двумстам']],
  [300, ['трёмстам']],
  [400, ['четырёмстам']],
  [500, ['пятистам']],
  [600, ['шестистам']],
  [700, ['семистам']],
  [800, ['восьмистам']],
  [900, ['девятистам']],
]);

/** Collective numerals («трое детей», «у нас пятеро»): recognised, never spoken. */
export const COLLECTIVE: ReadonlyMap<number, readonly string[]> = new Map([
  [2, ['двое', 'двоих', 'двоим']],
  [3, ['трое', 'троих', 'троим']],
  [4, ['четверо', 'четверых']],
  [5, ['пятеро', 'пятерых']],
  [6, ['шестеро', 'шестерых']],
  [7, ['семеро', 'семерых']],
]);

export interface Scale {
  value: number;
  gender: Gender;
  /** Nominative after a count: [one (1, 21), few (2-4), many (5+)]. */
  nom: readonly [string, string, string];
  /** Genitive after a count: [one, more]. */
  gen: readonly [string, string];
  /** The masculine nominative ordinal: «тысячный». */
  ordinal: string;
  /** Other forms, recognised only. */
  other: readonly string[];
}
/** Thousand, million, billion: largest first. */
export const SCALES: readonly Scale[] = [
  {
    value: 1e9,
    gender: 'm',
    nom: ['миллиард', 'миллиарда', 'миллиардов'],
    gen: ['миллиарда', 'миллиардов'],
    ordinal: 'миллиардный',
    other: [],
  },
  {
    value: 1e6,
    gender: 'm',
    nom: ['миллион', 'миллиона', 'миллионов'],
    gen: ['миллиона', 'миллионов'],
    ordinal: 'миллионный',
    other: ['миллионом'],
  },
  {
    value: 1e3,
    gender: 'f',
    nom: ['тысяча', 'тысячи', 'тысяч'],
    gen: ['тысячи', 'тысяч'],
    ordinal: 'тысячный',
    other: ['тысячу', 'тысячей', 'тысячам', 'тысячами', 'тыща', 'тыщи', 'тыщ'],
  },
];

/** Ordinals in the masculine nominative: 1–19, tens by digit, hundreds by digit. */
export const ORD_UNITS: readonly string[] = [
  '',
  'первый',
  'второй',
  'третий',
  'четвёртый',
  'пятый',
  'шестой',
  'седьмой',
  'восьмой',
  'девятый',
  'десятый',
  'одиннадцатый',
  'двенадцатый',
  'тринадцатый',
  'четырнадцатый',
  'пятнадцатый',
  'шестнадцатый',
  'семнадцатый',
  'восемнадцатый',
  'девятнадцатый',
];
export const ORD_TENS: readonly string[] = [
  '',
  '',
  'двадцатый',
  'тридцатый',
  'сороковой',
  'пятидесятый',
  'шестидесятый',
  'семидесятый',
  'восьмидесятый',
  'девяностый',
];
export const ORD_HUNDREDS: readonly string[] = [
  '',
  'сотый',
  'двухсотый',
  'трёхсотый',
  'четырёхсотый',
  'пятисотый',
  'шестисотый',
  'семисотый',
  'восьмисотый',
  'девятисотый',
];

export type OrdinalForm =
  | 'nom_m'
  | 'nom_n'
  | 'nom_f'
  | 'gen_m'
  | 'gen_f'
  | 'prep_m'
  | 'dat_m'
  | 'ins_m'
  | 'acc_f'
  | 'nom_pl'
  | 'gen_pl'
  | 'ins_pl';

/** Adjective endings of an ordinal after its stem; «третий» is the only soft-stem ordinal. */
const HARD_ENDINGS: Readonly<Record<Exclude<OrdinalForm, 'nom_m'>, string>> = {
  nom_n: 'ое',
  nom_f: 'ая',
  gen_m: 'ого',
  gen_f: 'ой',
  prep_m: 'ом',
  dat_m: 'ому',
  ins_m: 'ым',
  acc_f: 'ую',
  nom_pl: 'ые',
  gen_pl: 'ых',
  ins_pl: 'ыми',
};
const SOFT_ENDINGS: Readonly<Record<Exclude<OrdinalForm, 'nom_m'>, string>> = {
  nom_n: 'ье',
  nom_f: 'ья',
  gen_m: 'ьего',
  gen_f: 'ьей',
  prep_m: 'ьем',
  dat_m: 'ьему',
  ins_m: 'ьим',
  acc_f: 'ью',
  nom_pl: 'ьи',
  gen_pl: 'ьих',
  ins_pl: 'ьими',
};
export const ORDINAL_FORMS = ['nom_m', ...Object.keys(HARD_ENDINGS)] as readonly OrdinalForm[];

/** Declines a masculine nominative ordinal («первый», «второй», «третий»): declineOrdinal('третий', 'gen_m') → «третьего». */
export function declineOrdinal(word: string, form: OrdinalForm): string {
  if (form === 'nom_m') return word;
  const stem = word.slice(0, -2);
  return stem + (word.endsWith('ий') ? SOFT_ENDINGS : HARD_ENDINGS)[form];
}
