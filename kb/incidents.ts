import { randomUUID } from 'node:crypto';
import type { Sql } from '../store/sql.js';

/**
 * Incident mode, the writing side: a supervisor starts an announcement that callers hear right after the
 * greeting, for a limited time, and ends it early. Incidents are KB content (exported with the KB); the dialog
 * reads the active ones through `KnowledgeBaseReader.activeIncidents`.
 */
export interface IncidentListing {
  id: string;
  level: string;
  title: string;
  announcement: string;
  startsAt: Date;
  endsAt: Date | null;
  topicId: string | null;
  active: boolean;
  /** The intent whose answer the incident waits for (started with its own answer), or null. */
  awaitsIntent: string | null;
  /** awaiting_approval: its answer is not approved yet, so it is not on the air; announced; ended. */
  state: 'awaiting_approval' | 'announced' | 'ended';
}

export interface NewIncident {
  title: string;
  announcement: string;
  level: 'federal' | 'regional';
  startsAt: Date;
  endsAt: Date;
  topicId: string | null;
}

/** Every incident, newest first, with whether it is on the air at `at`. */
export async function listIncidents(sql: Sql, at: Date): Promise<IncidentListing[]> {
  const rows = await sql.query<{
    id: string;
    level: string;
    title: string;
    announcement: string;
    starts_at: Date;
    ends_at: Date | null;
    topic_id: string | null;
    awaits_intent: string | null;
    approved: boolean;
  }>(
    `SELECT i.*, EXISTS (SELECT 1 FROM answer_versions a
                          WHERE a.intent_id = i.awaits_intent AND a.status = 'approved') AS approved
       FROM incidents i ORDER BY starts_at DESC`,
  );
  return rows.map((r) => {
    const onTime = r.starts_at <= at && (r.ends_at === null || r.ends_at > at);
    const waiting = r.awaits_intent !== null && !r.approved;
    return {
      id: r.id,
      level: r.level,
      title: r.title,
      announcement: r.announcement,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      topicId: r.topic_id,
      active: onTime && !waiting,
      awaitsIntent: r.awaits_intent,
      state: !onTime ? ('ended' as const) : waiting ? ('awaiting_approval' as const) : ('announced' as const),
    };
  });
}

export async function startIncident(
  sql: Sql,
  incident: NewIncident & { awaitsIntent?: string | null },
): Promise<string> {
  const id = `incident-${incident.startsAt.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  await sql.query(
    `INSERT INTO incidents (id, level, title, announcement, starts_at, ends_at, topic_id, awaits_intent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      id,
      incident.level,
      incident.title,
      incident.announcement,
      incident.startsAt,
      incident.endsAt,
      incident.topicId,
      incident.awaitsIntent ?? null,
    ],
  );
  return id;
}

/** Ends an incident at `at`; false when there is none by that id or it has ended already. */
export async function endIncident(sql: Sql, id: string, at: Date): Promise<boolean> {
  const rows = await sql.query(
    'UPDATE incidents SET ends_at = $2 WHERE id = $1 AND (ends_at IS NULL OR ends_at > $2) RETURNING id',
    [id, at],
  );
  return rows.length > 0;
}
