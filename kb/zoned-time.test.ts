import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { addDays, formatZoned, isValidTimeZone, weekdayOf, zonedInstant, zonedParts } from './zoned-time.js';

const hm = (h: number, m = 0) => (h * 60 + m) * 60_000;

describe('wall-clock time in the region', () => {
  it('gives the local day, time and weekday of an instant', () => {
    // 23:30 in Moscow on Monday is already Tuesday in Vladivostok.
    const at = new Date('2026-11-23T23:30:00+03:00');
    assert.deepEqual(zonedParts(at, 'Europe/Moscow'), {
      date: '2026-11-23',
      timeOfDayMs: hm(23, 30),
      weekday: 'mon',
    });
    assert.deepEqual(zonedParts(at, 'Asia/Vladivostok'), {
      date: '2026-11-24',
      timeOfDayMs: hm(6, 30),
      weekday: 'tue',
    });
  });

  it('finds the instant of a local time, 24:00 being the next midnight', () => {
    assert.deepEqual(
      zonedInstant('2026-11-24', hm(9), 'Europe/Moscow'),
      new Date('2026-11-24T09:00:00+03:00'),
    );
    assert.deepEqual(
      zonedInstant('2026-11-24', hm(24), 'Europe/Moscow'),
      new Date('2026-11-25T00:00:00+03:00'),
    );
  });

  it('keeps local times across a daylight-saving change', () => {
    // 25 October 2026: Berlin goes back from +02:00 to +01:00 at 03:00.
    assert.deepEqual(
      zonedInstant('2026-10-25', hm(12), 'Europe/Berlin'),
      new Date('2026-10-25T12:00:00+01:00'),
    );
    assert.equal(zonedParts(new Date('2026-10-25T12:00:00+01:00'), 'Europe/Berlin').timeOfDayMs, hm(12));
    // 29 March 2026: 02:30 does not exist in Berlin; it is the instant after the gap.
    assert.deepEqual(
      zonedInstant('2026-03-29', hm(2, 30), 'Europe/Berlin'),
      new Date('2026-03-29T03:30:00+02:00'),
    );
  });

  it('writes an instant with the zone offset, to the second', () => {
    const at = new Date('2026-12-30T14:55:00.750Z');
    assert.equal(formatZoned(at, 'Europe/Moscow'), '2026-12-30T17:55:00+03:00');
    assert.equal(formatZoned(at, 'America/New_York'), '2026-12-30T09:55:00-05:00');
    assert.equal(formatZoned(at, 'Asia/Kathmandu'), '2026-12-30T20:40:00+05:45');
  });

  it('counts calendar days without a zone', () => {
    assert.equal(weekdayOf('2026-11-24'), 'tue');
    assert.equal(addDays('2026-12-30', 3), '2027-01-02');
    assert.equal(addDays('2026-03-29', -1), '2026-03-28');
  });

  it('refuses an unknown zone by name', () => {
    assert.equal(isValidTimeZone('Europe/Enskgrad'), false);
    assert.equal(isValidTimeZone('Asia/Yekaterinburg'), true);
    assert.throws(
      () => zonedParts(new Date('2026-11-24T10:00:00Z'), 'Europe/Enskgrad'),
      (err: unknown) => isOtklikError(err, 'VALIDATION_FAILED') && /Europe\/Enskgrad/.test(err.message),
    );
  });
});
