import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProductionCalendar } from '../kb/hours.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded, seedSources } from '../kb/seed.js';
import { importKb } from '../kb/transfer.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { seedRegistered } from '../test/support/inquiries.js';
import { agencyAnswerDeadline, inquiryDispatchDeadline } from './deadlines.js';
import { inquiriesOfCall } from './register.js';

/**
 * Inquiry deadlines by the regional agreement, counted on the production calendar the knowledge base holds:
 * the shipped region's (kb/seed/region.yaml), read through the KB as the line reads it.
 */
const msk = (local: string) => new Date(`${local}+03:00`);

describe('inquiry deadlines', () => {
  let db: TestDb;
  let calendar: ProductionCalendar;

  before(async () => {
    db = await openTestDb('pglite');
    await ensureSeeded(db.sql);
    calendar = await createKnowledgeBase(db.sql).calendar();
  });
  after(async () => db?.drop());

  const due = (local: string, opts?: { workingDays?: number }, tz = 'Europe/Moscow') =>
    agencyAnswerDeadline(msk(local), calendar, tz, opts);

  /** Registers a question as the voice bot's inquiry step does, received at `local` Moscow time. */
  async function register(local: string) {
    const registered = await seedRegistered(db.sql, {
      question: 'когда придёт ответ',
      receivedAt: msk(local),
    });
    return { registered, stored: (await inquiriesOfCall(db.sql, registered.callId))[0]! };
  }

  it('gives one working day for a question received before 16:00', () => {
    assert.deepEqual(due('2026-11-24T10:00'), msk('2026-11-25T10:00'));
    assert.deepEqual(due('2026-11-27T15:59'), msk('2026-11-30T15:59'));
  });

  it('gives 16:00 of the next working day for a question received after 16:00', () => {
    assert.deepEqual(due('2026-11-24T16:30'), msk('2026-11-25T16:00'));
    assert.deepEqual(due('2026-11-27T17:00'), msk('2026-11-30T16:00'));
  });

  it('gives 16:00 of the next working day for a question received on a day off', () => {
    assert.deepEqual(due('2026-11-28T12:00'), msk('2026-11-30T16:00'));
    assert.deepEqual(due('2026-01-03T11:00'), msk('2026-01-12T16:00'));
  });

  it('carries deadlines across the New Year holidays', () => {
    assert.deepEqual(due('2025-12-30T16:30'), msk('2026-01-12T16:00'));
    assert.deepEqual(due('2026-12-30T15:00'), msk('2027-01-11T15:00'));
    assert.deepEqual(due('2026-12-30T17:55'), msk('2027-01-11T16:00'));
  });

  it('never allows more than 5 working days', () => {
    const five = msk('2026-12-01T10:00');
    assert.deepEqual(due('2026-11-24T10:00', { workingDays: 5 }), five);
    assert.deepEqual(due('2026-11-24T10:00', { workingDays: 30 }), five);
  });

  it('counts the 16:00 cut-off in the given time zone', () => {
    // 15:30 Moscow is 17:30 in Yekaterinburg: after the cut-off there.
    assert.deepEqual(due('2026-11-24T15:30', {}, 'Asia/Yekaterinburg'), new Date('2026-11-25T16:00+05:00'));
  });

  it('dispatches an inquiry to the agency within 15 minutes', () => {
    assert.deepEqual(inquiryDispatchDeadline(msk('2026-11-24T23:50')), msk('2026-11-25T00:05'));
  });

  it('registers an inquiry with its agency deadline past a holiday of the stored calendar', async () => {
    // Tuesday 3 November 2026 is a short pre-holiday day; Wednesday the 4th is the Day of National Unity.
    const { registered, stored } = await register('2026-11-03T10:00');
    assert.deepEqual(registered.answerDueAt, msk('2026-11-05T10:00'));
    assert.deepEqual(registered.dispatchDueAt, msk('2026-11-03T10:15'));
    assert.equal(registered.timezone, 'Europe/Moscow');
    assert.deepEqual(stored.answerDueAt, msk('2026-11-05T10:00'));
    assert.deepEqual(stored.dispatchDueAt, msk('2026-11-03T10:15'));
  });

  it('follows a holiday the knowledge base gains: the deadline skips the new day off', async () => {
    assert.deepEqual((await register('2026-11-24T10:00')).registered.answerDueAt, msk('2026-11-25T10:00'));
    // The region declares Wednesday 25 November 2026 a day off; the editors import the calendar.
    const holiday = '  - { date: 2026-11-25, kind: holiday, title: "Региональный выходной" }';
    const sources = seedSources().map((s) =>
      s.name.endsWith('region.yaml')
        ? { ...s, text: s.text.replace(/^(\s*- \{ date: 2026-11-04,.*)$/m, `$1\n${holiday}`) }
        : s,
    );
    assert.ok(
      sources.some((s) => s.text.includes('Региональный выходной')),
      'the holiday went into region.yaml',
    );
    await importKb(db.sql, sources);
    const { registered, stored } = await register('2026-11-24T10:00');
    assert.deepEqual(registered.answerDueAt, msk('2026-11-26T10:00'));
    assert.deepEqual(stored.answerDueAt, msk('2026-11-26T10:00'));
  });
});
