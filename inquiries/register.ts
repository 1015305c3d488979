/**
 * Inquiries, registration: a question the line passes to the responsible agencies for a callback (the voice
 * bot's inquiry step registers it). Its deadlines are set here (inquiries/deadlines.ts, on the agreement the
 * knowledge base holds for each agency); the rest of the lifecycle is dispatch.ts (mail to the agency),
 * answer.ts (the agency's answer and the close), extension.ts (an agency's extension) and relay.ts (callbacks).
 *
 * A question for several competent agencies (Irkutsk 10.1) is one request: one `inquiries` row per agency, each
 * with its own deadline, dispatch, answer and relay, sharing `request_id` (the first row's id), the number the
 * citizen is told. Staff may add an agency to a registered request later (addAgency).
 */

import { OtklikError } from '../core/errors.js';
import type { InquiryTerms } from '../kb/inquiry-terms.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Topic } from '../kb/types.js';
import type { Sql } from '../store/sql.js';
import { inquiryDeadlines } from './deadlines.js';

export interface NewInquiry {
  callId: string;
  question: string;
  intentId: string | null;
  topicId: string | null;
  /** The one agency staff or the flow chose; null: the topic's. */
  agencyId: string | null;
  /** Several competent agencies at once: one inquiry each in one request (agencyId is then ignored). */
  agencyIds?: string[];
  /** Personal data. */
  callbackNumber: string;
  receivedAt: Date;
}

export interface InquiryRow extends Omit<NewInquiry, 'agencyIds'> {
  id: number;
  /** The request the citizen was told (the first inquiry's id); shared by the inquiries of one question. */
  requestId: number;
  dispatchDueAt: Date;
  answerDueAt: Date;
  status: string;
}

export interface RegisteredInquiry extends InquiryRow {
  /** The region's time zone, in which the deadline is told to the caller. */
  timezone: string;
  /** Every inquiry of the request, this one first (one per agency). */
  inquiries: InquiryRow[];
}

type NewRow = Omit<InquiryRow, 'id' | 'requestId' | 'status'> & { terms: InquiryTerms; termFrom: Date };

async function insertRow(tx: Sql, row: NewRow, requestId: number | null): Promise<number> {
  const rows = await tx.query<{ id: number | string }>(
    `INSERT INTO inquiries (call_id, question, intent_id, topic_id, agency_id, callback_number, received_at,
                            dispatch_due_at, answer_due_at, request_id, answer_terms, term_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12) RETURNING id`,
    [
      row.callId,
      row.question,
      row.intentId,
      row.topicId,
      row.agencyId,
      row.callbackNumber,
      row.receivedAt,
      row.dispatchDueAt,
      row.answerDueAt,
      requestId,
      JSON.stringify(row.terms),
      row.termFrom,
    ],
  );
  const id = Number(rows[0]!.id);
  if (requestId === null) await tx.query('UPDATE inquiries SET request_id = id WHERE id = $1', [id]);
  return id;
}

export async function registerInquiry(sql: Sql, inquiry: NewInquiry): Promise<RegisteredInquiry> {
  const kb = createKnowledgeBase(sql);
  const { agencyIds, ...base } = inquiry;
  const chosen = [...new Set(agencyIds ?? [])];
  const topic = inquiry.topicId ? await kb.topic(inquiry.topicId) : null;
  for (const agencyId of chosen) if (!(await kb.agency(agencyId))) throw unknownAgency();
  // One row per agency; without a choice, one row whose agency is read from its topic when it is sent.
  const own: Array<string | null> = chosen.length > 0 ? chosen : [inquiry.agencyId];
  const planned: NewRow[] = [];
  let timezone = '';
  for (const agencyId of own) {
    const deadlines = await inquiryDeadlines(
      kb,
      inquiry.receivedAt,
      responsibleAgencyId({ agencyId }, topic),
    );
    timezone = deadlines.timezone;
    planned.push({
      ...base,
      agencyId,
      dispatchDueAt: deadlines.dispatchDueAt,
      answerDueAt: deadlines.answerDueAt,
      terms: deadlines.terms,
      termFrom: inquiry.receivedAt,
    });
  }
  const ids = await sql.transaction(async (tx) => {
    const out: number[] = [];
    for (const row of planned) out.push(await insertRow(tx, row, out[0] ?? null));
    return out;
  });
  const rows: InquiryRow[] = planned.map(({ terms: _t, termFrom: _f, ...row }, i) => ({
    ...row,
    id: ids[i]!,
    requestId: ids[0]!,
    status: 'registered',
  }));
  return { ...rows[0]!, timezone, inquiries: rows };
}

