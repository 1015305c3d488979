import { OtklikError } from '../core/errors.js';

/**
 * Wall-clock arithmetic in an IANA time zone through Intl only (no tz library): the parts of an instant in
 * a zone, and the instant of a wall-clock time in a zone.
 */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const weekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface ZonedParts {
  /** YYYY-MM-DD in the zone. */
  date: string;
  /** Milliseconds since local midnight. */
  timeOfDayMs: number;
  weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new OtklikError('VALIDATION_FAILED', `unknown time zone "${timeZone}"`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function zoneOffsetMs(timeZone: string, at: Date): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const wholeSeconds = Math.floor(at.getTime() / 1000) * 1000;
  return asUtc - wholeSeconds;
}

export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const local = new Date(at.getTime() + zoneOffsetMs(timeZone, at));
  const date = local.toISOString().slice(0, 10);
  const timeOfDayMs =
    local.getTime() - Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  return { date, timeOfDayMs, weekday: weekdayOf(date) };
}

/** The instant at which the zone's clocks show `date` + `timeOfDayMs` (24:00 is the next midnight). */
export function zonedInstant(date: string, timeOfDayMs: number, timeZone: string): Date {
  const wall = Date.parse(`${date}T00:00:00Z`) + timeOfDayMs;
  // Two passes settle the offset even next to a DST change.
  let guess = wall - zoneOffsetMs(timeZone, new Date(wall));
  guess = wall - zoneOffsetMs(timeZone, new Date(guess));
  return new Date(guess);
}

export function weekdayOf(date: string): Weekday {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekdays[(day + 6) % 7]!;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** "HH:MM" → milliseconds since midnight; accepts 24:00. */
export function parseClock(clock: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(clock);
  if (!m || (m[1] === '24' && m[2] !== '00'))
    throw new OtklikError('VALIDATION_FAILED', `bad time "${clock}"`);
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

/** An instant as ISO 8601 with the zone's offset, to the second: 2026-12-30T17:55:00+03:00. */
export function formatZoned(at: Date, timeZone: string): string {
  const offset = zoneOffsetMs(timeZone, at);
  const local = new Date(at.getTime() + offset).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}
