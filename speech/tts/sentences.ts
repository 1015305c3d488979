/**
 * Splits text into the pieces synthesized one at a time, so that the caller hears the first sentence while
 * the rest is still being synthesized. Sentences end at . ! ? … followed by a space and a capital letter,
 * a digit or the end of the text; a long sentence is further cut at a comma, semicolon or colon so that
 * no piece keeps the caller waiting.
 */

export interface SplitOptions {
  /** Pieces longer than this are cut at clause punctuation (characters). */
  maxChars?: number;
}

/** Short words after which a full stop does not end the sentence. */
const NO_BREAK_AFTER =
  /(?:^|[\s(])(?:т|г|ул|д|им|пр|стр|см|тыс|млн|млрд|руб|коп|каб|тел|доб|просп|обл|р-н|кв|ст|ч|мин)\.$/i;

export function splitSentences(text: string, opts: SplitOptions = {}): string[] {
  const maxChars = opts.maxChars ?? 200;
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean) return [];
  const sentences: string[] = [];
  const boundary = /([.!?…]+)(\s+)(?=["«(]?[\p{Lu}\d])/gu;
  let start = 0;
  for (const match of clean.matchAll(boundary)) {
    const end = match.index + match[1]!.length;
    const candidate = clean.slice(start, end);
    if (match[1] === '.' && NO_BREAK_AFTER.test(candidate)) continue;
    sentences.push(candidate.trim());
    start = end + match[2]!.length;
  }
  if (start < clean.length) sentences.push(clean.slice(start).trim());
  return sentences.flatMap((s) => cutLong(s, maxChars)).filter((s) => /[\p{L}\d]/u.test(s));
}

function cutLong(sentence: string, maxChars: number): string[] {
  if (sentence.length <= maxChars) return [sentence];
  const pieces: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    // The last clause break in the window; failing that, the last space.
    const cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    const at =
      cut > maxChars / 4 ? cut + 1 : window.lastIndexOf(' ') > 0 ? window.lastIndexOf(' ') : maxChars;
    pieces.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}
