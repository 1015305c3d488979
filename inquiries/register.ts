/**
 * Inquiries, registration: a question the line passes to the responsible agency for a callback (the voice
 * bot's inquiry step registers it). Its deadlines are set here once (inquiries/deadlines.ts: 15 minutes to
 * dispatch, the agency's answer in working days of the KB's production calendar); the rest of the lifecycle
 * is dispatch.ts (mail to the agency), answer.ts (the agency's answer and the close) and relay.ts (callbacks).
 */

import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Topic } from '../kb/types.js';
import type { Sql } from '../store/sql.js';
import { inquiryDeadlines } from './deadlines.js';

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

export async function registerInquiry(sql: Sql, inquiry: NewInquiry): Promise<RegisteredInquiry> {
  const { dispatchDueAt, answerDueAt, timezone } = await inquiryDeadlines(
    createKnowledgeBase(sql),
    inquiry.receivedAt,
  );
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

/**
 * The agency an inquiry goes to: the one staff chose, else its topic's. Read when it is needed (not stored
 * at registration), so that a topic given another agency in the knowledge base sends its open inquiries there.
 */
export function responsibleAgencyId(
  inquiry: { agencyId: string | null },
  topic: Pick<Topic, 'agencyId'> | null,
): string | null {
  return inquiry.agencyId ?? topic?.agencyId ?? null;
}
