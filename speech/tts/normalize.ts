import { MONTHS_GENITIVE as MONTHS_GEN } from '../../core/russian.js';
import { expandAbbreviation, transliterate, WRITTEN_FORMS } from './abbreviations.js';
import { cardinal, digits, type Gender, ordinal, plural, pluralIndex } from './numbers.js';

/**
 * Turns written Russian (as knowledge-base answers are written) into what a speaker would say, so that any
 * TTS engine reads it right: times and time ranges («с 9:00 до 18:00» → «с девяти до восемнадцати часов»),
 * dates («01.12.2026» → «первое декабря две тысячи двадцать шестого года»), phone numbers in groups with
 * pauses, percentages, money, abbreviations (МФЦ → «эм эф цэ») and remaining numbers as cardinals.
 * The result keeps sentence punctuation, which the sentence splitter and the engines use for pauses.
 */

/** Prepositions after which a time or a date is in the genitive case. */
const GENITIVE_PREPS = new Set([
  'с',
  'со',
  'до',
  'от',
  'после',
  'около',
  'начиная с',
  'позднее',
  'позже',
  'не позднее',
]);
const PREP = String.raw`(?:(?<![\p{L}])(?<prep>[Сс]о?|[Дд]о|[Оо]т|[Пп]осле|[Оо]коло|[Пп]озднее|[Пп]озже)\s+)?`;
/** Word edges that also work for Cyrillic (\b only knows ASCII letters). */
const START = String.raw`(?<![\p{L}\d])`;
/** An optional preposition that puts the following number in the genitive, captured as gprep. */
const GEN_PREP = String.raw`(?:(?<![\p{L}])(?<gprep>[Дд]о|[Оо]т|[Пп]осле|[Оо]коло|[Бб]олее|[Мм]енее|[Сс]выше)\s+)?`;
const END = String.raw`(?![\p{L}\d])`;

const HOURS: [string, string, string] = ['час', 'часа', 'часов'];
const MINUTES: [string, string, string] = ['минута', 'минуты', 'минут'];

function isGenitive(prep: string | undefined): boolean {
  return prep !== undefined && GENITIVE_PREPS.has(prep.toLowerCase());
}

function validTime(h: string, m: string): boolean {
  return Number(h) <= 24 && Number(m) <= 59;
}

/** «9:30» after «до» → «девяти тридцати»; alone → «девять тридцать»; «9:05» → «девять ноль пять». */
function timeWords(h: number, m: number, genitive: boolean, withHoursWord: boolean): string {
  const c = genitive ? 'gen' : 'nom';
  if (m === 0) {
    const hours = cardinal(h, 'm', c);
    if (!withHoursWord) return hours;
    const word = genitive ? (h % 10 === 1 && h !== 11 ? 'часа' : 'часов') : plural(h, HOURS);
    return `${hours} ${word}`;
  }
  const minutes = m < 10 && !genitive ? `ноль ${cardinal(m, 'f')}` : cardinal(m, 'f', c);
  return `${cardinal(h, 'm', c)} ${minutes}`;
}

function timeRange(h1: string, m1: string, h2: string, m2: string): string {
  const end = Number(m2) === 0;
  return `с ${timeWords(Number(h1), Number(m1), true, false)} до ${timeWords(Number(h2), Number(m2), true, end)}`;
}

function phoneWords(raw: string): string {
  const plus = raw.trim().startsWith('+');
  const groups = raw.match(/\d+/g) ?? [];
  // A number written without separators is split the usual way: 8 800 123 45 67.
  const flat = groups.join('');
  let parts = groups;
  if (groups.length === 1 && flat.length === 11) {
    parts = [flat.slice(0, 1), flat.slice(1, 4), flat.slice(4, 7), flat.slice(7, 9), flat.slice(9)];
  }
  const spoken = parts.map((g) => (g.startsWith('0') && g.length > 1 ? digits(g) : cardinal(Number(g))));
  return `${plus ? 'плюс ' : ''}${spoken.join(', ')}`;
}

