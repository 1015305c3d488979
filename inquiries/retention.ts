/**
 * Retention of the inquiries part's personal data (152-FZ): the citizen's callback number of an inquiry that
 * is finished (closed, or its answer relayed) and was received before the caller numbers' cutoff. An open
 * inquiry keeps its number as long as the line still has to call the citizen back; an inquiry of a call on
 * legal hold keeps it. The question and the agency's answer stay: they are the inquiry's record. A removed
 * number is the empty string (the column is NOT NULL; the relay and the desk's history skip an empty one).
 */
import { nextCursor, type RetentionStep, type RetentionStepResult } from '../store/retention.js';
import type { Sql } from '../store/sql.js';

export async function removeOldInquiryNumbers(sql: Sql, step: RetentionStep): Promise<RetentionStepResult> {
  const rows = await sql.query<{ id: number; call_id: string; received_at: Date }>(
    `SELECT id, call_id, received_at FROM inquiries
      WHERE received_at < $1 AND callback_number <> '' AND (status = 'closed' OR relayed_at IS NOT NULL)
        AND call_id <> ALL($2::text[])
        AND ($3::timestamptz IS NULL OR (received_at, id) > ($3::timestamptz, $4::bigint))
      ORDER BY received_at, id LIMIT $5`,
    [step.before, step.held, step.after?.at ?? null, step.after?.id ?? '0', step.limit],
  );
  const next = nextCursor(rows, step.limit, (r) => ({ at: r.received_at, id: String(r.id) }));
  if (!step.dryRun && rows.length > 0)
    await sql.query("UPDATE inquiries SET callback_number = '' WHERE id = ANY($1::bigint[])", [
      rows.map((r) => r.id),
    ]);
  return { rows: rows.length, callIds: [...new Set(rows.map((r) => r.call_id))], next };
}
