/**
 * Dates and times in normalized text (number words already digits): «25 ноября», «25.11.2026»,
 * «завтра», «в пятницу», «через 2 недели», «25 числа»; «в 10 30», «в 3 часа дня», «15:30», «в полдень».
 * Relative dates resolve against the caller's local date in the given time zone.
 */
import { MONTHS_GENITIVE as months } from '../../core/russian.js';

export interface Match {
  type: 'date' | 'time';
  start: number;
  end: number;
  value: string;
}

// Word boundaries: JavaScript's \b does not know Cyrillic letters.
const B = '(?<=^|\\s)';
const E = '(?=\\s|$)';

const weekdays: Record<string, number> = {
  воскресенье: 0,
  понедельник: 1,
  вторник: 2,
  среду: 3,
  четверг: 4,
  пятницу: 5,
  субботу: 6,
};
const relativeDays: Record<string, number> = {
  позавчера: -2,
  вчера: -1,
  сегодня: 0,
  завтра: 1,
  послезавтра: 2,
};

interface Ymd {
  y: number;
  m: number;
  d: number;
}

/** The calendar date of `now` in a time zone. */
export function localDate(now: Date, timeZone: string): Ymd {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .formatToParts(now)
    .reduce<Record<string, string>>((acc, p) => {
      acc[p.type] = p.value;
      return acc;
    }, {});
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day) };
}

const toUtc = (x: Ymd): number => Date.UTC(x.y, x.m - 1, x.d);
const pad = (n: number): string => String(n).padStart(2, '0');
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const DAY = 86_400_000;

function valid(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function expandYear(y: number): number {
  return y < 100 ? 2000 + y : y;
}

/** A day and month without a year: this year, unless that was more than a month ago (then next year). */
function nearestYear(today: Ymd, m: number, d: number): number {
  const thisYear = Date.UTC(today.y, m - 1, d);
  return thisYear < toUtc(today) - 31 * DAY ? today.y + 1 : today.y;
}

function addMonths(today: Ymd, months: number): number {
  const total = today.m - 1 + months;
  const y = today.y + Math.floor(total / 12);
  const m = (total % 12) + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Date.UTC(y, m - 1, Math.min(today.d, last));
}

export function findDates(text: string, now: Date, timeZone: string): Match[] {
  const today = localDate(now, timeZone);
  const out: Match[] = [];
  const push = (m: RegExpExecArray, value: string | null): void => {
    if (value) out.push({ type: 'date', start: m.index, end: m.index + m[0].length, value });
  };
  for (const m of text.matchAll(new RegExp(`${B}(\\d{1,2})\\.(\\d{1,2})(?:\\.(\\d{2}|\\d{4}))?${E}`, 'g'))) {
    const d = Number(m[1]);
    const mo = Number(m[2]);
    const y = m[3] ? expandYear(Number(m[3])) : nearestYear(today, mo, d);
    push(m, valid(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : null);
  }
  const monthRe = new RegExp(
    `${B}(\\d{1,2}) (${months.join('|')})(?: (\\d{4})(?: года| год| году)?)?${E}`,
    'g',
  );
  for (const m of text.matchAll(monthRe)) {
    const d = Number(m[1]);
    const mo = months.indexOf(m[2]!) + 1;
    const y = m[3] ? Number(m[3]) : nearestYear(today, mo, d);
    push(m, valid(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : null);
  }
  for (const m of text.matchAll(new RegExp(`${B}(?:на |к )?(\\d{1,2}) числа${E}`, 'g'))) {
    const d = Number(m[1]);
    let y = today.y;
    let mo = today.m;
    if (d < today.d) [y, mo] = mo === 12 ? [y + 1, 1] : [y, mo + 1];
    push(m, valid(y, mo, d) ? `${y}-${pad(mo)}-${pad(d)}` : null);
  }
  for (const m of text.matchAll(new RegExp(`${B}(${Object.keys(relativeDays).join('|')})${E}`, 'g'))) {
    push(m, iso(toUtc(today) + relativeDays[m[1]!]! * DAY));
  }
  const weekdayRe = new RegExp(
    `${B}(?:в|во|на) (?:(?:следующ|эт|ближайш)\\S* )?(${Object.keys(weekdays).join('|')})${E}`,
    'g',
  );
  for (const m of text.matchAll(weekdayRe)) {
    const todayDow = new Date(toUtc(today)).getUTCDay();
    // The next such day after today («в пятницу» said on a Friday means the coming one).
    const ahead = (weekdays[m[1]!]! - todayDow + 7) % 7 || 7;
    push(m, iso(toUtc(today) + ahead * DAY));
  }
  const afterRe = new RegExp(
    `${B}через (?:(\\d{1,3}) )?(день|дня|дней|неделю|недели|недель|месяц|месяца|месяцев)${E}`,
    'g',
  );
  for (const m of text.matchAll(afterRe)) {
    const n = m[1] ? Number(m[1]) : 1;
    const unit = m[2]!;
    if (unit.startsWith('д')) push(m, iso(toUtc(today) + n * DAY));
    else if (unit.startsWith('нед')) push(m, iso(toUtc(today) + 7 * n * DAY));
    else push(m, iso(addMonths(today, n)));
  }
  return out;
}

const dayPart = '(утра|дня|вечера|ночи)';

function toTime(hour: number, minute: number, part: string | undefined): string | null {
  let h = hour;
  if (part === 'дня' || part === 'вечера') h = h < 12 ? h + 12 : h;
  else if ((part === 'ночи' || part === 'утра') && h === 12) h = 0;
  if (h > 23 || minute > 59) return null;
  return `${pad(h)}:${pad(minute)}`;
}

export function findTimes(text: string): Match[] {
  const out: Match[] = [];
  const push = (m: RegExpExecArray, value: string | null): void => {
    if (value) out.push({ type: 'time', start: m.index, end: m.index + m[0].length, value });
  };
  for (const m of text.matchAll(new RegExp(`${B}(\\d{1,2}):(\\d{2})${E}`, 'g'))) {
    push(m, toTime(Number(m[1]), Number(m[2]), undefined));
  }
  for (const m of text.matchAll(new RegExp(`${B}(?:в|к) (полдень|полночь)${E}`, 'g'))) {
    push(m, m[1] === 'полдень' ? '12:00' : '00:00');
  }
  const re = new RegExp(
    `${B}(?:(?:в|к|до|после|с|на|около) )?(\\d{1,2})(?: (час|часа|часов))?(?: (\\d{1,2})(?: (?:минут|минуты|минуту))?)?(?: ${dayPart})?${E}`,
    'g',
  );
  for (const m of text.matchAll(re)) {
    const hasPreposition = !/^\d/.test(m[0]);
    const hasHourWord = Boolean(m[2]);
    const hasPart = Boolean(m[4]);
    const hasMinutes = m[3] !== undefined && m[3].length === 2;
    const atEnd = m.index + m[0].length === text.length;
    // «в 10 30», «10 часов», «в 9 утра», «запишите на 11» (at the end) are times; a bare number is not.
    const isTime = hasHourWord || hasPart || (hasPreposition && (hasMinutes || atEnd));
    if (!isTime) continue;
    if (m[3] !== undefined && !hasMinutes && !m[0].includes('минут')) continue;
    push(m, toTime(Number(m[1]), m[3] ? Number(m[3]) : 0, m[4]));
  }
  return out;
}
