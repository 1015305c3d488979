/**
 * Personal data in what a caller said, masked for staff who work on the wording and not on the call (the
 * knowledge studio's inbox): numbers (phone, SNILS, policy, passport: any run of three digits or more,
 * written or spoken as number words) become `***`, and names become `[имя]`: the words after «меня зовут»,
 * «фамилия», «имя», «отчество», and two or more capitalized words in a row inside a sentence («Иванов Иван»).
 * Over-masking is the safe side: a lone capitalized place name stays.
 */

const numberWord =
  /^(ноль|нуль|один|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять|одиннадцать|двенадцать|тринадцать|четырнадцать|пятнадцать|шестнадцать|семнадцать|восемнадцать|девятнадцать|двадцать|тридцать|сорок|пятьдесят|шестьдесят|семьдесят|восемьдесят|девяносто|сто|двести|триста|четыреста|пятьсот|шестьсот|семьсот|восемьсот|девятьсот|тысяча|тысячи|тысяч)$/i;
const nameCue = /^(зовут|фамилия|фамилию|имя|отчество|звать)$/i;
const capitalized = /^[А-ЯЁ][а-яё-]+$/;

/** Runs of digits (with spaces, dashes, brackets, plus) holding three digits or more. */
function maskDigits(text: string): string {
  return text.replace(/\+?\d[\d\s()-]*\d/g, (run) => {
    const digits = run.replace(/\D/g, '').length;
    if (digits < 3) return run;
    return run.endsWith(' ') ? '*** ' : '***';
  });
}

export function maskPersonalText(text: string): string {
  const words = maskDigits(text).split(/(\s+)/);
  const out = [...words];
  const bare = (w: string) => w.replace(/^[^\p{L}\p{N}*]+|[^\p{L}\p{N}*]+$/gu, '');
  // Spoken numbers: three number words in a row or more.
  for (let i = 0; i < words.length; i += 2) {
    let j = i;
    while (j < words.length && numberWord.test(bare(words[j]!))) j += 2;
    if ((j - i) / 2 >= 3) {
      for (let k = i; k < j; k += 2) out[k] = k === i ? '***' : '';
      for (let k = i + 1; k < j - 1; k += 2) out[k] = '';
      i = j - 2;
    }
  }
  // Names: up to three words after a cue, and capitalized pairs inside a sentence.
  for (let i = 0; i < out.length; i += 2) {
    if (!out[i]!.includes('[имя]') && nameCue.test(bare(out[i]!))) {
      for (let k = i + 2, n = 0; k < out.length && n < 3; k += 2, n++) {
        const w = bare(out[k]!);
        if (w === '' || numberWord.test(w) || /^(и|а|но|мне|я|у|меня)$/i.test(w)) break;
        out[k] = out[k]!.replace(w, '[имя]');
        if (/[,.!?;]$/.test(out[k]!)) break;
      }
    }
  }
  for (let i = 2; i < out.length; i += 2) {
    const prev = out[i - 2]!;
    const startsSentence = /[.!?]$/.test(prev) || prev === '';
    const a = bare(out[i]!);
    const b = bare(out[i + 2] ?? '');
    if (!startsSentence && capitalized.test(a) && capitalized.test(b)) {
      out[i] = out[i]!.replace(a, '[имя]');
      out[i + 2] = out[i + 2]!.replace(b, '[имя]');
    }
  }
  return out
    .join('')
    .replace(/(\[имя\][\s,]*){2,}/g, (m) => `[имя]${/,\s*$/.test(m) ? ', ' : m.endsWith(' ') ? ' ' : ''}`)
    .replace(/\s{2,}/g, ' ')
    .trim();
}
