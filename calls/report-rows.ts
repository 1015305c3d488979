/**
 * The calls part's rows for reports: its view calls_report (migration 0317), one row per call or chat that
 * started in the local days from..to of time zone `timezone`, without personal data. The report engine
 * (admin/reports/call-report.ts) joins the other parts' rows to these by call id.
 */
import { localDay, withinLocalDays } from '../store/local-days.js';
import type { Sql } from '../store/sql.js';

export interface CallReportRow {
  call_id: string;
  /** YYYY-MM-DD and 0..23, local. */
  day: string;
  hour: number;
  channel: 'phone' | 'chat';
  direction: 'incoming' | 'outgoing';
  outcome: string | null;
  sip_outcome: string | null;
  topic_id: string | null;
  intent_id: string | null;
  operator_id: string | null;
  operator_name: string | null;
  survey_score: number | null;
}

export async function callReportRows(
  sql: Sql,
  timezone: string,
  from: string,
  to: string,
): Promise<CallReportRow[]> {
  return sql.query<CallReportRow>(
    `SELECT call_id, to_char(${localDay('started_at')}, 'YYYY-MM-DD') AS day,
            extract(hour FROM started_at AT TIME ZONE $1)::int AS hour, channel, direction, outcome,
            sip_outcome, topic_id, intent_id, operator_id, operator_name, survey_score
       FROM calls_report WHERE ${withinLocalDays('started_at')}
      ORDER BY started_at, call_id`,
    [timezone, from, to],
  );
}
