import { DateTime, IANAZone } from 'luxon';
import { OtklikError } from '../core/errors.js';

/**
 * Wall-clock arithmetic in an IANA time zone (luxon): the parts of an instant in a zone, and the instant of a
 * wall-clock time in a zone. Dates are YYYY-MM-DD strings and times of day milliseconds since midnight, as
 * the KB's schedules and calendar write them.
 */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const weekdays: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface ZonedParts {
  /** YYYY-MM-DD in the zone. */
  date: string;
  /** Milliseconds since local midnight, as the zone's clocks show it. */
  timeOfDayMs: number;
  weekday: Weekday;
}

const zones = new Map<string, IANAZone>();

/** The zone by name; an unknown one is refused (luxon would give invalid dates instead). */
function zone(timeZone: string): IANAZone {
  let z = zones.get(timeZone);
  if (!z) {
    if (!IANAZone.isValidZone(timeZone))
      throw new OtklikError('VALIDATION_FAILED', `unknown time zone "${timeZone}"`);
    z = IANAZone.create(timeZone);
    zones.set(timeZone, z);
  }
  return z;
}

export function isValidTimeZone(timeZone: string): boolean {
  return IANAZone.isValidZone(timeZone);
}

/** A calendar day with no zone: arithmetic on it never meets a DST change. */
function day(date: string): DateTime {
  const d = DateTime.fromISO(date, { zone: 'utc' });
  if (!d.isValid) throw new OtklikError('VALIDATION_FAILED', `bad date "${date}"`);
  return d;
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function zoneOffsetMs(timeZone: string, at: Date): number {
  return zone(timeZone).offset(at.getTime()) * 60_000;
}

export function zonedParts(at: Date, timeZone: string): ZonedParts {
  const local = DateTime.fromJSDate(at, { zone: zone(timeZone) });
  const timeOfDayMs = ((local.hour * 60 + local.minute) * 60 + local.second) * 1000 + local.millisecond;
  return { date: local.toISODate()!, timeOfDayMs, weekday: weekdays[local.weekday - 1]! };
}

/**
 * The instant at which the zone's clocks show `date` + `timeOfDayMs` (24:00 is the next midnight). A time the
 * clocks skip (spring forward) is the instant just after the gap, as luxon resolves it.
 */
export function zonedInstant(date: string, timeOfDayMs: number, timeZone: string): Date {
  const wall = day(date).plus({ milliseconds: timeOfDayMs });
  return wall.setZone(zone(timeZone), { keepLocalTime: true }).toJSDate();
}

export function weekdayOf(date: string): Weekday {
  return weekdays[day(date).weekday - 1]!;
}

export function addDays(date: string, days: number): string {
  return day(date).plus({ days }).toISODate()!;
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
  return DateTime.fromJSDate(at, { zone: zone(timeZone) }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}
