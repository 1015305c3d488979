import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  addWorkingDays,
  type CalendarDay,
  isOpen,
  isWorkingDay,
  type Schedule,
  toCalendar,
} from './hours.js';
import type { Weekday } from './zoned-time.js';

// The shipped region's calendar and schedules: these tests check the data as well as the rules.
const region = parse(readFileSync(new URL('./seed/region.yaml', import.meta.url), 'utf8')) as {
  calendar: { date: string; kind: CalendarDay['kind']; title: string; works_as?: Weekday }[];
  schedules: {
    id: string;
    title: string;
    always_open?: boolean;
    timezone?: string;
    observe_calendar?: boolean;
    weekly?: Schedule['weekly'];
  }[];
};
const calendar = toCalendar(region.calendar.map((d) => ({ ...d, worksAs: d.works_as ?? null })));

function schedule(id: string): Schedule {
  const s = region.schedules.find((x) => x.id === id);
  assert.ok(s, `schedule ${id} is in region.yaml`);
  return {
    id: s.id,
    title: s.title,
    alwaysOpen: s.always_open ?? false,
    timezone: s.timezone ?? 'Europe/Moscow',
    observeCalendar: s.observe_calendar ?? true,
    weekly: s.weekly ?? {},
  };
}

const office = schedule('office');
const msk = (local: string) => new Date(`${local}+03:00`);

function assertState(at: string, s: Schedule, open: boolean, next: string | null) {
  const state = isOpen(s, calendar, msk(at));
  assert.equal(state.open, open, `${s.id} at ${at} MSK should be ${open ? 'open' : 'closed'}`);
  assert.deepEqual(state.nextChange, next === null ? null : new Date(next));
}

describe('working hours by the production calendar', () => {
  it('at 17:55 on 30 December 2025 the office is open until 18:00, then closed until 12 January', () => {
    assertState('2025-12-30T17:55', office, true, '2025-12-30T18:00+03:00');
    assertState('2025-12-30T18:00', office, false, '2026-01-12T09:00+03:00');
    assertState('2025-12-31T12:00', office, false, '2026-01-12T09:00+03:00');
  });

  it('at 17:55 on 30 December 2026 the office is open; the New Year break runs to 11 January 2027', () => {
    assertState('2026-12-30T17:55', office, true, '2026-12-30T18:00+03:00');
    assertState('2026-12-30T18:30', office, false, '2027-01-11T09:00+03:00');
  });

  it('is closed at 10:00 on a holiday Monday and opens on Tuesday', () => {
    assertState('2026-02-23T10:00', office, false, '2026-02-24T09:00+03:00');
    // 8 March 2026 is a Sunday: the day off moves to Monday 9 March.
    assertState('2026-03-09T10:00', office, false, '2026-03-10T09:00+03:00');
  });

  it('works a transferred working Saturday with the hours of the day it replaces', () => {
    // 1 November 2025 works for Monday 3 November (decree No. 1335): Monday's 09:00-18:00.
    assertState('2025-11-01T10:00', office, true, '2025-11-01T18:00+03:00');
    assertState('2025-11-03T10:00', office, false, '2025-11-05T09:00+03:00');
    assert.equal(isWorkingDay(calendar, '2025-11-01'), true);
    assert.equal(isWorkingDay(calendar, '2025-11-03'), false);
  });

  it('ends a pre-holiday short day one hour earlier', () => {
    assertState('2026-11-03T16:30', office, true, '2026-11-03T17:00+03:00');
    assertState('2026-11-03T17:30', office, false, '2026-11-05T09:00+03:00');
    // Friday 8 May 2026: 09:00-16:45 becomes 09:00-15:45.
    assertState('2026-05-08T15:50', office, false, '2026-05-12T09:00+03:00');
  });

  it('counts the Yekaterinburg agency in its own time zone', () => {
    const ekb = schedule('office_yekaterinburg');
    // 17:30 in Moscow is 19:30 in Yekaterinburg: closed, opens at 09:00 local = 07:00 Moscow.
    assertState('2026-11-24T17:30', ekb, false, '2026-11-25T09:00+05:00');
    assertState('2026-11-24T17:30', office, true, '2026-11-24T18:00+03:00');
    // 08:00 in Moscow is 10:00 there: already open.
    assertState('2026-11-24T08:00', ekb, true, '2026-11-24T18:00+05:00');
  });

  it('closes for a lunch break and opens after it', () => {
    assertState('2026-11-24T13:30', schedule('commissariat'), false, '2026-11-24T14:00+03:00');
  });

  it('keeps a 24/7 schedule open on holidays', () => {
    const always = schedule('always');
    assert.deepEqual(isOpen(always, calendar, msk('2026-01-01T03:00')), { open: true, nextChange: null });
  });

  it('handles intervals past midnight and a daylight-saving change', () => {
    const night: Schedule = {
      id: 'night',
      title: 'night desk',
      alwaysOpen: false,
      timezone: 'Europe/Berlin',
      observeCalendar: false,
      weekly: { sat: ['22:00-06:00'], sun: ['09:00-12:00'] },
    };
    // 29 March 2026: Berlin moves from +01:00 to +02:00 at 02:00.
    const state = isOpen(night, calendar, new Date('2026-03-29T03:30+02:00'));
    assert.deepEqual(state, { open: true, nextChange: new Date('2026-03-29T06:00+02:00') });
    const later = isOpen(night, calendar, new Date('2026-03-29T07:00+02:00'));
    assert.deepEqual(later, { open: false, nextChange: new Date('2026-03-29T09:00+02:00') });
  });

  it('reports no next change for a schedule that never opens', () => {
    const never: Schedule = { ...office, id: 'never', weekly: {} };
    assert.deepEqual(isOpen(never, calendar, msk('2026-11-24T10:00')), { open: false, nextChange: null });
  });
});

describe('working-day arithmetic', () => {
  it('counts working days past weekends and holidays', () => {
    assert.equal(addWorkingDays(calendar, '2026-11-24', 1), '2026-11-25');
    assert.equal(addWorkingDays(calendar, '2026-11-27', 1), '2026-11-30');
    // 4 November 2026 is the Day of National Unity.
    assert.equal(addWorkingDays(calendar, '2026-11-03', 1), '2026-11-05');
    assert.equal(addWorkingDays(calendar, '2026-12-30', 1), '2027-01-11');
    assert.equal(addWorkingDays(calendar, '2026-11-24', 5), '2026-12-01');
    assert.equal(addWorkingDays(calendar, '2026-11-28', 0), '2026-11-28');
  });
});

describe('the shipped production calendar', () => {
  const workingDays = (year: number) => {
    let n = 0;
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
      if (isWorkingDay(calendar, new Date(t).toISOString().slice(0, 10))) n++;
    }
    return n;
  };

  it('has 247 working days in 2025 and in 2026, as decreed', () => {
    assert.equal(workingDays(2025), 247);
    assert.equal(workingDays(2026), 247);
  });
});
