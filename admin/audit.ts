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
