import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { type KbDocument, kbDocumentSchema } from './document.js';
import { type CalendarDayKind, isOpen, toCalendar } from './hours.js';
import { checkReferences } from './references.js';
import { readKbDocument } from './store-io.js';
import { isValidTimeZone, parseClock, type Weekday, weekdayOf, weekdays } from './zoned-time.js';

/**
 * The knowledge studio's reference data, edited one item at a time: agencies (their contacts, participant
 * and schedule), schedules (weekly hours, 24/7, whether the production calendar applies) and the days of the
 * production calendar. Each save is checked twice before anything is stored: the item itself, with a reason
 * in Russian for each problem (`Электронная почта: ожидается адрес вида name@example.ru`), and then the whole
 * KB as it would be after the save, held to the rules of an import (document.ts, references.ts) as
 * content-editor.ts does for flows; a problem the save brings is refused (VALIDATION_FAILED, every problem
 * named) and nothing is stored. One transaction per save, serialized on the KB's meta row.
 */
export interface AgencyInput {
  name: string;
  participant?: string | null;
  forwardNumber?: string | null;
  contactPerson?: string | null;
  email?: string | null;
  schedule: string;
}

export interface AgencyListing extends Required<AgencyInput> {
  id: string;
  scheduleTitle: string;
  /** Whether the agency works at the instant asked for (its schedule and the production calendar). */
  open: boolean;
  /** When that changes next, or null (24/7, or not within a year). */
  nextChange: Date | null;
}

export interface ScheduleInput {
  title: string;
  alwaysOpen?: boolean;
  observeCalendar?: boolean;
  /** IANA zone; null: the region's. */
  timezone?: string | null;
  /** Intervals "HH:MM-HH:MM" per weekday (mon..sun). */
  weekly?: Partial<Record<Weekday, string[]>>;
}

export interface ScheduleListing extends Required<ScheduleInput> {
  id: string;
}

export interface CalendarDayInput {
  kind: CalendarDayKind;
  title?: string;
  /** For a working Saturday or Sunday: the weekday whose hours it works (mon..fri); null: Monday's. */
  worksAs?: Weekday | null;
}

export interface CalendarDayListing {
  date: string;
  kind: CalendarDayKind;
  title: string;
  worksAs: Weekday | null;
}

export interface RefsEditor {
  agencies(at: Date): Promise<AgencyListing[]>;
  saveAgency(id: string, input: AgencyInput): Promise<void>;
  schedules(): Promise<ScheduleListing[]>;
  saveSchedule(id: string, input: ScheduleInput): Promise<void>;
  participants(): Promise<{ id: string; name: string }[]>;
  /** Calendar days, of one year when given. */
  calendar(year?: number): Promise<CalendarDayListing[]>;
  saveCalendarDay(date: string, input: CalendarDayInput): Promise<void>;
  removeCalendarDay(date: string): Promise<void>;
}

const idPattern = /^[a-z0-9_.-]+$/;
const phonePattern = /^\+?[0-9 ()-]{3,24}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const workdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
export const weekdayRu: Record<Weekday, string> = {
  mon: 'понедельник',
  tue: 'вторник',
  wed: 'среда',
  thu: 'четверг',
  fri: 'пятница',
  sat: 'суббота',
  sun: 'воскресенье',
};

