import { Type } from 'typebox';
import { startIncidentWithTopic } from '../../kb/incident-topic.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { addOutcome, changeOutcome, listOutcomes } from '../../kb/outcomes.js';
import { createRefsEditor } from '../../kb/refs-editor.js';
import { parseClock, zonedInstant } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange, writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The knowledge studio's reference data: agencies with their contacts and schedules, the production
 * calendar and the operators' outcome codes. Editors change them, each save checked at once (kb/refs-editor.ts,
 * kb/outcomes.ts) and audited; editors, approvers and supervisors read them. Also incident mode's one form
 * (`POST /api/incidents/with-topic`): a supervisor's incident with its topic, intent and answer draft, sent for
 * approval (kb/incident-topic.ts).
 */
export async function studioRefsPlugin(app: TypedApp, opts: { sql: Sql; now?: () => Date }): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());
  const refs = createRefsEditor(sql);
  const kb = createKnowledgeBase(sql);
  const readers = requireRole('editor', 'approver', 'supervisor');
  const editors = requireRole('editor');
  const tags = ['kb'];
  const byId = Type.Object({ id: TextId });
  const nullableText = Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()]));
  const weekly = Type.Record(Type.String(), Type.Array(Type.String({ maxLength: 20 }), { maxItems: 6 }));

  app.get(
    '/api/kb/agencies',
    {
      preHandler: readers,
      schema: {
        tags,
        summary: 'Уполномоченные лица с контактами, расписанием и тем, открыты ли они в указанный момент',
        querystring: Type.Object({
          at: Type.Optional(Type.String({ format: 'date-time' })),
          /** A local date-time of the region, YYYY-MM-DDTHH:MM (the page's date and time fields). */
          local: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$' })),
        }),
      },
    },
    async (request) => {
      const { local } = request.query;
      const timezone = await kb.timezone();
      const at = local
        ? zonedInstant(local.slice(0, 10), parseClock(local.slice(11)), timezone)
        : request.query.at
          ? new Date(request.query.at)
          : now();
      return {
        at,
        timezone,
        agencies: await refs.agencies(at),
        schedules: await refs.schedules(),
        participants: await refs.participants(),
      };
    },
  );

  app.put(
    '/api/kb/agencies/:id',
    {
      preHandler: editors,
      schema: {
        tags,
        summary: 'Создать или изменить уполномоченное лицо (контакты, участник, расписание)',
        params: byId,
        body: Type.Object({
          name: Type.String({ maxLength: 300 }),
          participant: nullableText,
          forwardNumber: nullableText,
          contactPerson: nullableText,
          email: nullableText,
          schedule: Type.String({ maxLength: 200 }),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      await refs.saveAgency(id, request.body);
      await auditKbChange(sql, request.staff!.login, 'agency.save', id);
      return { agency: (await refs.agencies(now())).find((a) => a.id === id) };
    },
  );

  app.get(
    '/api/kb/schedules',
    { preHandler: readers, schema: { tags, summary: 'Расписания работы (часы по дням недели)' } },
    async () => ({ schedules: await refs.schedules() }),
  );

  app.put(
    '/api/kb/schedules/:id',
    {
      preHandler: editors,
      schema: {
        tags,
        summary: 'Создать или изменить расписание (часы по дням, круглосуточно, учёт календаря)',
        params: byId,
        body: Type.Object({
          title: Type.String({ maxLength: 300 }),
          alwaysOpen: Type.Optional(Type.Boolean()),
          observeCalendar: Type.Optional(Type.Boolean()),
          timezone: nullableText,
          weekly: Type.Optional(weekly),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      await refs.saveSchedule(id, request.body as Parameters<typeof refs.saveSchedule>[1]);
      await auditKbChange(sql, request.staff!.login, 'schedule.save', id);
      return { schedule: (await refs.schedules()).find((s) => s.id === id) };
    },
  );

  app.get(
    '/api/kb/calendar',
    {
      preHandler: readers,
      schema: {
        tags,
        summary: 'Производственный календарь: праздники, рабочие выходные, сокращённые дни',
        querystring: Type.Object({ year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100 })) }),
      },
    },
    async (request) => ({ days: await refs.calendar(request.query.year) }),
  );

  const dateParams = Type.Object({ date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }) });
  app.put(
    '/api/kb/calendar/:date',
    {
      preHandler: editors,
      schema: {
        tags,
        summary: 'Добавить или изменить день производственного календаря',
        params: dateParams,
        body: Type.Object({
          kind: Type.Union([Type.Literal('holiday'), Type.Literal('working_day'), Type.Literal('short_day')]),
          title: Type.Optional(Type.String({ maxLength: 300 })),
          worksAs: Type.Optional(
            Type.Union([
              Type.Literal('mon'),
              Type.Literal('tue'),
              Type.Literal('wed'),
              Type.Literal('thu'),
              Type.Literal('fri'),
              Type.Null(),
            ]),
          ),
        }),
      },
    },
    async (request) => {
      const { date } = request.params;
      await refs.saveCalendarDay(date, request.body);
      await auditKbChange(sql, request.staff!.login, 'calendar.save', date);
      return { day: (await refs.calendar()).find((d) => d.date === date) };
    },
  );

  app.delete(
    '/api/kb/calendar/:date',
    {
      preHandler: editors,
      schema: { tags, summary: 'Убрать день из производственного календаря', params: dateParams },
    },
    async (request) => {
      const { date } = request.params;
      await refs.removeCalendarDay(date);
      await auditKbChange(sql, request.staff!.login, 'calendar.remove', date);
      return { ok: true };
    },
  );

  app.get(
    '/api/kb/outcomes',
    {
      preHandler: readers,
      schema: { tags, summary: 'Коды результатов обработки для операторов, включая снятые' },
    },
    async () => ({ outcomes: await listOutcomes(sql, { withRetired: true }) }),
  );

  // Outcomes are outside the KB's revisions (migration 0308): their edits are audited only.
  app.post(
    '/api/kb/outcomes',
    {
      preHandler: editors,
      schema: {
        tags,
        summary: 'Добавить код результата',
        body: Type.Object({ id: Type.String({ maxLength: 60 }), title: Type.String({ maxLength: 200 }) }),
      },
    },
    async (request, reply) => {
      const outcome = await addOutcome(sql, request.body);
      await writeAudit(sql, request.staff!.login, 'outcome.create', outcome.id);
      return reply.code(201).send({ outcome });
    },
  );

  app.put(
    '/api/kb/outcomes/:id',
    {
      preHandler: editors,
      schema: {
        tags,
        summary: 'Переименовать, снять или вернуть код результата',
        params: byId,
        body: Type.Object({
          title: Type.Optional(Type.String({ maxLength: 200 })),
          retired: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request) => {
      const before = (await listOutcomes(sql, { withRetired: true })).find((o) => o.id === request.params.id);
      const outcome = await changeOutcome(sql, request.params.id, request.body);
      const action =
        before && outcome.retired !== before.retired
          ? outcome.retired
            ? 'outcome.retire'
            : 'outcome.restore'
          : 'outcome.rename';
      await writeAudit(sql, request.staff!.login, action, outcome.id);
      return { outcome };
    },
  );

  app.post(
    '/api/incidents/with-topic',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['incidents'],
        summary:
          'Инцидент с новой темой, вопросом и ответом: ответ уходит на согласование, объявление — после него',
        body: Type.Object({
          title: Type.String({ minLength: 3, maxLength: 200 }),
          announcement: Type.String({ minLength: 10, maxLength: 1000 }),
          level: Type.Union([Type.Literal('federal'), Type.Literal('regional')]),
          durationHours: Type.Number({ minimum: 1, maximum: 24 * 90 }),
          topic: Type.Object({
            id: TextId,
            title: Type.String({ maxLength: 200 }),
            agency: Type.Optional(Type.Union([TextId, Type.Null()])),
          }),
          intent: Type.Object({
            id: TextId,
            title: Type.String({ maxLength: 200 }),
            phrases: Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 }),
          }),
          answer: Type.Object({
            speech: Type.String({ maxLength: 4000 }),
            screen: Type.String({ maxLength: 4000 }),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          }),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const startsAt = now();
      const endsAt = new Date(startsAt.getTime() + body.durationHours * 3_600_000);
      const login = request.staff!.login;
      const made = await startIncidentWithTopic(sql, { ...body, startsAt, endsAt, author: login });
      await auditKbChange(sql, login, 'incident.start', made.incidentId, {
        topic: made.topicId,
        intent: made.intentId,
        answer: `${made.intentId}@v${made.version}`,
      });
      return reply.code(201).send({ ...made, startsAt, endsAt, state: 'awaiting_approval' });
    },
  );
}
