/**
 * Inquiries: a question the line passes to the responsible agency for a callback. The line must pass it on
 * within 15 minutes (dispatch_due_at) and the agency must answer by the deadline of kb/hours.ts
 * (answer_due_at), counted in working days of the production calendar.
 */
import { agencyAnswerDeadline, type CalendarDay, inquiryDispatchDeadline, toCalendar } from '../kb/hours.js';
import type { Sql } from '../store/sql.js';

export interface NewInquiry {
  callId: string;
  question: string;
  intentId: string | null;
  topicId: string | null;
  agencyId: string | null;
  /** Personal data. */
  callbackNumber: string;
  receivedAt: Date;
}

export interface InquiryRow extends NewInquiry {
  id: number;
  dispatchDueAt: Date;
  answerDueAt: Date;
  status: string;
}

export interface RegisteredInquiry extends InquiryRow {
  /** The region's time zone, in which the deadline is told to the caller. */
  timezone: string;
}

async function regionCalendar(
  sql: Sql,
): Promise<{ calendar: ReturnType<typeof toCalendar>; timezone: string }> {
  const meta = await sql.query<{ timezone: string }>('SELECT timezone FROM kb_meta WHERE id = 1');
  const days = await sql.query<{
    day: string;
    kind: CalendarDay['kind'];
    title: string;
    works_as: string | null;
  }>('SELECT day, kind, title, works_as FROM calendar_days');
  return {
    timezone: meta[0]?.timezone ?? 'Europe/Moscow',
    calendar: toCalendar(
      days.map((d) => ({
        date: d.day,
        kind: d.kind,
        title: d.title,
        worksAs: d.works_as as CalendarDay['worksAs'],
      })),
    ),
  };
}

export async function registerInquiry(sql: Sql, inquiry: NewInquiry): Promise<RegisteredInquiry> {
  const { calendar, timezone } = await regionCalendar(sql);
  const dispatchDueAt = inquiryDispatchDeadline(inquiry.receivedAt);
  const answerDueAt = agencyAnswerDeadline(inquiry.receivedAt, calendar, timezone);
  const rows = await sql.query<{ id: number }>(
    `INSERT INTO inquiries (call_id, question, intent_id, topic_id, agency_id, callback_number, received_at,
                            dispatch_due_at, answer_due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      inquiry.callId,
      inquiry.question,
      inquiry.intentId,
      inquiry.topicId,
      inquiry.agencyId,
      inquiry.callbackNumber,
      inquiry.receivedAt,
      dispatchDueAt,
      answerDueAt,
    ],
  );
  return { ...inquiry, id: rows[0]!.id, dispatchDueAt, answerDueAt, status: 'registered', timezone };
}

export async function inquiriesOfCall(sql: Sql, callId: string): Promise<InquiryRow[]> {
  const rows = await sql.query<{
    id: number;
    call_id: string;
    question: string;
    intent_id: string | null;
    topic_id: string | null;
    agency_id: string | null;
    callback_number: string;
    received_at: Date;
    dispatch_due_at: Date;
    answer_due_at: Date;
    status: string;
  }>('SELECT * FROM inquiries WHERE call_id = $1 ORDER BY id', [callId]);
  return rows.map((r) => ({
    id: r.id,
    callId: r.call_id,
    question: r.question,
    intentId: r.intent_id,
    topicId: r.topic_id,
    agencyId: r.agency_id,
    callbackNumber: r.callback_number,
    receivedAt: r.received_at,
    dispatchDueAt: r.dispatch_due_at,
    answerDueAt: r.answer_due_at,
    status: r.status,
  }));
}