function dateWords(day: number, month: number, year: number | null, genitive: boolean): string {
  const d = ordinal(day, genitive ? 'gen_m' : 'nom_n');
  const y = year === null ? '' : ` ${ordinal(year, 'gen_m')} года`;
  return `${d} ${MONTHS_GEN[month - 1]}${y}`;
}

function fullYear(y: string): number {
  const n = Number(y);
  return y.length === 2 ? 2000 + n : n;
}

function decimalWords(whole: string, frac: string): string {
  const w = Number(whole);
  const f = Number(frac);
  const denominators: Record<number, [string, string]> = {
    1: ['десятая', 'десятых'],
    2: ['сотая', 'сотых'],
    3: ['тысячная', 'тысячных'],
  };
  const den = denominators[frac.length];
  if (!den) return `${cardinal(w)} запятая ${digits(frac)}`;
  const wholeWord = w % 10 === 1 && w % 100 !== 11 ? 'целая' : 'целых';
  const fracWord = f % 10 === 1 && f % 100 !== 11 ? den[0] : den[1];
  return `${cardinal(w, 'f')} ${wholeWord} ${cardinal(f, 'f')} ${fracWord}`;
}

type Rule = [RegExp, (groups: Record<string, string | undefined>, match: string, rest: string) => string];

/** Applied in order: specific patterns (phones, dates, times) before the generic number rule. */
const RULES: Rule[] = [
  // Phone numbers: +7 (900) 123-45-67, 8-800-200-01-22, 88002000122.
  [
    /(?<phone>(?:\+7|\b8)[\s-]*\(?\d{3}\)?[\s-]*\d{3}[\s-]*\d{2}[\s-]*\d{2})(?!\d)/g,
    (g) => phoneWords(g.phone!),
  ],
  // Local numbers in groups: 12-34-56, 123-45-67.
  [/\b(?<phone>\d{2,3}-\d{2}-\d{2})\b/g, (g) => phoneWords(g.phone!)],
  // «с 9:00 до 18:00», «с 9.00 до 18.00».
  [
    new RegExp(
      String.raw`${START}[Сс]о?\s+(?<h1>\d{1,2})[:.](?<m1>\d{2})\s+до\s+(?<h2>\d{1,2})[:.](?<m2>\d{2})${END}`,
      'gu',
    ),
    (g, m) =>
      validTime(g.h1!, g.m1!) && validTime(g.h2!, g.m2!) ? timeRange(g.h1!, g.m1!, g.h2!, g.m2!) : m,
  ],
  // «9:00–18:00», «9:00 - 18:00».
  [
    /\b(?<h1>\d{1,2})[:.](?<m1>\d{2})\s*[-–—]\s*(?<h2>\d{1,2})[:.](?<m2>\d{2})\b/g,
    (g, m) =>
      validTime(g.h1!, g.m1!) && validTime(g.h2!, g.m2!) ? timeRange(g.h1!, g.m1!, g.h2!, g.m2!) : m,
  ],
  // Dates: 01.12.2026, 1.12.26, 01.12 (before «до 01.12»).
  [
    new RegExp(
      String.raw`${PREP}\b(?<d>\d{1,2})\.(?<mo>\d{1,2})(?:\.(?<y>\d{4}|\d{2}))?(?:\s*(?:г\.|года))?(?![\d:])`,
      'gu',
    ),
    (g, m) => {
      const day = Number(g.d);
      const month = Number(g.mo);
      if (day < 1 || day > 31 || month < 1 || month > 12) return m;
      const prep = g.prep ? `${g.prep} ` : '';
      return `${prep}${dateWords(day, month, g.y ? fullYear(g.y) : null, isGenitive(g.prep))}`;
    },
  ],
  // «1 декабря», «до 15 января 2027 года».
  [
    new RegExp(
      String.raw`${PREP}\b(?<d>\d{1,2})\s+(?<month>${MONTHS_GEN.join('|')})(?:\s+(?<y>\d{4})(?:\s*(?:г\.|года))?)?`,
      'gu',
    ),
    (g) => {
      const prep = g.prep ? `${g.prep} ` : '';
      const month = MONTHS_GEN.indexOf(g.month!) + 1;
      return `${prep}${dateWords(Number(g.d), month, g.y ? Number(g.y) : null, isGenitive(g.prep))}`;
    },
  ],
  // Years: «в 2026 году», «2026 год», «2026 года», «2026 г.».
  [
    new RegExp(String.raw`${START}(?<y>\d{4})\s+году${END}`, 'gu'),
    (g) => `${ordinal(Number(g.y), 'prep_m')} году`,
  ],
  [
    new RegExp(String.raw`${START}(?<y>\d{4})\s+год${END}`, 'gu'),
    (g) => `${ordinal(Number(g.y), 'nom_m')} год`,
  ],
  [
    new RegExp(String.raw`${START}(?<y>\d{4})\s*(?:года${END}|г\.)`, 'gu'),
    (g) => `${ordinal(Number(g.y), 'gen_m')} года`,
  ],
  // Single times: «до 18:00», «в 9:30».
  [
    new RegExp(String.raw`${PREP}\b(?<h>\d{1,2}):(?<m>\d{2})\b`, 'gu'),
    (g, m) => {
      if (!validTime(g.h!, g.m!)) return m;
      const prep = g.prep ? `${g.prep} ` : '';
      return `${prep}${timeWords(Number(g.h), Number(g.m), isGenitive(g.prep), true)}`;
    },
  ],
  // «с 9 до 18 часов», «с 1 до 15 числа»: both numbers in the genitive.
  [
    new RegExp(
      String.raw`${START}(?<s>[Сс]о?)\s+(?<a>\d{1,4})\s+до\s+(?<b>\d{1,4})${END}(?![.,:%]\d?)`,
      'gu',
    ),
    (g) => `${g.s} ${cardinal(Number(g.a), 'm', 'gen')} до ${cardinal(Number(g.b), 'm', 'gen')}`,
  ],
  // Counted nouns that must agree with the number.
  [
    new RegExp(String.raw`${GEN_PREP}(?<n>\d+)\s*%`, 'gu'),
    (g) => {
      const n = Number(g.n);
      if (!g.gprep) return `${cardinal(n)} ${plural(n, ['процент', 'процента', 'процентов'])}`;
      return `${g.gprep} ${cardinal(n, 'm', 'gen')} ${pluralIndex(n) === 0 ? 'процента' : 'процентов'}`;
    },
  ],
  // Prepositions that always take the genitive: «до 5 рабочих дней» → «до пяти рабочих дней».
  [
    new RegExp(
      String.raw`${START}(?<gp>[Дд]о|[Оо]т|[Пп]осле|[Оо]коло|[Бб]олее|[Мм]енее|[Сс]выше)\s+(?<n>\d{1,9})${END}(?![.,:]\d)(?!\s*(?:₽|руб))`,
      'gu',
    ),
    (g, _m, rest) => `${g.gp} ${cardinal(Number(g.n), genderOfNext(rest), 'gen')}`,
  ],
  [
    new RegExp(String.raw`${GEN_PREP}(?<n>\d+)\s*(?:₽|руб\.?|рублей|рубля|рубль)(?=[\s,.;!?)]|$)`, 'gu'),
    (g) => {
      const n = Number(g.n);
      if (!g.gprep) return `${cardinal(n)} ${plural(n, ['рубль', 'рубля', 'рублей'])}`;
      return `${g.gprep} ${cardinal(n, 'm', 'gen')} ${pluralIndex(n) === 0 ? 'рубля' : 'рублей'}`;
    },
  ],
  // «с 2 лет», «с 15 числа»: «с» meaning «from» before a noun in the genitive.
  [
    new RegExp(
      String.raw`${START}(?<s>[Сс]о?)\s+(?<n>\d{1,4})(?=\s+(?:лет|года|месяцев|месяца|числа|часов|часа)${END})`,
      'gu',
    ),
    (g) => `${g.s} ${cardinal(Number(g.n), 'm', 'gen')}`,
  ],
  [
    /(?<n>\d+)\s*(?:мин\.?|минут[аы]?)(?=[\s,.;!?)]|$)/g,
    (g) => `${cardinal(Number(g.n), 'f')} ${plural(Number(g.n), MINUTES)}`,
  ],
  [
    new RegExp(String.raw`(?<n>\d+)\s+(?<noun>(?:рабоч|календарн)\S*\s+)?(?:дн(?:ей|я)|день)${END}`, 'gu'),
    (g) => {
      const n = Number(g.n);
      const adjective = g.noun
        ? `${g.noun.trim().replace(/(их|ий|ых|ый|его|ого)$/, '')}${n % 10 === 1 && n % 100 !== 11 ? 'ий' : 'их'} `
        : '';
      return `${cardinal(n)} ${adjective.replace(/календарн(ий|их)/, (_, e) => `календарн${e === 'ий' ? 'ый' : 'ых'}`)}${plural(n, ['день', 'дня', 'дней'])}`;
    },
  ],
  // Decimals: 2,5 → «две целых пять десятых».
  [/\b(?<w>\d+),(?<f>\d{1,3})\b/g, (g) => decimalWords(g.w!, g.f!)],
  // Thousands written with spaces: «10 000» → one number.
  [/\b\d{1,3}(?:[\u00a0\u202f ]\d{3})+\b/g, (_, m) => m.replace(/\D/g, '')],
];

