/**
 * The legal hold on a call (for a court or an inspection): while it stands, the retention job removes none of
 * the call's personal data, in any part. The calls part keeps it on the call's row; the parts that keep data
 * of a call elsewhere (telephony's recordings and queue rows, inquiries) get the held calls' ids from the job.
 * Placing and releasing are audited by the admin route that serves them.
 */
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

export interface LegalHold {
  at: Date;
  by: string;
  reason: string;
}

/** Puts the call on hold (a second hold keeps the first one's time and author, with the new reason). */
export async function placeLegalHold(
  sql: Sql,
  callId: string,
  hold: { by: string; reason: string; at: Date },
): Promise<LegalHold> {
  const rows = await sql.query<{ legal_hold_at: Date; legal_hold_by: string; legal_hold_reason: string }>(
    `UPDATE calls SET legal_hold_at = COALESCE(legal_hold_at, $2), legal_hold_by = COALESCE(legal_hold_by, $3),
            legal_hold_reason = $4
      WHERE id = $1 RETURNING legal_hold_at, legal_hold_by, legal_hold_reason`,
    [callId, hold.at, hold.by, hold.reason],
  );
  const r = rows[0];
  if (!r) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
  return { at: r.legal_hold_at, by: r.legal_hold_by, reason: r.legal_hold_reason };
}

/** Releases the hold; returns whether there was one. */
export async function releaseLegalHold(sql: Sql, callId: string): Promise<boolean> {
  const rows = await sql.query<{ held: boolean }>(
    `WITH old AS (SELECT id, legal_hold_at FROM calls WHERE id = $1 FOR UPDATE)
     UPDATE calls SET legal_hold_at = NULL, legal_hold_by = NULL, legal_hold_reason = NULL FROM old
      WHERE calls.id = old.id RETURNING old.legal_hold_at IS NOT NULL AS held`,
    [callId],
  );
  if (!rows[0]) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
  return rows[0].held;
}

/** The ids of the calls on legal hold now. */
export async function heldCallIds(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    'SELECT id FROM calls WHERE legal_hold_at IS NOT NULL ORDER BY id',
  );
  return rows.map((r) => r.id);
}
