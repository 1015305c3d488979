import { numberWordsToDigits } from './numbers.js';

/**
 * Normalization of what a caller said (as ASR or the text chat gives it) into the one form the classifier
 * and the entity extractor read: lower case, ё → е, no punctuation, no fillers, number words as digits,
 * common ASR spellings mapped to the dictionary word. Speech-to-text direction only: the TTS normalizer
 * (digits → words) lives in the voice bot.
 */

/** Single-word fillers and forms of address that carry no meaning for the question. */
const fillerWords = new Set([
  'э',
  'ээ',
  'эээ',
  'ээээ',
  'эм',
  'эмм',
  'ээм',
  'мм',
  'ммм',
  'хм',
  'хмм',
  'ну',
  'девушка',
  'девушки',
  'слушайте',
  'слушай',
  'короче',
  'типа',
  'вот',
  'значит',
  'блин',
  'ой',
  'ах',
  'эх',
]);

/**
 * Greetings and call openers. Said before a question they carry nothing («алло здравствуйте хочу записаться к
 * терапевту» is a question about an appointment), so they are dropped there; said alone (or with polite words
 * only: «здравствуйте подскажите пожалуйста») they are the whole utterance, and the classifier learns them as
 * `dialog.greeting`. Without this, a greeting word seen in one intent's phrases pulls a bare greeting there.
 */
const greetingPhrases: readonly string[][] = [
  ['алло'],
  ['ало'],
  ['алле'],
  ['але'],
  ['здравствуйте'],
  ['привет'],
  ['приветствую'],
  ['добрый', 'день'],
  ['добрый', 'вечер'],
  ['доброе', 'утро'],
  ['доброй', 'ночи'],
  ['день', 'добрый'],
  ['вечер', 'добрый'],
  ['утро', 'доброе'],
  ['доброго', 'дня'],
  ['доброго', 'времени', 'суток'],
];

/** «алло» and its spellings: a filler wherever it is not the whole utterance. */
const helloWords = new Set(['алло', 'ало', 'алле', 'але']);

/** Words that, after a greeting, still ask nothing: the utterance stays a greeting. */
const openerWords = new Set([
  ...greetingPhrases.flat(),
  'подскажите',
  'подскажи',
  'пожалуйста',
  'скажите',
  'извините',
  'простите',
  'за',
  'беспокойство',
  'у',
  'меня',
  'мне',
  'к',
  'вам',
  'вопрос',
  'можно',
  'спросить',
  'хотела',
  'хотел',
  'я',
  'нужна',
  'консультация',
  'вы',
  'слышите',
  'слышно',
  'есть',
  'кто',
  'еще',
  'раз',
  'это',
  'линия',
  'единая',
  '122',
]);

function leadingGreeting(tokens: string[]): number {
  let at = 0;
  for (;;) {
    const phrase = greetingPhrases.find((p) => p.every((w, i) => tokens[at + i] === w));
    if (!phrase) return at;
    at += phrase.length;
  }
}

/** Drops the greeting before a question; keeps a greeting that is the whole utterance. */
function stripGreeting(tokens: string[]): string[] {
  const start = leadingGreeting(tokens);
  const rest = tokens.slice(start);
  if (start > 0 && rest.every((t) => openerWords.has(t))) return tokens;
  if (rest.length === 1 && helloWords.has(rest[0]!)) return rest;
  return rest.filter((t) => !helloWords.has(t));
}

/** Multi-word fillers, removed before single words. */
const fillerPhrases = [
  'молодой человек',
  'так сказать',
  'это самое',
  'как бы',
  'в общем',
  'вообще то',
  'скажите пожалуйста',
];