const FEMININE_NOUNS = /^(справк|недел|минут|тысяч|выплат|заявк|секунд|строк|очеред|линии?)/;
const NEUTER_NOUNS = /^(окн|место|мест|заявлени|свидетельств)/;

function genderOfNext(rest: string): Gender {
  const next = rest.trimStart().split(/\s/)[0]?.toLowerCase() ?? '';
  if (FEMININE_NOUNS.test(next)) return 'f';
  if (NEUTER_NOUNS.test(next)) return 'n';
  return 'm';
}

export function normalizeForSpeech(input: string): string {
  let text = input.normalize('NFC').replace(/[\u00a0\u202f\t\r\n]+/g, ' ');
  for (const [pattern, replacement] of WRITTEN_FORMS) text = text.replace(pattern, replacement);
  for (const [pattern, speak] of RULES) {
    text = text.replace(pattern, (...args) => {
      // replace() passes (match, ...captures, offset, whole[, groups]).
      const hasGroups = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
      const tail = hasGroups ? args.length - 1 : args.length;
      const groups = (hasGroups ? args[args.length - 1] : {}) as Record<string, string | undefined>;
      const match = args[0] as string;
      const offset = args[tail - 2] as number;
      const whole = args[tail - 1] as string;
      return speak(groups, match, whole.slice(offset + match.length));
    });
  }
  // Remaining numbers: cardinals, agreeing in gender with a following noun where it is easy to tell.
  text = text.replace(/\d+/g, (n, offset: number, whole: string) => {
    if (n.length > 1 && n.startsWith('0')) return digits(n);
    if (n.length > 12) return digits(n);
    const rest = whole.slice(offset + n.length);
    const words = cardinal(Number(n), genderOfNext(rest));
    // «на 1 справку»: a feminine noun in the accusative takes «одну».
    return /^\s*\p{L}+[ую](?![\p{L}])/u.test(rest) ? words.replace(/одна$/, 'одну') : words;
  });
  // Abbreviations (all caps, two letters or more) and Latin words.
  text = text.replace(/(?<![\p{L}])[А-ЯЁ]{2,}(?![\p{L}])/gu, (w) => expandAbbreviation(w));
  text = text.replace(/(?<=[A-Za-z0-9])\.(?=(?:ru|рф|com|org|net|su)(?![\p{L}]))/gu, ' точка ');
  text = text.replace(/(?<![\p{L}])[A-Za-z]+(?![\p{L}])/gu, (w) => transliterate(w));
  // Symbols that are punctuation to a reader: dashes and brackets become pauses, quotes vanish.
  text = text
    .replace(/\s+[-–—]\s+/g, ', ')
    .replace(/[«»"“”„]/g, '')
    .replace(/[()[\]]/g, ', ')
    .replace(/\s*\+\s*/g, ' плюс ')
    .replace(/\s*\/\s*/g, ' ')
    .replace(/\s*([,.;:!?])(\s*[,])+/g, '$1')
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/,+([.;:!?])/g, '$1')
    .replace(/^[\s,]+/, '')
    .replace(/\s{2,}/g, ' ');
  return text.trim();
}