/** Collects the reasons an item is refused; `done` throws them all at once. */
class Problems {
  readonly list: { field: string; message: string }[] = [];
  add(field: string, message: string) {
    this.list.push({ field, message });
  }
  done(what: string) {
    if (this.list.length === 0) return;
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${what}: ${this.list.map((p) => `${p.field} — ${p.message}`).join('; ')}`,
      { details: { issues: this.list } },
    );
  }
}

const blank = (v: string | null | undefined) => v == null || v.trim() === '';
const clean = (v: string | null | undefined) => (blank(v) ? null : v!.trim());

function checkId(p: Problems, id: string, what: string) {
  if (!idPattern.test(id)) p.add('Код', `${what} — латинские строчные буквы, цифры, «_», «.», «-»: «${id}»`);
}

function validDate(date: string): boolean {
  if (!datePattern.test(date)) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(date);
}

function intervalProblem(text: string): string | null {
  const [from, to, ...rest] = text.split('-');
  if (rest.length > 0 || to === undefined) return `«${text}»: ожидается интервал вида 09:00-18:00`;
  try {
    if (parseClock(from!.trim()) === parseClock(to.trim())) return `«${text}»: начало и конец совпадают`;
  } catch {
    return `«${text}»: ожидается интервал вида 09:00-18:00`;
  }
  return null;
}

/**
 * Runs one save: the item's own checks passed, `edit` changes the KB document in memory and the whole is held
 * to the import's rules; only a save that brings no new problem is stored (`store`), then `after` runs in the
 * same transaction.
 */
async function checkedSave(
  sql: Sql,
  what: string,
  edit: (doc: KbDocument) => void,
  store: (tx: Sql) => Promise<void>,
): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM kb_meta WHERE id = 1 FOR UPDATE');
    const before = await readKbDocument(tx);
    const issuesOf = (doc: KbDocument): string[] => {
      const parsed = kbDocumentSchema.safeParse({ ...doc, flows: [] });
      if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      return checkReferences({ ...parsed.data, flows: doc.flows }).map(
        (i) => `${i.path.join('.')}: ${i.message}`,
      );
    };
    const known = new Set(issuesOf(before));
    const after = structuredClone(before);
    edit(after);
    const fresh = issuesOf(after).filter((i) => !known.has(i));
    if (fresh.length > 0)
      throw new OtklikError(
        'VALIDATION_FAILED',
        `${what}: база знаний не проходит проверку (${fresh.join('; ')})`,
        {
          details: { issues: fresh },
        },
      );
    await store(tx);
  });
}

const upsert = <T extends { id: string }>(list: T[], item: T) => {
  const at = list.findIndex((x) => x.id === item.id);
  if (at >= 0) list[at] = { ...list[at], ...item };
  else list.push(item);
};

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

export function createRefsEditor(sql: Sql): RefsEditor {
  const scheduleRows = async () => {
    const rows = await sql.query<Row>('SELECT * FROM schedules ORDER BY id COLLATE "C"');
    return rows.map(
      (r): ScheduleListing => ({
        id: String(r.id),
        title: String(r.title),
        alwaysOpen: Boolean(r.always_open),
        observeCalendar: Boolean(r.observe_calendar),
        timezone: str(r.timezone),
        weekly: (r.weekly ?? {}) as ScheduleListing['weekly'],
      }),
    );
  };

  const calendarRows = async (year?: number) => {
    const rows = await sql.query<Row>(
      `SELECT day::text AS day, kind, title, works_as FROM calendar_days
        WHERE $1::int IS NULL OR EXTRACT(YEAR FROM day) = $1 ORDER BY day`,
      [year ?? null],
    );
    return rows.map(
      (r): CalendarDayListing => ({
        date: String(r.day),
        kind: r.kind as CalendarDayKind,
        title: String(r.title),
        worksAs: (r.works_as as Weekday | null) ?? null,
      }),
    );
  };

  return {
    async agencies(at) {
      const [meta] = await sql.query<{ timezone: string }>('SELECT timezone FROM kb_meta WHERE id = 1');
      const schedules = new Map((await scheduleRows()).map((s) => [s.id, s]));
      const calendar = toCalendar((await calendarRows()).map((d) => ({ ...d })));
      const rows = await sql.query<Row>('SELECT * FROM agencies ORDER BY name, id');
      return rows.map((r) => {
        const s = schedules.get(String(r.schedule_id));
        const state = s
          ? isOpen(
              { ...s, timezone: s.timezone ?? meta?.timezone ?? 'Europe/Moscow' },
              s.observeCalendar ? calendar : new Map(),
              at,
            )
          : { open: false, nextChange: null };
        return {
          id: String(r.id),
          name: String(r.name),
          participant: str(r.participant_id),
          forwardNumber: str(r.forward_number),
          contactPerson: str(r.contact_person),
          email: str(r.email),
          schedule: String(r.schedule_id),
          scheduleTitle: s?.title ?? '',
          open: state.open,
          nextChange: state.nextChange,
        };
      });
    },

    async saveAgency(id, input) {
      const p = new Problems();
      checkId(p, id, 'Код уполномоченного лица');
      if (blank(input.name)) p.add('Название', 'не может быть пустым');
      if (!blank(input.email) && !emailPattern.test(input.email!.trim()))
        p.add('Электронная почта', `ожидается адрес вида name@example.ru, а не «${input.email}»`);
      if (!blank(input.forwardNumber) && !phonePattern.test(input.forwardNumber!.trim()))
        p.add('Номер переадресации', `ожидается номер вида +7 000 000-00-01, а не «${input.forwardNumber}»`);
      if (blank(input.schedule)) p.add('Расписание', 'не выбрано');
      else if ((await sql.query('SELECT 1 FROM schedules WHERE id = $1', [input.schedule])).length === 0)
        p.add('Расписание', `расписания «${input.schedule}» нет в базе знаний`);
      if (
        !blank(input.participant) &&
        (await sql.query('SELECT 1 FROM participants WHERE id = $1', [input.participant])).length === 0
      )
        p.add('Участник', `участника «${input.participant}» нет в базе знаний`);
      p.done(`Уполномоченное лицо «${id}» не сохранено`);
      const item = {
        id,
        name: input.name.trim(),
        participant: clean(input.participant),
        forward_number: clean(input.forwardNumber),
        contact_person: clean(input.contactPerson),
        email: clean(input.email),
        schedule: input.schedule,
      };
      await checkedSave(
        sql,
        `Уполномоченное лицо «${id}» не сохранено`,
        (doc) => upsert(doc.agencies, item as KbDocument['agencies'][number]),
        async (tx) => {
          await tx.query(
            `INSERT INTO agencies (id, name, participant_id, forward_number, contact_person, email, schedule_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, participant_id = EXCLUDED.participant_id,
               forward_number = EXCLUDED.forward_number, contact_person = EXCLUDED.contact_person,
               email = EXCLUDED.email, schedule_id = EXCLUDED.schedule_id`,
            [
              id,
              item.name,
              item.participant,
              item.forward_number,
              item.contact_person,
              item.email,
              item.schedule,
            ],
          );
        },
      );
    },

    schedules: scheduleRows,

    async saveSchedule(id, input) {
      const p = new Problems();
      checkId(p, id, 'Код расписания');
      if (blank(input.title)) p.add('Название', 'не может быть пустым');
      if (!blank(input.timezone) && !isValidTimeZone(input.timezone!.trim()))
        p.add('Часовой пояс', `неизвестный часовой пояс «${input.timezone}» (пример: Europe/Moscow)`);
      const weekly: Partial<Record<Weekday, string[]>> = {};
      for (const [day, list] of Object.entries(input.weekly ?? {})) {
        if (!weekdays.includes(day as Weekday)) {
          p.add('Часы работы', `неизвестный день недели «${day}»`);
          continue;
        }
        const intervals = (list ?? []).map((s) => s.trim()).filter((s) => s !== '');
        for (const iv of intervals) {
          const problem = intervalProblem(iv);
          if (problem) p.add(`Часы работы (${weekdayRu[day as Weekday]})`, problem);
        }
        if (intervals.length > 0) weekly[day as Weekday] = intervals;
      }
      const alwaysOpen = input.alwaysOpen === true;
      if (!alwaysOpen && Object.keys(weekly).length === 0)
        p.add('Часы работы', 'укажите часы хотя бы одного дня или отметьте «круглосуточно»');
      p.done(`Расписание «${id}» не сохранено`);
      const item = {
        id,
        title: input.title.trim(),
        always_open: alwaysOpen,
        timezone: clean(input.timezone),
        observe_calendar: input.observeCalendar !== false,
        weekly: Object.fromEntries(weekdays.filter((d) => weekly[d]).map((d) => [d, weekly[d]])),
      };
      await checkedSave(
        sql,
        `Расписание «${id}» не сохранено`,
        (doc) => upsert(doc.schedules, item),
        async (tx) => {
          await tx.query(
            `INSERT INTO schedules (id, title, always_open, timezone, observe_calendar, weekly)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb)
             ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, always_open = EXCLUDED.always_open,
               timezone = EXCLUDED.timezone, observe_calendar = EXCLUDED.observe_calendar, weekly = EXCLUDED.weekly`,
            [
              id,
              item.title,
              item.always_open,
              item.timezone,
              item.observe_calendar,
              JSON.stringify(item.weekly),
            ],
          );
        },
      );
    },

    async participants() {
      return sql.query<{ id: string; name: string }>('SELECT id, name FROM participants ORDER BY name, id');
    },

    calendar: calendarRows,

    async saveCalendarDay(date, input) {
      const p = new Problems();
      const what = `День ${date} не сохранён в производственном календаре`;
      if (!validDate(date)) {
        p.add('Дата', `ожидается дата ГГГГ-ММ-ДД, а не «${date}»`);
        p.done(what);
      }
      const weekday = weekdayOf(date);
      const weekend = weekday === 'sat' || weekday === 'sun';
      if (!['holiday', 'working_day', 'short_day'].includes(input.kind))
        p.add('Вид дня', `неизвестный вид дня «${input.kind}»`);
      if (input.kind === 'working_day' && !weekend)
        p.add(
          'Вид дня',
          `${date} — ${weekdayRu[weekday]}: рабочим по переносу может быть только суббота или воскресенье`,
        );
      const worksAs = input.kind === 'holiday' ? null : (input.worksAs ?? null);
      if (worksAs && !weekend)
        p.add('Работает как', 'указывается только для рабочей субботы или воскресенья');
      if (worksAs && !workdays.includes(worksAs))
        p.add('Работает как', `ожидается день с понедельника по пятницу`);
      p.done(what);
      const item = {
        date,
        kind: input.kind,
        title: (input.title ?? '').trim(),
        works_as: worksAs as 'mon' | null,
      };
      await checkedSave(
        sql,
        what,
        (doc) => {
          doc.calendar = [...doc.calendar.filter((d) => d.date !== date), item];
        },
        async (tx) => {
          await tx.query(
            `INSERT INTO calendar_days (day, kind, title, works_as) VALUES ($1::date, $2, $3, $4)
             ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title, works_as = EXCLUDED.works_as`,
            [date, item.kind, item.title, item.works_as],
          );
        },
      );
    },

    async removeCalendarDay(date) {
      if (!validDate(date))
        throw new OtklikError('VALIDATION_FAILED', `Дата — ожидается ГГГГ-ММ-ДД, а не «${date}»`);
      const rows = await sql.query('DELETE FROM calendar_days WHERE day = $1::date RETURNING day', [date]);
      if (rows.length === 0)
        throw new OtklikError('NOT_FOUND', `Дня ${date} нет в производственном календаре`);
    },
  };
}
