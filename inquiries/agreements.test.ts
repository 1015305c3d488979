import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { adminArea, build } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser } from '../admin/users.js';
import { isOtklikError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import type { ProductionCalendar } from '../kb/hours.js';
import { IRKUTSK_TERMS } from '../kb/inquiry-terms.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { exportKb, importKb } from '../kb/transfer.js';
import { sampleAgreements, seedWithAgreements } from '../test/support/agreements.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { seedRegistered } from '../test/support/inquiries.js';
import { answerDeadline } from './deadlines.js';
import { inquiryMail } from './dispatch.js';
import { extensionsOf } from './extension.js';
import { inquiriesOfRequest, registerInquiry } from './register.js';

/**
 * Inquiries by each agency's agreement (Irkutsk 10.1-10.3, Yakutia's model agreement): the terms live in the
 * knowledge base (a region default, per-agency overrides, YAML in and out), the deadlines follow them on the
 * production calendar, one question goes to several agencies, and an agency's extension stops at the maximum.
 */
const msk = (local: string) => new Date(`${local}+03:00`);
const password = 'пароль-оператора';

describe('the agency mail states the deadline in the region’s time zone', () => {
  it('writes Yakutsk local time with its offset', () => {
    const mail = inquiryMail(
      {
        id: 7,
        question: 'вопрос',
        callback_number: '+79990001122',
        received_at: new Date('2026-11-24T10:00:00+09:00'),
        answer_due_at: new Date('2026-11-27T16:00:00+09:00'),
        topic_title: null,
        agency_name: 'Министерство',
        agency_email: 'a@example.ru',
      },
      'Asia/Yakutsk',
    );
    assert.match(mail.subject, /ответ до 27\.11\.2026, 16:00:00$/);
    assert.match(mail.text, /Просим направить ответ до 27\.11\.2026, 16:00:00 \(местное время, UTC\+09:00\)/);
    assert.match(mail.text, /Получено: 24\.11\.2026, 10:00:00 \(местное время, UTC\+09:00\)/);
  });
});

for (const backend of backends) {
  describe(`inquiries per agreement (${backend})`, () => {
    let db: TestDb;
    let calendar: ProductionCalendar;
    let app: TypedApp;
    let base: string;
    let token: string;
    let clock = msk('2026-11-24T12:00');

    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      calendar = await createKnowledgeBase(db.sql).calendar();
      await addUser(db.sql, { login: 'orlova', role: 'operator', name: 'Орлова А. В.', password });
      app = await build({
        sql: db.sql,
        log: silentLogger,
        plugins: [adminArea(inquiriesPlugin, { sql: db.sql, now: () => clock })],
      });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'orlova', password }),
      });
      token = ((await res.json()) as { token: string }).token;
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it('ships the Irkutsk rule as the region default, for every agency without its own agreement', async () => {
      const kb = createKnowledgeBase(db.sql);
      assert.deepEqual(await kb.inquiryTerms(), IRKUTSK_TERMS);
      assert.deepEqual(await kb.inquiryTerms('health_hotline'), IRKUTSK_TERMS);
      assert.deepEqual(await kb.inquiryTerms('no_such_agency'), IRKUTSK_TERMS);
      // Registered after 16:00 on a Friday: by 16:00 on Monday; dispatch within 15 minutes.
      const r = await seedRegistered(db.sql, { question: 'пособие', receivedAt: msk('2026-11-27T17:00') });
      assert.deepEqual(r.answerDueAt, msk('2026-11-30T16:00'));
      assert.deepEqual(r.dispatchDueAt, msk('2026-11-27T17:15'));
      assert.equal(r.requestId, r.id);
    });

    it('imports agencies’ own agreements, reads them merged over the region and exports them back', async () => {
      await importKb(db.sql, seedWithAgreements(sampleAgreements));
      const kb = createKnowledgeBase(db.sql);
      assert.deepEqual(await kb.inquiryTerms('health_hotline'), {
        dispatchMinutes: 15,
        answerUnit: 'calendar_days',
        answerAmount: 3,
        cutoff: null,
        maxAmount: 10,
      });
      assert.deepEqual(await kb.inquiryTerms('commissariat_duty'), {
        dispatchMinutes: 30,
        answerUnit: 'hours',
        answerAmount: 24,
        cutoff: '16:00',
        maxAmount: 72,
      });
      assert.deepEqual(await kb.inquiryTerms('social_support'), IRKUTSK_TERMS);
      const exported = await exportKb(db.sql);
      assert.match(exported, /inquiry_terms:\n {2}dispatch_minutes: 15\n {2}answer_unit: working_days/);
      assert.match(
        exported,
        /answer_unit: calendar_days\n\s+answer_amount: 3\n\s+cutoff: null\n\s+max_amount: 10/,
      );
      await importKb(db.sql, [{ name: 'export.yaml', text: exported }]);
      assert.equal(await exportKb(db.sql), exported, 'export → import → export is the same text');
    });

    it('refuses an agreement that is not one, naming the field, and stores nothing', async () => {
      const refused = async (terms: Record<string, string[]>, expected: RegExp) => {
        await assert.rejects(importKb(db.sql, seedWithAgreements(terms)), (err) => {
          assert.ok(isOtklikError(err) && err.code === 'VALIDATION_FAILED');
          assert.match(err.message, expected);
          return true;
        });
      };
      await refused(
        { health_hotline: ['answer_unit: calendar_days', 'answer_amount: 12', 'max_amount: 10'] },
        /region\.yaml:\d+ agencies\[0\]\.inquiry_terms\.max_amount: answer_amount 12 exceeds max_amount 10/,
      );
      await refused(
        { social_support: ['answer_unit: weeks'] },
        /region\.yaml:\d+ agencies\[\d\]\.inquiry_terms\.answer_unit: answer_unit is one of hours, calendar_days, working_days/,
      );
      await refused(
        { social_support: ['cutoff: "25:00"'] },
        /agencies\[\d\]\.inquiry_terms\.cutoff: expected a time "HH:MM"/,
      );
      await refused(
        { social_support: ['answer_amount: 0'] },
        /inquiry_terms\.answer_amount: answer_amount must be at least 1/,
      );
      assert.equal(
        (await createKnowledgeBase(db.sql).inquiryTerms('health_hotline')).answerUnit,
        'calendar_days',
      );
    });

    it('counts calendar days, hours and working days across weekends, holidays and the cut-off', () => {
      const tz = 'Europe/Moscow';
      const days = (unit: 'calendar_days' | 'working_days', amount: number, cutoff: string | null) => ({
        answerUnit: unit,
        answerAmount: amount,
        cutoff,
        maxAmount: 10,
      });
      // Yakutia: 3 calendar days from Wednesday end on Saturday, moved to Monday (Civil Code art. 193).
      assert.deepEqual(
        answerDeadline(msk('2026-11-25T10:00'), days('calendar_days', 3, null), calendar, tz),
        msk('2026-11-30T10:00'),
      );
      // Over the New Year: 31 December and 1-8 January are holidays, 9-10 January a weekend.
      assert.deepEqual(
        answerDeadline(msk('2026-12-28T17:30'), days('calendar_days', 3, null), calendar, tz),
        msk('2027-01-11T17:30'),
      );
      // With a cut-off, a question after it is due at the cut-off time.
      assert.deepEqual(
        answerDeadline(msk('2026-11-24T17:00'), days('calendar_days', 2, '16:00'), calendar, tz),
        msk('2026-11-26T16:00'),
      );
      // Hours run through the weekend and ignore the cut-off.
      const hours = { answerUnit: 'hours' as const, answerAmount: 24, cutoff: '16:00', maxAmount: 72 };
      assert.deepEqual(answerDeadline(msk('2026-11-28T22:00'), hours, calendar, tz), msk('2026-11-29T22:00'));
      // Working days: the short day before 4 November after the cut-off, by 16:00 on the 5th.
      assert.deepEqual(
        answerDeadline(msk('2026-11-03T17:00'), days('working_days', 1, '16:00'), calendar, tz),
        msk('2026-11-05T16:00'),
      );
      // Without a cut-off, a question on a Saturday is due at its time of day on the second working day.
      assert.deepEqual(
        answerDeadline(msk('2026-11-28T11:00'), days('working_days', 2, null), calendar, tz),
        msk('2026-12-01T11:00'),
      );
      // Never past the maximum.
      assert.deepEqual(
        answerDeadline(
          msk('2026-11-24T10:00'),
          { ...days('working_days', 9, '16:00'), maxAmount: 5 },
          calendar,
          tz,
        ),
        msk('2026-12-01T10:00'),
      );
    });

    it('sends one question to two agencies, adds a third, extends one term and refuses one past the maximum', async () => {
      const first = await seedRegistered(db.sql, { question: 'x', receivedAt: msk('2026-11-24T09:00') });
      const registered = await registerInquiry(db.sql, {
        callId: first.callId,
        question: 'Ребёнку отказали в записи к врачу, куда обращаться за пособием на лечение',
        intentId: null,
        topicId: 'social',
        agencyId: null,
        agencyIds: ['social_support', 'health_hotline'],
        callbackNumber: '+79990001122',
        receivedAt: msk('2026-11-24T10:00'),
      });
      const [social, health] = registered.inquiries;
      assert.equal(registered.inquiries.length, 2);
      assert.equal(social!.requestId, social!.id);
      assert.equal(health!.requestId, social!.id);
      assert.deepEqual(social!.answerDueAt, msk('2026-11-25T10:00'), 'Irkutsk: one working day');
      assert.deepEqual(health!.answerDueAt, msk('2026-11-27T10:00'), 'Yakutia: three calendar days');

      // Staff find a third competent agency at 12:00: its own term (24 hours) counts from then.
      clock = msk('2026-11-24T12:00');
      const added = await post(`/api/inquiries/${health!.id}/agencies`, { agencyId: 'commissariat_duty' });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.equal(added.body.requestId, social!.id);
      assert.equal(added.body.answerDueAt, msk('2026-11-25T12:00').toISOString());
      const again = await post(`/api/inquiries/${social!.id}/agencies`, { agencyId: 'commissariat_duty' });
      assert.equal(again.status, 409);
      const rows = await inquiriesOfRequest(db.sql, social!.id);
      assert.deepEqual(
        rows.map((r) => [r.agencyId, r.dispatchDueAt.toISOString()]),
        [
          ['social_support', msk('2026-11-24T10:15').toISOString()],
          ['health_hotline', msk('2026-11-24T10:15').toISOString()],
          ['commissariat_duty', msk('2026-11-24T12:30').toISOString()],
        ],
      );

      // The health agency asks for five more days: 8 calendar days from the 24th, Wednesday 2 December.
      clock = msk('2026-11-25T15:00');
      const extended = await post(`/api/inquiries/${health!.id}/extensions`, {
        amount: 5,
        reason: 'Запрошены сведения в районной больнице',
      });
      assert.equal(extended.status, 200, JSON.stringify(extended.body));
      const [record] = await extensionsOf(db.sql, health!.id);
      assert.deepEqual(
        { ...record, id: 0 },
        {
          id: 0,
          inquiryId: health!.id,
          amount: 5,
          unit: 'calendar_days',
          reason: 'Запрошены сведения в районной больнице',
          recordedBy: 'orlova',
          recordedAt: msk('2026-11-25T15:00'),
          oldDueAt: msk('2026-11-27T10:00'),
          newDueAt: msk('2026-12-02T10:00'),
        },
      );
      assert.deepEqual(
        (await inquiriesOfRequest(db.sql, social!.id))[1]!.answerDueAt,
        msk('2026-12-02T10:00'),
      );

      // Three more would make 11 of at most 10 calendar days: refused in Russian, nothing changes.
      const past = await post(`/api/inquiries/${health!.id}/extensions`, { amount: 3, reason: 'Ещё запрос' });
      assert.equal(past.status, 400);
      assert.equal(past.body.code, 'VALIDATION_FAILED');
      assert.equal(
        past.body.message,
        'Срок нельзя продлить на 3 календарных дня: по соглашению он не больше 10 календарных дней, уже установлено 8 календарных дней (можно продлить ещё не более чем на 2 календарных дня)',
      );
      assert.equal((await extensionsOf(db.sql, health!.id)).length, 1);
      // Irkutsk's five working days: four more is the most, then nothing.
      assert.equal(
        (await post(`/api/inquiries/${social!.id}/extensions`, { amount: 4, reason: 'Проверка' })).status,
        200,
      );
      const none = await post(`/api/inquiries/${social!.id}/extensions`, { amount: 1, reason: 'Проверка' });
      assert.match(
        String(none.body.message),
        /не больше 5 рабочих дней, уже установлено 5 рабочих дней \(продлевать больше некуда\)/,
      );
      assert.deepEqual(
        (await inquiriesOfRequest(db.sql, social!.id))[0]!.answerDueAt,
        msk('2026-12-01T10:00'),
      );

      const audit = await db.sql.query<{ action: string; login: string; object: string }>(
        `SELECT action, login, object FROM audit_log WHERE action IN ('inquiry.agency_added', 'inquiry.extended') ORDER BY id`,
      );
      assert.deepEqual(
        audit.map((a) => [a.action, a.login, a.object]),
        [
          ['inquiry.agency_added', 'orlova', String(added.body.id)],
          ['inquiry.extended', 'orlova', String(health!.id)],
          ['inquiry.extended', 'orlova', String(social!.id)],
        ],
      );
    });
  });
}
