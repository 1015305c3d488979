import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * Incident mode: a supervisor adds an announcement (and optionally a topic) that callers hear right after the
 * greeting, at short notice and for a limited time. It is KB content, so it is exported with the KB.
 */
export async function incidentsPlugin(app: TypedApp, opts: { sql: Sql; now?: () => Date }): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get('/api/incidents', { preHandler: requireRole('supervisor', 'editor', 'operator') }, async () => {
    const at = now();
    const rows = await sql.query<{
      id: string;
      level: string;
      title: string;
      announcement: string;
      starts_at: Date;
      ends_at: Date | null;
      topic_id: string | null;
    }>('SELECT * FROM incidents ORDER BY starts_at DESC');
    return {
      incidents: rows.map((r) => ({
        id: r.id,
        level: r.level,
        title: r.title,
        announcement: r.announcement,
        startsAt: r.starts_at,
        endsAt: r.ends_at,
        topicId: r.topic_id,
        active: r.starts_at <= at && (r.ends_at === null || r.ends_at > at),
      })),
    };
  });

  app.post(
    '/api/incidents',
    {
      preHandler: requireRole('supervisor'),
      schema: {
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
      const id = `incident-${startsAt.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
      await sql.query(
        'INSERT INTO incidents (id, level, title, announcement, starts_at, ends_at, topic_id) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [id, body.level, body.title, body.announcement, startsAt, endsAt, body.topicId ?? null],
      );
      await writeAudit(sql, request.staff!.login, 'incident.start', id);
      return reply.code(201).send({ id, startsAt, endsAt });
    },
  );

  app.post(
    '/api/incidents/:id/end',
    { preHandler: requireRole('supervisor'), schema: { params: Type.Object({ id: TextId }) } },
    async (request) => {
      const rows = await sql.query(
        'UPDATE incidents SET ends_at = $2 WHERE id = $1 AND (ends_at IS NULL OR ends_at > $2) RETURNING id',
        [request.params.id, now()],
      );
      if (rows.length === 0) throw new OtklikError('NOT_FOUND', 'Инцидент не найден или уже завершён');
      await writeAudit(sql, request.staff!.login, 'incident.end', request.params.id);
      return { ok: true };
    },
  );
}
