import { recordKbChange } from '../kb/revisions.js';
import type { Sql } from '../store/sql.js';

/**
 * The audit log (152-FZ: who saw or changed which personal data, and when): one log for the whole line, owned
 * by admin. Sign-ins, call cards opened, recordings listened to (and refused), answers approved, inquiries
 * handled and knowledge-base imports are all written here, by the part that serves the act, through
 * `writeAudit`.
 */
export interface AuditEntry {
  id: number;
  at: Date;
  login: string;
  action: string;
  object: string | null;
  details: Record<string, unknown>;
}

export async function writeAudit(
  sql: Sql,
  loginName: string,
  action: string,
  object?: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await sql.query('INSERT INTO audit_log (login, action, object, details) VALUES ($1, $2, $3, $4)', [
    loginName,
    action,
    object ?? null,
    details,
  ]);
}

/**
 * A staff member's change of the knowledge base: the audit entry and the KB revision (kb/revisions.ts) that
 * lets an editor see and restore the state it left. Call it after the change is stored.
 */
export async function auditKbChange(
  sql: Sql,
  loginName: string,
  action: string,
  subject: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await sql.transaction(async (tx) => {
    await writeAudit(tx, loginName, action, subject, details);
    await recordKbChange(tx, { actor: loginName, action, subject });
  });
}

/** Entries matching every given filter, oldest first (at most `limit`, default 1000). */
export async function listAudit(
  sql: Sql,
  filter: { login?: string; action?: string; object?: string; limit?: number } = {},
): Promise<AuditEntry[]> {
  const rows = await sql.query<AuditEntry & { id: number | string }>(
    `SELECT id, at, login, action, object, details FROM audit_log
      WHERE ($1::text IS NULL OR login = $1) AND ($2::text IS NULL OR action = $2)
        AND ($3::text IS NULL OR object = $3)
      ORDER BY id LIMIT $4`,
    [filter.login ?? null, filter.action ?? null, filter.object ?? null, filter.limit ?? 1000],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export interface AuditSearch {
  /** Exact login. */
  login?: string;
  /** The start of the action: `answer.` finds answer.draft, answer.approve…; a whole action finds itself. */
  action?: string;
  /** The start of the object (a login, an intent id, a call id…). */
  object?: string;
  /** From this instant (inclusive). */
  from?: Date;
  /** Up to this instant (exclusive). */
  to?: Date;
  /** Paging: only entries older than this id (the `next` of the previous page). */
  before?: number;
  /** Page size, default 100. */
  limit?: number;
}

const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The audit log's viewer: entries matching every filter, newest first, a page at a time. */
export async function searchAudit(
  sql: Sql,
  filter: AuditSearch = {},
): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const limit = filter.limit ?? 100;
  const rows = await sql.query<AuditEntry & { id: number | string }>(
    `SELECT id, at, login, action, object, details FROM audit_log
      WHERE ($1::text IS NULL OR login = $1)
        AND ($2::text IS NULL OR action LIKE $2)
        AND ($3::text IS NULL OR object LIKE $3)
        AND ($4::timestamptz IS NULL OR at >= $4)
        AND ($5::timestamptz IS NULL OR at < $5)
        AND ($6::int8 IS NULL OR id < $6)
      ORDER BY id DESC LIMIT $7`,
    [
      filter.login || null,
      filter.action ? likePrefix(filter.action) : null,
      filter.object ? likePrefix(filter.object) : null,
      filter.from ?? null,
      filter.to ?? null,
      filter.before ?? null,
      limit + 1,
    ],
  );
  const entries = rows.slice(0, limit).map((r) => ({ ...r, id: Number(r.id) }));
  return { entries, next: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
}
