import type { OpenState } from './types.js';
import { addDays, parseClock, type Weekday, weekdayOf, zonedInstant, zonedParts } from './zoned-time.js';

/**
 * Working hours and working days: pure functions over a schedule and the production calendar, in the
 * schedule's IANA time zone. Terms counted in working days (an agency's answer to an inquiry,
 * inquiries/deadlines.ts) count them with addWorkingDays.
 *
 * Calendar rules (Russian Federation):
 * - `holiday`: a non-working day (public holiday or a day off moved by decree); calendar-observing
 *   schedules are closed all day.
 * - `working_day`: a weekend day made working by a transfer decree. It works the hours of the weekday named
 *   in `worksAs` (the day it replaces); when that is not given, Monday's hours — the fullest office day.
 * - `short_day`: a pre-holiday working day, one hour shorter (the day's last interval ends an hour earlier).
 *   A `short_day` that falls on a weekend is a transferred working day that is also short.
 * Schedules with `observeCalendar: false` (24/7 lines, duty desks) ignore the calendar.
 */
export type CalendarDayKind = 'holiday' | 'working_day' | 'short_day';

export interface CalendarDay {
  /** YYYY-MM-DD. */
  date: string;
  kind: CalendarDayKind;
  title: string;
  /** For a transferred working day: the weekday whose hours it works; null means Monday's. */
  worksAs: Weekday | null;
}

/** The production calendar by date. */
export type ProductionCalendar = ReadonlyMap<string, CalendarDay>;

export function toCalendar(days: Iterable<CalendarDay>): ProductionCalendar {
  return new Map([...days].map((d) => [d.date, d]));
}

export interface Schedule {
  id: string;
  title: string;
  alwaysOpen: boolean;
  /** IANA zone; the KB fills in the region's zone where the schedule names none. */
  timezone: string;
  observeCalendar: boolean;
  /** Intervals "HH:MM-HH:MM" per weekday; an end at or before the start runs past midnight. */
  weekly: Partial<Record<Weekday, string[]>>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How far ahead to look for the next opening: beyond the longest holiday run and then some. */
const SEARCH_DAYS = 400;

interface Interval {
  start: number;
  end: number;
}

function isWeekend(date: string): boolean {
  const wd = weekdayOf(date);
  return wd === 'sat' || wd === 'sun';
}

/** Whether `date` is a working day by the production calendar (Mon-Fri unless a holiday; transferred days). */
export function isWorkingDay(calendar: ProductionCalendar, date: string): boolean {
  const entry = calendar.get(date);
  if (entry) return entry.kind !== 'holiday';
  return !isWeekend(date);
}

/** The first working day strictly after `date`. */
export function nextWorkingDay(calendar: ProductionCalendar, date: string): string {
  let day = addDays(date, 1);
  for (let i = 0; i < SEARCH_DAYS && !isWorkingDay(calendar, day); i++) day = addDays(day, 1);
  return day;
}

/** The `count`-th working day after `date` by the production calendar (`date` itself for 0). */
export function addWorkingDays(calendar: ProductionCalendar, date: string, count: number): string {
  let day = date;
  for (let i = 0; i < count; i++) day = nextWorkingDay(calendar, day);
  return day;
}

function parseInterval(text: string): { from: number; to: number } {
  const [from, to] = text.split('-');
  const start = parseClock(from ?? '');
  let end = parseClock(to ?? '');
  if (end <= start) end += DAY_MS;
  return { from: start, to: end };
}

/** The local intervals (ms since that day's midnight) a schedule works on one calendar date. */
function dayIntervals(
  schedule: Schedule,
  calendar: ProductionCalendar,
  date: string,
): { from: number; to: number }[] {
  const weekday = weekdayOf(date);
  const entry = schedule.observeCalendar ? calendar.get(date) : undefined;
  if (entry?.kind === 'holiday') return [];
  const transferred = entry !== undefined && isWeekend(date);
  const hoursOf: Weekday = transferred ? (entry.worksAs ?? 'mon') : weekday;
  const intervals = (schedule.weekly[hoursOf] ?? []).map(parseInterval).sort((a, b) => a.from - b.from);
  if (entry?.kind === 'short_day' && intervals.length > 0) {
    const last = intervals[intervals.length - 1]!;
    const shortened = { from: last.from, to: last.to - HOUR_MS };
    intervals.pop();
    if (shortened.to > shortened.from) intervals.push(shortened);
  }
  return intervals;
}

/** Absolute open intervals for local dates [firstDate, firstDate + days), merged where they touch. */
function openIntervals(
  schedule: Schedule,
  calendar: ProductionCalendar,
  firstDate: string,
  days: number,
): Interval[] {
  const all: Interval[] = [];
  for (let i = 0; i < days; i++) {
    const date = addDays(firstDate, i);
    for (const { from, to } of dayIntervals(schedule, calendar, date)) {
      all.push({
        start: zonedInstant(date, from, schedule.timezone).getTime(),
        end: zonedInstant(date, to, schedule.timezone).getTime(),
      });
    }
  }
  all.sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const iv of all) {
    const prev = merged[merged.length - 1];
    if (prev && iv.start <= prev.end) prev.end = Math.max(prev.end, iv.end);
    else merged.push({ ...iv });
  }
  return merged;
}

/** Whether the schedule is working at `at`, and when that changes next (null: never within a year, or 24/7). */
export function isOpen(schedule: Schedule, calendar: ProductionCalendar, at: Date): OpenState {
  if (schedule.alwaysOpen) return { open: true, nextChange: null };
  const t = at.getTime();
  // Start a day early: yesterday's interval may run past midnight.
  const firstDate = addDays(zonedParts(at, schedule.timezone).date, -1);
  // A short window answers almost every question; the long one covers long holidays and sparse schedules.
  for (const days of [16, SEARCH_DAYS]) {
    const intervals = openIntervals(schedule, calendar, firstDate, days);
    const horizon = zonedInstant(addDays(firstDate, days), 0, schedule.timezone).getTime();
    for (const iv of intervals) {
      // An interval reaching the window's end may go on the next day: look again with the longer window.
      if (iv.end >= horizon && days < SEARCH_DAYS) break;
      if (iv.start <= t && t < iv.end)
        return { open: true, nextChange: iv.end >= horizon ? null : new Date(iv.end) };
      if (iv.start > t) return { open: false, nextChange: new Date(iv.start) };
    }
  }
  return { open: false, nextChange: null };
}
