import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { endIncident, listIncidents, startIncident } from '../../kb/incidents.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * Incident mode: a supervisor adds an announcement (and optionally a topic) that callers hear right after the
 * greeting, at short notice and for a limited time. It is KB content, so it is exported with the KB.
 */
export async function incidentsPlugin(app: TypedApp, opts: { sql: Sql; now?: () => Date }): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get(
    '/api/incidents',
    {
      schema: { tags: ['incidents'], summary: 'Инциденты: действующие и недавние' },
      preHandler: requireRole('supervisor', 'editor', 'operator'),
    },
    async () => {
      return { incidents: await listIncidents(sql, now()) };
    },
  );

  app.post(
    '/api/incidents',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['incidents'],
        summary: 'Объявить инцидент (бот сообщает о нём звонящим)',
        body: Type.Object({
          title: Type.String({ minLength: 3, maxLength: 200 }),
          announcement: Type.String({ minLength: 10, maxLength: 1000 }),
          level: Type.Union([Type.Literal('federal'), Type.Literal('regional')]),
          durationHours: Type.Number({ minimum: 1, maximum: 24 * 90 }),
          topicId: Type.Optional(TextId),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const startsAt = now();
      const endsAt = new Date(startsAt.getTime() + body.durationHours * 3_600_000);
      const id = await startIncident(sql, {
        title: body.title,
        announcement: body.announcement,
        level: body.level,
        startsAt,
        endsAt,
        topicId: body.topicId ?? null,
      });
      await auditKbChange(sql, request.staff!.login, 'incident.start', id);
      return reply.code(201).send({ id, startsAt, endsAt });
    },
  );

  app.post(
    '/api/incidents/:id/end',
    {
      preHandler: requireRole('supervisor'),
      schema: { tags: ['incidents'], summary: 'Завершить инцидент', params: Type.Object({ id: TextId }) },
    },
    async (request) => {
      if (!(await endIncident(sql, request.params.id, now())))
        throw new OtklikError('NOT_FOUND', 'Инцидент не найден или уже завершён');
      await auditKbChange(sql, request.staff!.login, 'incident.end', request.params.id);
      return { ok: true };
    },
  );
}