/** ASR and colloquial spellings → the dictionary form (whole tokens). */
const spellings: Record<string, string> = {
  щас: 'сейчас',
  ща: 'сейчас',
  счас: 'сейчас',
  чо: 'что',
  че: 'что',
  шо: 'что',
  чтоб: 'чтобы',
  скока: 'сколько',
  скоко: 'сколько',
  тока: 'только',
  ваще: 'вообще',
  пожалста: 'пожалуйста',
  пожалуста: 'пожалуйста',
  пжлст: 'пожалуйста',
  плиз: 'пожалуйста',
  здрасте: 'здравствуйте',
  здрасьте: 'здравствуйте',
  здрасти: 'здравствуйте',
  здравствуй: 'здравствуйте',
  спс: 'спасибо',
  пасиб: 'спасибо',
  пасибо: 'спасибо',
  аха: 'ага',
  ок: 'хорошо',
  окей: 'хорошо',
  ok: 'хорошо',
  okay: 'хорошо',
  covid: 'ковид',
  корона: 'коронавирус',
  снилз: 'снилс',
  снилса: 'снилс',
  снилсу: 'снилс',
  эмэфцэ: 'мфц',
  мэфэцэ: 'мфц',
  эмэфце: 'мфц',
  мфс: 'мфц',
  пцэр: 'пцр',
  пэцээр: 'пцр',
  эмэртэ: 'мрт',
  катэ: 'кт',
  омэс: 'омс',
  эсвэо: 'сво',
  дээнэр: 'днр',
  элэнэр: 'лнр',
  гасуслуги: 'госуслуги',
  поликлиннику: 'поликлинику',
  военкомата: 'военкомата',
};

/** Spelled-out abbreviations that ASR splits into letter names. */
const spelledPhrases: Array<[string, string]> = [
  ['гос услуги', 'госуслуги'],
  ['гос услуг', 'госуслуг'],
  ['гос услугах', 'госуслугах'],
  ['гос услугами', 'госуслугами'],
  ['эм эф це', 'мфц'],
  ['эм эф цэ', 'мфц'],
  ['пэ цэ эр', 'пцр'],
  ['эм эр тэ', 'мрт'],
  ['о эм эс', 'омс'],
  ['эс вэ о', 'сво'],
  ['д н р', 'днр'],
  ['л н р', 'лнр'],
  ['ковид девятнадцать', 'ковид'],
];

// Dates and times written with separators (text chat) survive punctuation removal as single tokens.
const protectedToken = /^(?:\d{1,2}[.:]\d{2}(?:[.]\d{2,4})?)$/;

function replacePhrases(text: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = ` ${text} `;
  for (const [from, to] of pairs) out = out.split(` ${from} `).join(` ${to} `);
  return out.trim();
}

/** Lower case, ё → е, punctuation to spaces (keeping 25.11.2026 and 15:30 whole), collapsed spaces. */
export function cleanText(text: string): string {
  const lowered = text.toLowerCase().replace(/ё/g, 'е').normalize('NFC');
  return lowered
    .split(/\s+/)
    .map((chunk) => {
      const trimmed = chunk.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
      if (protectedToken.test(trimmed)) return trimmed;
      return chunk.replace(/[^a-zа-я0-9]+/g, ' ');
    })
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The normalized form of a caller's utterance (see the file comment). Idempotent. */
export function normalize(text: string): string {
  let cleaned = cleanText(text);
  cleaned = replacePhrases(cleaned, spelledPhrases);
  cleaned = replacePhrases(
    cleaned,
    fillerPhrases.map((p) => [p, ''] as const),
  );
  const tokens = cleaned
    .split(' ')
    .filter((t) => t.length > 0)
    .map((t) => spellings[t] ?? t)
    .filter((t) => !fillerWords.has(t));
  const withDigits = numberWordsToDigits(tokens);
  // ASR repeats a word when the caller stutters («я я хочу»); a doubled word never changes the meaning here.
  const deduped = withDigits.filter((t, i) => i === 0 || t !== withDigits[i - 1] || /^\d+$/.test(t));
  return stripGreeting(deduped).join(' ');
}
