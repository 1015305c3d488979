import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ErrorCode, isOtklikError } from '../core/errors.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { createKbEditor } from './editor.js';
import { startIncidentWithTopic } from './incident-topic.js';
import { listIncidents } from './incidents.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { addOutcome, changeOutcome, listOutcomes } from './outcomes.js';
import { createRefsEditor, type RefsEditor } from './refs-editor.js';
import { ensureSeeded } from './seed.js';
import { readKbDocument } from './store-io.js';

/** The message of a refused save (the code checked). */
async function refused(work: Promise<unknown>, code: ErrorCode = 'VALIDATION_FAILED'): Promise<string> {
  try {
    await work;
  } catch (err) {
    assert.ok(isOtklikError(err, code), String(err));
    return err.message;
  }
  assert.fail('expected a refusal');
}

// 2026-12-08 is a Tuesday, 2026-12-12 a Saturday; 11:00 in Moscow.
const TUESDAY = new Date('2026-12-08T11:00:00+03:00');
const SATURDAY = new Date('2026-12-12T11:00:00+03:00');

for (const backend of backends) {
  describe(`reference data of the knowledge studio on ${backend}`, () => {
    let db: TestDb;
    let refs: RefsEditor;
    before(async () => {
      db = await openTestDb(backend);
      await ensureSeeded(db.sql);
      refs = createRefsEditor(db.sql);
    });
    after(() => db?.drop());

    const hotline = async (at: Date) => (await refs.agencies(at)).find((a) => a.id === 'health_hotline')!;

    it("changes an agency's contacts and refuses a bad e-mail, number or schedule with the reason", async () => {
      await refs.saveAgency('health_hotline', {
        name: 'Горячая линия министерства здравоохранения',
        participant: 'minzdrav',
        contactPerson: 'Смирнова Ольга Петровна',
        email: 'smirnova@example.ru',
        forwardNumber: '+7 000 000-00-77',
        schedule: 'office',
      });
      const a = await hotline(TUESDAY);
      assert.deepEqual(
        [a.contactPerson, a.email, a.forwardNumber],
        ['Смирнова Ольга Петровна', 'smirnova@example.ru', '+7 000 000-00-77'],
      );
      const bad = await refused(
        refs.saveAgency('health_hotline', {
          ...a,
          email: 'не-почта',
          forwardNumber: 'позвонить',
          schedule: 'office',
        }),
      );
      assert.match(bad, /Электронная почта — ожидается адрес вида name@example\.ru/);
      assert.match(bad, /Номер переадресации — ожидается номер/);
      assert.match(
        await refused(refs.saveAgency('health_hotline', { ...a, schedule: 'nowhere' })),
        /Расписание — расписания «nowhere» нет в базе знаний/,
      );
      assert.equal((await hotline(TUESDAY)).email, 'smirnova@example.ru');
    });

    it('saves weekly hours and refuses an interval it cannot read', async () => {
      await refs.saveSchedule('office', {
        title: 'Пн-Пт 9:00-18:00',
        weekly: {
          mon: ['09:00-18:00'],
          tue: ['09:00-18:00'],
          wed: ['09:00-18:00'],
          thu: ['09:00-18:00'],
          fri: ['09:00-18:00'],
        },
      });
      const office = (await refs.schedules()).find((s) => s.id === 'office')!;
      assert.deepEqual(office.weekly.fri, ['09:00-18:00']);
      assert.equal(office.observeCalendar, true);
      assert.match(
        await refused(refs.saveSchedule('office', { title: 'x', weekly: { mon: ['девять-шесть'] } })),
        /Часы работы \(понедельник\) — «девять-шесть»: ожидается интервал вида 09:00-18:00/,
      );
      assert.match(await refused(refs.saveSchedule('empty', { title: 'Пусто' })), /укажите часы/);
    });

    it('a holiday closes the agency that day, a working Saturday opens it, and removing them undoes it', async () => {
      assert.equal((await hotline(TUESDAY)).open, true);
      assert.equal((await hotline(SATURDAY)).open, false);
      await refs.saveCalendarDay('2026-12-08', { kind: 'holiday', title: 'Региональный праздник' });
      await refs.saveCalendarDay('2026-12-12', {
        kind: 'working_day',
        title: 'Рабочая суббота',
        worksAs: 'tue',
      });
      assert.equal((await hotline(TUESDAY)).open, false);
      assert.equal((await hotline(SATURDAY)).open, true);
      const kb = createKnowledgeBase(db.sql);
      assert.equal((await kb.agencyOpen('health_hotline', TUESDAY)).open, false);
      const days = await refs.calendar(2026);
      assert.deepEqual(
        days.filter((d) => d.date >= '2026-12-08' && d.date <= '2026-12-12'),
        [
          { date: '2026-12-08', kind: 'holiday', title: 'Региональный праздник', worksAs: null },
          { date: '2026-12-12', kind: 'working_day', title: 'Рабочая суббота', worksAs: 'tue' },
        ],
      );
      assert.match(
        await refused(refs.saveCalendarDay('2026-12-09', { kind: 'working_day' })),
        /2026-12-09 — среда: рабочим по переносу может быть только суббота или воскресенье/,
      );
      assert.match(await refused(refs.saveCalendarDay('2026-02-30', { kind: 'holiday' })), /ожидается дата/);
      await refs.removeCalendarDay('2026-12-08');
      await refs.removeCalendarDay('2026-12-12');
      assert.equal((await hotline(TUESDAY)).open, true);
      await refused(refs.removeCalendarDay('2026-12-08'), 'NOT_FOUND');
    });

    it('adds, renames and retires an outcome code, and never retires the last one offered', async () => {
      await addOutcome(db.sql, { id: 'duplicate', title: 'Повторное обращение' });
      assert.match(
        await refused(addOutcome(db.sql, { id: 'duplicate', title: 'Ещё раз' }), 'CONFLICT'),
        /уже занят итогом «Повторное обращение»/,
      );
      await refused(addOutcome(db.sql, { id: 'Плохой код', title: 'x' }));
      await changeOutcome(db.sql, 'duplicate', { title: 'Повторный звонок' });
      await changeOutcome(db.sql, 'duplicate', { retired: true });
      const offered = await listOutcomes(db.sql);
      assert.ok(!offered.some((o) => o.id === 'duplicate'));
      const all = await listOutcomes(db.sql, { withRetired: true });
      assert.deepEqual(
        all.filter((o) => o.id === 'duplicate').map((o) => [o.title, o.retired]),
        [['Повторный звонок', true]],
      );
      for (const o of offered.slice(1)) await changeOutcome(db.sql, o.id, { retired: true });
      assert.match(
        await refused(changeOutcome(db.sql, offered[0]!.id, { retired: true }), 'CONFLICT'),
        /последний действующий итог/,
      );
      for (const o of offered) await changeOutcome(db.sql, o.id, { retired: false });
    });

    it('an incident started with its topic, intent and answer goes on the air when the answer is approved', async () => {
      const kb = createKnowledgeBase(db.sql);
      const startsAt = new Date('2026-12-08T09:00:00+03:00');
      const input = {
        title: 'Отключение отопления',
        announcement: 'В Северном районе отключено отопление, аварийные бригады работают.',
        level: 'regional' as const,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 24 * 3_600_000),
        topic: { id: 'heating', title: 'Теплоснабжение', agency: 'health_hotline' },
        intent: {
          id: 'heating.outage',
          title: 'Когда дадут отопление',
          phrases: ['когда дадут отопление', 'нет отопления'],
        },
        answer: { speech: 'Отопление дадут до вечера.', screen: 'Отопление восстановят до 20:00.' },
        author: 'sidorova',
      };
      // An intent id that is taken: nothing is written, not even the new topic.
      await refused(
        startIncidentWithTopic(db.sql, { ...input, intent: { ...input.intent, id: 'health.covid' } }),
        'CONFLICT',
      );
      assert.equal(await kb.topic('heating'), null);
      assert.match(
        await refused(startIncidentWithTopic(db.sql, { ...input, topic: { id: 'heating', title: 'Т' } })),
        /укажите уполномоченное лицо/,
      );

      const made = await startIncidentWithTopic(db.sql, input);
      const at = new Date('2026-12-08T10:00:00+03:00');
      assert.deepEqual(
        (await listIncidents(db.sql, at))
          .filter((i) => i.id === made.incidentId)
          .map((i) => [i.state, i.active]),
        [['awaiting_approval', false]],
      );
      const titles = async () => (await kb.activeIncidents(at)).map((i) => i.title);
      assert.ok(!(await titles()).includes('Отключение отопления'));
      assert.deepEqual((await kb.intent('heating.outage'))?.phrases, [
        'когда дадут отопление',
        'нет отопления',
      ]);
      const editor = createKbEditor(db.sql, { now: () => at });
      const [v] = await editor.versions('heating.outage');
      assert.equal(v?.status, 'pending_approval');
      assert.equal(v?.submittedBy, 'sidorova');
      // The supervisor who wrote it cannot approve it; the agency's approver does.
      await refused(
        editor.approve('heating.outage', 1, { login: 'sidorova', agency: 'minzdrav' }),
        'APPROVER_IS_AUTHOR',
      );
      await editor.approve('heating.outage', 1, { login: 'ivanov', agency: 'minzdrav' });
      assert.ok((await titles()).includes('Отключение отопления'));
      assert.equal(
        (await listIncidents(db.sql, at)).find((i) => i.id === made.incidentId)?.state,
        'announced',
      );
      assert.equal((await kb.approvedAnswer('heating.outage'))?.screen, 'Отопление восстановят до 20:00.');
      const doc = await readKbDocument(db.sql);
      assert.equal(doc.incidents.find((i) => i.id === made.incidentId)?.awaits_intent, 'heating.outage');
    });
  });
}
