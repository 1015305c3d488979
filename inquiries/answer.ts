/**
 * Inquiries, the agency's answer and the close: staff record the answer the agency gave; the line's
 * callback (relay.ts places it, the `relay_answer` step of voicebot/flow/steps-relay.ts says it) reads it
 * with answerToRelay and closes the inquiry once the caller heard it in full; or an operator tells the
 * citizen by phone and closes it by hand.
 */
import { OtklikError } from '../core/errors.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { type AnswerDraft, draftFromAnswer } from './agency-answer.js';
import { responsibleAgencyId } from './register.js';

/** The agency's answer; the relay to the caller (callback) follows. */
export async function recordAgencyAnswer(
  sql: Sql,
  inquiryId: number,
  answer: { text: string; by: string },
): Promise<{ draft: AnswerDraft }> {
  if (answer.text.trim() === '') throw new OtklikError('VALIDATION_FAILED', 'answer text is empty');
  const rows = await sql.query<{ answered_at: Date }>(
    `UPDATE inquiries SET answer_text = $2, answered_by = $3, answered_at = now(), answer_channel = 'staff',
            status = 'answered'
      WHERE id = $1 AND status IN ('registered', 'dispatched') RETURNING answered_at`,
    [inquiryId, answer.text.trim(), answer.by],
  );
  if (rows.length === 0)
    throw new OtklikError('CONFLICT', `inquiry ${inquiryId} does not exist or is already answered`);
  // The line learns: the answer is a draft of the inquiry's intent for the editors (agency-answer.ts).
  return {
    draft: await draftFromAnswer(sql, inquiryId, answer.text.trim(), answer.by, rows[0]!.answered_at),
  };
}

/** What the callback needs to tell the caller the answer: which question it was, whose answer, the text. */
export interface AnswerToRelay {
  id: number;
  status: string;
  answerText: string | null;
  receivedAt: Date;
  relayedAt: Date | null;
  topicId: string | null;
  /** The responsible agency's name, from the knowledge base; null where none is known. */
  agencyName: string | null;
  /** The region's time zone, in which the caller is told the day they asked. */
  timezone: string;
  /** The request the citizen was told (the first inquiry's id of a question sent to several agencies). */
  requestId: number;
  /** This answer came after an extension: the date it was due by then. */
  extendedTo: Date | null;
  /**
   * The other agencies of the request whose answers are still awaited, with their deadlines. Each answer is
   * relayed as it comes (the citizen does not wait for the slowest agency, which may have an extension, for
   * an answer already in; each inquiry keeps its own relay, attempts and close), and the callback says which
   * answers are still to come and by when.
   */
  pending: Array<{ agencyName: string | null; answerDueAt: Date }>;
}

/** The inquiry a callback relays, or null when there is no such inquiry. */
export async function answerToRelay(sql: Sql, inquiryId: number): Promise<AnswerToRelay | null> {
  const [row] = await sql.query<{
    id: number;
    status: string;
    answer_text: string | null;
    received_at: Date;
    relayed_at: Date | null;
    topic_id: string | null;
    agency_id: string | null;
    request_id: number | string | null;
    answer_due_at: Date;
    answer_term_amount: number | null;
  }>(
    `SELECT id, status, answer_text, received_at, relayed_at, topic_id, agency_id, request_id, answer_due_at,
            answer_term_amount
       FROM inquiries WHERE id = $1`,
    [inquiryId],
  );
  if (!row) return null;
  const kb = createKnowledgeBase(sql);
  const topic = row.topic_id ? await kb.topic(row.topic_id) : null;
  const agencyId = responsibleAgencyId({ agencyId: row.agency_id }, topic);
  const agency = agencyId ? await kb.agency(agencyId) : null;
  const requestId = Number(row.request_id ?? row.id);
  const others = await sql.query<{ agency_id: string | null; answer_due_at: Date }>(
    `SELECT agency_id, answer_due_at FROM inquiries
      WHERE request_id = $1 AND id <> $2 AND status IN ('registered', 'dispatched') ORDER BY answer_due_at, id`,
    [requestId, row.id],
  );
  const pending = [];
  for (const o of others) {
    const id = responsibleAgencyId({ agencyId: o.agency_id }, topic);
    pending.push({
      agencyName: id ? ((await kb.agency(id))?.name ?? null) : null,
      answerDueAt: o.answer_due_at,
    });
  }
  return {
    id: row.id,
    status: row.status,
    answerText: row.answer_text,
    receivedAt: row.received_at,
    relayedAt: row.relayed_at,
    topicId: row.topic_id,
    agencyName: agency?.name ?? null,
    timezone: await kb.timezone(),
    requestId,
    extendedTo: row.answer_term_amount === null ? null : row.answer_due_at,
    pending,
  };
}

/**
 * The line's callback said the answer in full: the inquiry is closed. The status guard keeps a second
 * session from closing it twice; false when it was not waiting for its relay.
 */
export async function closeRelayed(sql: Sql, inquiryId: number, at: Date): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE inquiries SET relayed_at = $2, status = 'closed'
      WHERE id = $1 AND status = 'answered' AND relayed_at IS NULL RETURNING id`,
    [inquiryId, at],
  );
  return rows.length > 0;
}

/**
 * An operator told the citizen the agency's answer by phone (the line's callbacks did not reach them, or
 * the citizen called again). Only an answered inquiry not yet relayed can be closed this way.
 */
export async function markRelayedByOperator(sql: Sql, inquiryId: number, by: string): Promise<void> {
  const rows = await sql.query(
    `UPDATE inquiries SET relayed_at = now(), relayed_by = $2, status = 'closed'
      WHERE id = $1 AND status = 'answered' AND relayed_at IS NULL RETURNING id`,
    [inquiryId, by],
  );
  if (rows.length === 0)
    throw new OtklikError('CONFLICT', `inquiry ${inquiryId} has no agency answer waiting to be relayed`);
}
