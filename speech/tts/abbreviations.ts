/**
 * How abbreviations are read aloud. Initialisms are spelled with Russian letter names (МФЦ → «эм эф цэ»);
 * acronyms that people say as a word stay a word (СНИЛС → «снилс»). An all-caps word missing from the list
 * is spelled when it is short or has no vowel, and read as a word otherwise.
 */

export const ABBREVIATIONS: Record<string, string> = {
  МФЦ: 'эм эф цэ',
  СНИЛС: 'снилс',
  ОМС: 'о эм эс',
  ДМС: 'дэ эм эс',
  СВО: 'эс вэ о',
  ДНР: 'дэ эн эр',
  ЛНР: 'эл эн эр',
  ЖКУ: 'жэ ка у',
  ЖКХ: 'жэ ка ха',
  РФ: 'эр эф',
  СНГ: 'эс эн гэ',
  ФНС: 'эф эн эс',
  МВД: 'эм вэ дэ',
  ГУВМ: 'гэ у вэ эм',
  УФМС: 'у эф эм эс',
  МЧС: 'эм чэ эс',
  ЧС: 'чэ эс',
  ЗАГС: 'загс',
  ИНН: 'и эн эн',
  ЕГЭ: 'е гэ э',
  ОГЭ: 'о гэ э',
  ГИБДД: 'гэ и бэ дэ дэ',
  ЦРБ: 'цэ эр бэ',
  ФАП: 'фап',
  СФР: 'эс эф эр',
  ПФР: 'пэ эф эр',
  ФСС: 'эф эс эс',
  ФОМС: 'фомс',
  ТФОМС: 'тэ фомс',
  ОРВИ: 'о эр вэ и',
  ПЦР: 'пэ цэ эр',
  КТ: 'ка тэ',
  МРТ: 'эм эр тэ',
  ЭКГ: 'э ка гэ',
  МСЭ: 'эм эс э',
  ПМЖ: 'пэ эм жэ',
  ВНЖ: 'вэ эн жэ',
  РВП: 'эр вэ пэ',
  ЕПГУ: 'е пэ гэ у',
  ЕСИА: 'е эс и а',
  СМС: 'эс эм эс',
  SMS: 'эс эм эс',
  ИП: 'и пэ',
  ООО: 'о о о',
  ВК: 'вэ ка',
  ВЧ: 'вэ чэ',
  ЛПУ: 'эл пэ у',
  ФЗ: 'эф зэ',
  ТЦ: 'тэ цэ',
  ГУ: 'гэ у',
  СОЦЗАЩИТА: 'соцзащита',
  COVID: 'ковид',
};

const LETTER_NAMES: Record<string, string> = {
  А: 'а',
  Б: 'бэ',
  В: 'вэ',
  Г: 'гэ',
  Д: 'дэ',
  Е: 'е',
  Ё: 'ё',
  Ж: 'жэ',
  З: 'зэ',
  И: 'и',
  Й: 'и краткое',
  К: 'ка',
  Л: 'эл',
  М: 'эм',
  Н: 'эн',
  О: 'о',
  П: 'пэ',
  Р: 'эр',
  С: 'эс',
  Т: 'тэ',
  У: 'у',
  Ф: 'эф',
  Х: 'ха',
  Ц: 'цэ',
  Ч: 'чэ',
  Ш: 'ша',
  Щ: 'ща',
  Ъ: 'твёрдый знак',
  Ы: 'ы',
  Ь: 'мягкий знак',
  Э: 'э',
  Ю: 'ю',
  Я: 'я',
};

const VOWELS = /[АЕЁИОУЫЭЮЯ]/;

/** How an all-caps Cyrillic word is read. */
export function expandAbbreviation(word: string): string {
  const known = ABBREVIATIONS[word];
  if (known) return known;
  if (word.length <= 3 || !VOWELS.test(word))
    return word
      .split('')
      .map((c) => LETTER_NAMES[c] ?? c.toLowerCase())
      .join(' ');
  return word.toLowerCase();
}

/** Short written forms expanded to the words a speaker says. Order matters: longer forms first. */
export const WRITTEN_FORMS: [RegExp, string][] = [
  [/(^|[\s(])т\.\s?е\./g, '$1то есть'],
  [/(^|[\s(])и\sт\.\s?д\./g, '$1и так далее'],
  [/(^|[\s(])и\sт\.\s?п\./g, '$1и тому подобное'],
  [/(^|[\s(])т\.\s?к\./g, '$1так как'],
  [/(^|[\s(])т\.\s?ч\./g, '$1том числе'],
  [/(^|[\s(])ул\.\s?/g, '$1улица '],
  [/(^|[\s(])пр-т\.?\s?/g, '$1проспект '],
  [/(^|[\s(])каб\.\s?/g, '$1кабинет '],
  [/(^|[\s(])тел\.\s?/g, '$1телефон '],
  [/(^|[\s(])мин\.(?=\s|$)/g, '$1минут'],
  [/(^|[\s(])руб\.(?=\s|$)/g, '$1рублей'],
  [/(^|[\s(])тыс\.(?=\s|$|[,;])/g, '$1тысяч'],
  [/(^|[\s(])млн\.?(?=\s|$|[,;])/g, '$1миллионов'],
  [/(^|[\s(])пн(?=[\s,–-])/gi, '$1понедельник'],
  [/(^|[\s(])пт(?=[\s,.])/gi, '$1пятница'],
  [/№\s*/g, 'номер '],
  [/&/g, ' и '],
];

const LATIN: Record<string, string> = {
  a: 'а',
  b: 'б',
  c: 'к',
  d: 'д',
  e: 'е',
  f: 'ф',
  g: 'г',
  h: 'х',
  i: 'и',
  j: 'дж',
  k: 'к',
  l: 'л',
  m: 'м',
  n: 'н',
  o: 'о',
  p: 'п',
  q: 'к',
  r: 'р',
  s: 'с',
  t: 'т',
  u: 'у',
  v: 'в',
  w: 'в',
  x: 'кс',
  y: 'й',
  z: 'з',
};

/** A rough Russian reading of a Latin word (site names, brand names), so every engine can say it. */
export function transliterate(word: string): string {
  const lower = word.toLowerCase();
  const known: Record<string, string> = {
    gosuslugi: 'госуслуги',
    ru: 'ру',
    www: 'вэ вэ вэ',
    com: 'ком',
    wifi: 'вай фай',
  };
  if (known[lower]) return known[lower];
  return lower
    .replace(/sh/g, 'ш')
    .replace(/ch/g, 'ч')
    .replace(/zh/g, 'ж')
    .replace(/kh/g, 'х')
    .replace(/ts/g, 'ц')
    .replace(/yu/g, 'ю')
    .replace(/ya/g, 'я')
    .replace(/[a-z]/g, (c) => LATIN[c] ?? c);
}
