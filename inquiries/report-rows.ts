/**
 * The inquiries part's rows for reports: its view inquiries_report (migration 0405), the inquiries of the
 * given calls (one row per inquiry and agency), without personal data, in the order they were registered.
 */
import type { Sql } from '../store/sql.js';

export interface InquiryReportRow {
  call_id: string;
  agency_id: string | null;
  intent_id: string | null;
  dispatch_due_at: Date;
  dispatched_at: Date | null;
  answer_due_at: Date;
  answered_at: Date | null;
}

export async function inquiryReportRows(sql: Sql, callIds: readonly string[]): Promise<InquiryReportRow[]> {
  if (callIds.length === 0) return [];
  return sql.query<InquiryReportRow>(
    `SELECT call_id, agency_id, intent_id, dispatch_due_at, dispatched_at, answer_due_at, answered_at
       FROM inquiries_report WHERE call_id = ANY($1::text[]) ORDER BY inquiry_id`,
    [callIds],
  );
}
