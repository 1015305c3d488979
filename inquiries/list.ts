/**
 * Inquiries, the staff list («Обращения»): every stage of the lifecycle on one row, with the topic's title and
 * the agency's name taken from the knowledge base's functions (joined here in code: no SQL crosses into kb's
 * tables), whether the dispatch is stuck (figures.ts) and where the relay stands.
 */
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { dispatchStuckSql } from './figures.js';
import { responsibleAgencyId } from './register.js';

export type RelayState = 'waiting_answer' | 'relayed' | 'to_operator' | 'calling' | 'pending';

/**
 * Where relaying the agency's answer to the caller stands, for the staff list: not answered yet, told to
 * the caller, handed to an operator after three callbacks, being called back (attempts made), or waiting
 * for its first callback.
 */
export function relayState(r: {
  status: string;
  relayedAt?: Date | null;
  relayNeedsOperator?: boolean;
  relayAttempts?: number;
}): RelayState {
  if (r.relayedAt) return 'relayed';
  if (r.status !== 'answered') return 'waiting_answer';
  if (r.relayNeedsOperator) return 'to_operator';
  return Number(r.relayAttempts ?? 0) > 0 ? 'calling' : 'pending';
}

export interface ListedInquiry {
  id: number;
  /** The request the citizen was told: shared by the inquiries of one question sent to several agencies. */
  requestId: number;
  /** The term with the extensions granted, when the agency asked for more (null: the agreement's own). */
  answerTermAmount: number | null;
  /** The unit of the agreement's term (hours, calendar_days, working_days): what an extension counts in. */
  answerTermUnit: string;
  callId: string;
  question: string;
  topicId: string | null;
  topicTitle: string | null;
  /** The agency the inquiry goes to: the one staff chose, else its topic's. */
  agencyId: string | null;
  agencyName: string | null;
  receivedAt: Date;
  dispatchDueAt: Date;
  dispatchedAt: Date | null;
  dispatchError: string | null;
  dispatchAttempts: number;
  dispatchLastError: string | null;
  /** Not passed to the agency and a supervisor must act (figures.ts dispatchStuckSql). */
  dispatchStuck: boolean;
  answerDueAt: Date;
  status: string;
  answerText: string | null;
  relayedAt: Date | null;
  relayAttempts: number;
  relayLastAttemptAt: Date | null;
  relayNextAttemptAt: Date | null;
  relayLastResult: string | null;
  relayNeedsOperator: boolean;
  relayedBy: string | null;
  /** Staff login, or `agency:<id>` when the agency answered by its link or by mail (answerChannel). */
  answeredBy: string | null;
  answerChannel: 'staff' | 'web' | 'mail' | null;
  /** The KB draft the answer made for the editors (agency-answer.ts), when the inquiry had an intent. */
  answerDraftIntentId: string | null;
  answerDraftVersion: number | null;
  /** When the agency was reminded of its deadline, and when the supervisor was told it passed. */
  reminderSentAt: Date | null;
  escalatedAt: Date | null;
  /** The number only where a person must call it: the callbacks did not reach the citizen. */
  callbackNumber: string | null;
  relay: RelayState;
}

type Row = Omit<ListedInquiry, 'topicTitle' | 'agencyId' | 'agencyName' | 'relay'> & {
  ownAgencyId: string | null;
};

/** The latest inquiries, newest first, as staff see them at `now`. */
export async function listInquiries(sql: Sql, now: Date, limit = 200): Promise<ListedInquiry[]> {
  const rows = await sql.query<Row>(
    `SELECT id, COALESCE(request_id, id) AS "requestId", answer_term_amount AS "answerTermAmount",
            COALESCE(answer_terms->>'answerUnit', 'working_days') AS "answerTermUnit",
            call_id AS "callId", question, topic_id AS "topicId", agency_id AS "ownAgencyId",
            received_at AS "receivedAt", dispatch_due_at AS "dispatchDueAt", dispatched_at AS "dispatchedAt",
            dispatch_error AS "dispatchError", dispatch_attempts AS "dispatchAttempts",
            dispatch_last_error AS "dispatchLastError", ${dispatchStuckSql} AS "dispatchStuck",
            answer_due_at AS "answerDueAt", status, answer_text AS "answerText",
            relayed_at AS "relayedAt", relay_attempts AS "relayAttempts",
            relay_last_attempt_at AS "relayLastAttemptAt", relay_next_attempt_at AS "relayNextAttemptAt",
            relay_last_result AS "relayLastResult", relay_needs_operator AS "relayNeedsOperator",
            relayed_by AS "relayedBy", answered_by AS "answeredBy", answer_channel AS "answerChannel",
            answer_draft_intent_id AS "answerDraftIntentId", answer_draft_version AS "answerDraftVersion",
            reminder_sent_at AS "reminderSentAt", escalated_at AS "escalatedAt",
            CASE WHEN status = 'answered' AND relayed_at IS NULL AND relay_needs_operator
                 THEN callback_number END AS "callbackNumber"
       FROM inquiries
      ORDER BY received_at DESC LIMIT $2`,
    [now, limit],
  );
  if (rows.length === 0) return [];
  const kb = createKnowledgeBase(sql);
  const topics = new Map((await kb.topics()).map((t) => [t.id as string, t]));
  const agencies = new Map((await kb.agencies()).map((a) => [a.id, a]));
  return rows.map(({ ownAgencyId, ...r }) => {
    const topic = r.topicId ? (topics.get(r.topicId) ?? null) : null;
    const agencyId = responsibleAgencyId({ agencyId: ownAgencyId }, topic);
    return {
      ...r,
      id: Number(r.id),
      requestId: Number(r.requestId),
      topicTitle: topic?.title ?? null,
      agencyId,
      agencyName: agencyId ? (agencies.get(agencyId)?.name ?? null) : null,
      relay: relayState(r),
    };
  });
}

/** A caller's inquiries (the operator desk's history): those with this callback number or from these calls. */
export async function inquiriesOfCaller(
  sql: Sql,
  callbackNumber: string,
  callIds: string[],
  limit = 20,
): Promise<Array<{ id: number; status: string; question: string; createdAt: Date }>> {
  const rows = await sql.query<{ id: number | string; status: string; question: string; createdAt: Date }>(
    `SELECT id, status, question, received_at AS "createdAt" FROM inquiries
      WHERE callback_number = $1 OR call_id = ANY($2::text[]) ORDER BY received_at DESC, id DESC LIMIT $3`,
    [callbackNumber, callIds, limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