const unknownAgency = () =>
  new OtklikError('VALIDATION_FAILED', 'Такого уполномоченного лица нет в базе знаний', { retryable: false });

/**
 * Staff add a competent agency to a registered request (Irkutsk 10.1): a new inquiry in the same request,
 * whose term counts from `at` (the moment the line passes the question to it); the dispatch sweep mails it.
 * Refused for an agency the request already goes to.
 */
export async function addAgency(
  sql: Sql,
  inquiryId: number,
  agencyId: string,
  at: Date,
): Promise<{ id: number; requestId: number; agencyId: string; agencyName: string; answerDueAt: Date }> {
  const kb = createKnowledgeBase(sql);
  const agency = await kb.agency(agencyId);
  if (!agency) throw unknownAgency();
  const [first] = await sql.query<{
    request_id: number | string;
    call_id: string;
    question: string;
    intent_id: string | null;
    topic_id: string | null;
    callback_number: string;
    received_at: Date;
  }>(
    `SELECT request_id, call_id, question, intent_id, topic_id, callback_number, received_at
       FROM inquiries WHERE id = $1`,
    [inquiryId],
  );
  if (!first) throw new OtklikError('NOT_FOUND', 'Обращение не найдено', { retryable: false });
  const requestId = Number(first.request_id);
  const siblings = await sql.query<{ agency_id: string | null; topic_id: string | null }>(
    'SELECT agency_id, topic_id FROM inquiries WHERE request_id = $1',
    [requestId],
  );
  const topic = first.topic_id ? await kb.topic(first.topic_id) : null;
  if (siblings.some((s) => responsibleAgencyId({ agencyId: s.agency_id }, topic) === agencyId))
    throw new OtklikError('CONFLICT', `Обращение № ${requestId} уже направлено: ${agency.name}`, {
      retryable: false,
    });
  const deadlines = await inquiryDeadlines(kb, at, agencyId);
  const id = await insertRow(
    sql,
    {
      callId: first.call_id,
      question: first.question,
      intentId: first.intent_id,
      topicId: first.topic_id,
      agencyId,
      callbackNumber: first.callback_number,
      receivedAt: first.received_at,
      dispatchDueAt: deadlines.dispatchDueAt,
      answerDueAt: deadlines.answerDueAt,
      terms: deadlines.terms,
      termFrom: at,
    },
    requestId,
  );
  return { id, requestId, agencyId, agencyName: agency.name, answerDueAt: deadlines.answerDueAt };
}

type StoredRow = {
  id: number | string;
  request_id: number | string | null;
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
};

function toRow(r: StoredRow): InquiryRow {
  return {
    id: Number(r.id),
    requestId: Number(r.request_id ?? r.id),
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
  };
}

export async function inquiriesOfCall(sql: Sql, callId: string): Promise<InquiryRow[]> {
  const rows = await sql.query<StoredRow>('SELECT * FROM inquiries WHERE call_id = $1 ORDER BY id', [callId]);
  return rows.map(toRow);
}

/** The inquiries of one request (one per agency), in the order they were made. */
export async function inquiriesOfRequest(sql: Sql, requestId: number): Promise<InquiryRow[]> {
  const rows = await sql.query<StoredRow>('SELECT * FROM inquiries WHERE request_id = $1 ORDER BY id', [
    requestId,
  ]);
  return rows.map(toRow);
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
