import type { Sql } from '../store/sql.js';
import { type AnswerVersionInfo, toInfo } from './editor.js';
import { isWorkingDay, nextWorkingDay, type ProductionCalendar } from './hours.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { type DiffPart, wordDiff } from './word-diff.js';
import { addDays, zonedInstant, zonedParts } from './zoned-time.js';

/**
 * The answer studio's lists: the drafts waiting for approval (the approvers' queue, with a word diff against
 * the version served now) and how long each has waited by the KB's production calendar.
 *
 * "Waiting longer than one working day": a version sent on a working day is overdue from the same time of
 * the next working day on; one sent on a day off, from the end of the first working day after it. Time is a
 * parameter (`now`).
 */
export function approvalDueAt(submittedAt: Date, calendar: ProductionCalendar, timeZone: string): Date {
  const local = zonedParts(submittedAt, timeZone);
  if (isWorkingDay(calendar, local.date))
    return zonedInstant(nextWorkingDay(calendar, local.date), local.timeOfDayMs, timeZone);
  const first = nextWorkingDay(calendar, local.date);
  return zonedInstant(addDays(first, 1), 0, timeZone);
}

export interface AnswerTexts {
  speech: string;
  chat: string | null;
  screen: string;
}

export interface PendingAnswer {
  intentId: string;
  title: string;
  topicId: string;
  topicTitle: string;
  /** The KB participant whose approvers approve it (the topic's). */
  agency: string | null;
  agencyName: string | null;
  version: AnswerVersionInfo;
  /** The version served now, or null for a first script. */
  approved: AnswerVersionInfo | null;
  /** Per text, the draft against the approved version (against nothing for a first script). */
  diff: { speech: DiffPart[]; chat: DiffPart[]; screen: DiffPart[] };
  dueAt: Date;
  overdue: boolean;
}

type Row = Record<string, unknown>;

/** The chat's text as the chat shows it: its own, else the spoken one. */
export const chatShown = (t: AnswerTexts) => t.chat ?? t.speech;

export function textsDiff(before: AnswerTexts | null, after: AnswerTexts): PendingAnswer['diff'] {
  return {
    speech: wordDiff(before?.speech ?? '', after.speech),
    chat: wordDiff(before ? chatShown(before) : '', chatShown(after)),
    screen: wordDiff(before?.screen ?? '', after.screen),
  };
}

/**
 * Versions waiting for approval, oldest first; `agency` given: only its topics' (an approver's queue).
 * `intentId` given: only that intent's.
 */
export async function pendingAnswers(
  sql: Sql,
  opts: { now: Date; agency?: string | null; intentId?: string },
): Promise<PendingAnswer[]> {
  const rows = await sql.query<Row>(
    `SELECT a.*, i.title AS intent_title, i.topic_id, t.title AS topic_title, t.participant_id, p.name AS participant_name
       FROM answer_versions a JOIN intents i ON i.id = a.intent_id JOIN topics t ON t.id = i.topic_id
       LEFT JOIN participants p ON p.id = t.participant_id
      WHERE a.status = 'pending_approval' AND ($1::text IS NULL OR t.participant_id = $1)
        AND ($2::text IS NULL OR a.intent_id = $2)
      ORDER BY a.submitted_at, a.intent_id, a.version`,
    [opts.agency ?? null, opts.intentId ?? null],
  );
  if (rows.length === 0) return [];
  const approvedRows = await sql.query<Row>(
    `SELECT * FROM answer_versions WHERE status = 'approved' AND intent_id = ANY($1::text[])`,
    [[...new Set(rows.map((r) => String(r.intent_id)))]],
  );
  const approved = new Map(approvedRows.map((r) => [String(r.intent_id), toInfo(r)]));
  const kb = createKnowledgeBase(sql);
  const [calendar, timeZone] = await Promise.all([kb.calendar(), kb.timezone()]);
  return rows.map((r) => {
    const version = toInfo(r);
    const served = approved.get(version.intentId) ?? null;
    const dueAt = approvalDueAt(version.submittedAt ?? opts.now, calendar, timeZone);
    return {
      intentId: version.intentId,
      title: String(r.intent_title),
      topicId: String(r.topic_id),
      topicTitle: String(r.topic_title),
      agency: r.participant_id === null ? null : String(r.participant_id),
      agencyName: r.participant_name === null ? null : String(r.participant_name),
      version,
      approved: served,
      diff: textsDiff(served, version),
      dueAt,
      overdue: opts.now.getTime() > dueAt.getTime(),
    };
  });
}

/** How many versions wait for approval and how many of them longer than one working day. */
export async function approvalFigures(
  sql: Sql,
  now: Date,
): Promise<{ pending: number; overdue: number; oldestSubmittedAt: Date | null }> {
  const pending = await pendingAnswers(sql, { now });
  return {
    pending: pending.length,
    overdue: pending.filter((p) => p.overdue).length,
    oldestSubmittedAt: pending[0]?.version.submittedAt ?? null,
  };
}

export interface AnswerEvent {
  kind: 'submitted' | 'returned';
  intentId: string;
  title: string;
  version: number;
  at: Date;
  /** The topic's participant: whose approvers are told of a submission. */
  agency: string | null;
  author: string | null;
  submittedBy: string | null;
  returnedBy: string | null;
  note: string | null;
  reviewNote: string | null;
}

/**
 * The events that someone is to be told of, since `since`: versions waiting for approval (their submission)
 * and drafts returned to their author (their return). A resubmission or a second return is a new event.
 */
export async function answerEvents(sql: Sql, since: Date): Promise<AnswerEvent[]> {
  const rows = await sql.query<Row>(
    `SELECT a.*, i.title AS intent_title, t.participant_id
       FROM answer_versions a JOIN intents i ON i.id = a.intent_id JOIN topics t ON t.id = i.topic_id
      WHERE (a.status = 'pending_approval' AND a.submitted_at >= $1)
         OR (a.status = 'draft' AND a.returned_at >= $1)
      ORDER BY COALESCE(a.submitted_at, a.returned_at)`,
    [since],
  );
  return rows.map((r) => {
    const v = toInfo(r);
    const submitted = v.status === 'pending_approval';
    return {
      kind: submitted ? 'submitted' : 'returned',
      intentId: v.intentId,
      title: String(r.intent_title),
      version: v.version,
      at: (submitted ? v.submittedAt : v.returnedAt) as Date,
      agency: r.participant_id === null ? null : String(r.participant_id),
      author: v.author,
      submittedBy: v.submittedBy,
      returnedBy: v.returnedBy,
      note: v.note,
      reviewNote: v.reviewNote,
    };
  });
}
