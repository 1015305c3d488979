/**
 * Digit runs in normalized text → phone numbers, СНИЛС, ОМС policy numbers, or plain numbers. People
 * dictate long numbers in groups («восемь девятьсот двенадцать…» → "8 912 345 67 89"), so consecutive
 * digit tokens are joined and the joined run is recognized by length, leading digit and checksum.
 */

export interface DigitMatch {
  type: 'phone' | 'snils' | 'oms_policy' | 'number';
  start: number;
  end: number;
  value: string | number;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** СНИЛС control number: digits weighted 9..1, sum mod 101, with 100 and 101 → 00. */
export function snilsChecksumValid(digits: string): boolean {
  if (!/^\d{11}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (9 - i);
  let check = sum < 100 ? sum : sum === 100 || sum === 101 ? 0 : sum % 101;
  if (check === 100) check = 0;
  return check === Number(digits.slice(9));
}

function digitRuns(text: string, taken: (start: number, end: number) => boolean): Token[][] {
  const runs: Token[][] = [];
  let run: Token[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const token = { text: m[0], start: m.index, end: m.index + m[0].length };
    if (/^\d+$/.test(token.text) && !taken(token.start, token.end)) run.push(token);
    else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function classify(digits: string, hints: { snils: boolean; policy: boolean }): DigitMatch['type'] | null {
  if (digits.length === 16) return 'oms_policy';
  // After «полис» an 11-digit prefix is part of the 16-digit policy number, not a СНИЛС.
  if (hints.policy && !hints.snils) return null;
  if (digits.length === 11) {
    if (hints.snils && !hints.policy) return 'snils';
    if (/^[78]/.test(digits)) return 'phone';
    if (snilsChecksumValid(digits)) return 'snils';
  }
  if (digits.length === 10 && digits.startsWith('9') && !hints.snils) return 'phone';
  return null;
}

function value(type: DigitMatch['type'], digits: string): string {
  if (type === 'phone') return `+7${digits.slice(-10)}`;
  return digits;
}

export function findDigitEntities(
  text: string,
  taken: (start: number, end: number) => boolean,
): DigitMatch[] {
  const hints = { snils: /(?<=^|\s)снилс/.test(text), policy: /(?<=^|\s)(?:полис|омс)/.test(text) };
  const out: DigitMatch[] = [];
  for (const run of digitRuns(text, taken)) {
    let i = 0;
    while (i < run.length) {
      // The shortest group sequence starting here that forms a known document or phone number.
      let found: { j: number; type: DigitMatch['type']; digits: string } | null = null;
      let digits = '';
      for (let j = i; j < run.length && digits.length < 16; j++) {
        digits += run[j]!.text;
        const type = classify(digits, hints);
        if (type && (type !== 'phone' || !found)) found = { j, type, digits };
        if (found && digits.length >= 11) break;
      }
      if (found) {
        out.push({
          type: found.type,
          start: run[i]!.start,
          end: run[found.j]!.end,
          value: value(found.type, found.digits),
        });
        i = found.j + 1;
      } else {
        const token = run[i]!;
        out.push({ type: 'number', start: token.start, end: token.end, value: Number(token.text) });
        i++;
      }
    }
  }
  return out;
}
