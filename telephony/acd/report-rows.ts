/**
 * Telephony's rows for reports: its views telephony_report_queue and telephony_report_callbacks (migration
 * 0318), for the given calls, without personal data. A call has at most one queue entry of its own.
 */
import type { Sql } from '../../store/sql.js';

export interface QueueReportRow {
  call_id: string;
  queue_id: string;
  queue_name: string | null;
  /** The queue's own norm; null: QUEUE_WAIT_NORM_MS. */
  queue_wait_norm_ms: number | null;
  state: string;
  wait_ms: number | null;
  talk_ms: number | null;
  closed_at: Date | null;
  operator_id: string | null;
  operator_name: string | null;
}

export async function queueReportRows(sql: Sql, callIds: readonly string[]): Promise<QueueReportRow[]> {
  if (callIds.length === 0) return [];
  return sql.query<QueueReportRow>(
    `SELECT call_id, queue_id, queue_name, queue_wait_norm_ms, state, wait_ms, talk_ms, closed_at,
            operator_id, operator_name
       FROM telephony_report_queue WHERE call_id = ANY($1::text[])`,
    [callIds],
  );
}

export interface CallbackReportRow {
  call_id: string;
  attempts: number;
  outcome: string | null;
}

export async function callbackReportRows(sql: Sql, callIds: readonly string[]): Promise<CallbackReportRow[]> {
  if (callIds.length === 0) return [];
  return sql.query<CallbackReportRow>(
    `SELECT call_id, attempts, outcome FROM telephony_report_callbacks
      WHERE call_id = ANY($1::text[]) ORDER BY callback_id`,
    [callIds],
  );
}
