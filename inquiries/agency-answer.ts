/**
 * Inquiries, the agency answers without an account: what its answer form shows (the question, a transcript
 * excerpt with personal data masked, the deadline in the region's time zone; never the callback number),
 * and recording the answer the form or a mail reply brings, as from that agency, once. Every agency answer
 * (staff-entered too, answer.ts) becomes a draft in the KB for the inquiry's intent through kb's editor
 * (never approved here); the row says which draft it made.
 */
import { getTurns, type Speaker } from '../calls/records.js';
import { isOtklikError, OtklikError } from '../core/errors.js';
import { createKbEditor } from '../kb/editor.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { responsibleAgencyId } from './register.js';

const HIDDEN = '[скрыто]';

/**
 * Personal data an agency does not need, masked in what it is shown: e-mail addresses, phone numbers (any
 * run of 7 or more digits with spaces, dashes, brackets or a plus), SNILS, passport and card numbers.
 */
export function maskPersonalData(text: string): string {
  return text
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, HIDDEN)
    .replace(/\+?\d[\d\s()-]{5,}\d/g, (m) => (m.replace(/\D/g, '').length >= 7 ? HIDDEN : m))
    .replace(/\b\d{4}\s?№?\s?\d{6}\b/g, HIDDEN);
}

export interface AgencyInquiryView {
  id: number;
  question: string;
  topicTitle: string | null;
  agencyName: string | null;
  receivedAt: Date;
  answerDueAt: Date;
  timezone: string;
  /** The last turns of the citizen's call before the inquiry, personal data masked. */
  excerpt: Array<{ who: Speaker; text: string }>;
  answered: boolean;
  answeredAt: Date | null;
}

interface Row {
  id: number;
  call_id: string;
  question: string;
  intent_id: string | null;
  topic_id: string | null;
  agency_id: string | null;
  received_at: Date;
  answer_due_at: Date;
  status: string;
  answered_at: Date | null;
}

const EXCERPT_TURNS = 8;

/** The row, when it is this agency's inquiry; LINK_INVALID otherwise (a link for another agency). */
async function agencyRow(sql: Sql, inquiryId: number, agencyId: string) {
  const [row] = await sql.query<Row>(
    `SELECT id, call_id, question, intent_id, topic_id, agency_id, received_at, answer_due_at, status,
            answered_at FROM inquiries WHERE id = $1`,
    [inquiryId],
  );
  const kb = createKnowledgeBase(sql);
  const topic = row?.topic_id ? await kb.topic(row.topic_id) : null;
  if (!row || responsibleAgencyId({ agencyId: row.agency_id }, topic) !== agencyId)
    throw new OtklikError(
      'LINK_INVALID',
      'Обращение по этой ссылке не найдено или передано другому ведомству.',
    );
  return { row, topic, kb };
}

/** What the agency's answer form shows. */
export async function agencyInquiryView(
  sql: Sql,
  inquiryId: number,
  agencyId: string,
): Promise<AgencyInquiryView> {
  const { row, topic, kb } = await agencyRow(sql, inquiryId, agencyId);
  const turns = (await getTurns(sql, row.call_id)).filter((t) => t.who !== 'operator' || t.text);
  return {
    id: row.id,
    question: maskPersonalData(row.question),
    topicTitle: topic?.title ?? null,
    agencyName: (await kb.agency(agencyId))?.name ?? null,
    receivedAt: row.received_at,
    answerDueAt: row.answer_due_at,
    timezone: await kb.timezone(),
    excerpt: turns.slice(-EXCERPT_TURNS).map((t) => ({ who: t.who, text: maskPersonalData(t.text) })),
    answered: row.status === 'answered' || row.status === 'closed',
    answeredAt: row.answered_at,
  };
}

export type AnswerChannel = 'staff' | 'web' | 'mail';

/** The KB draft an answer made: the intent and the version (answer_versions), or null without an intent. */
export type AnswerDraft = { intentId: string; version: number } | null;

/**
 * The agency's answer becomes a draft of the inquiry's intent for the editors, never approved here. An intent
 * the KB no longer has makes no draft (the answer stands).
 */
export async function draftFromAnswer(
  sql: Sql,
  inquiryId: number,
  text: string,
  author: string,
  now: Date,
): Promise<AnswerDraft> {
  const [row] = await sql.query<{ intent_id: string | null }>(
    'SELECT intent_id FROM inquiries WHERE id = $1',
    [inquiryId],
  );
  if (!row?.intent_id) return null;
  try {
    const draft = await createKbEditor(sql, { now: () => now }).createDraft(row.intent_id, {
      speech: text,
      screen: text,
      author,
      note: `Ответ ведомства на обращение № ${inquiryId}: проверьте и отредактируйте перед согласованием`,
    });
    await sql.query(
      'UPDATE inquiries SET answer_draft_intent_id = $2, answer_draft_version = $3 WHERE id = $1',
      [inquiryId, draft.intentId, draft.version],
    );
    return { intentId: draft.intentId, version: draft.version };
  } catch (err) {
    if (isOtklikError(err, 'NOT_FOUND')) return null;
    throw err;
  }
}

/**
 * The answer the agency gave through its form or a mail reply, recorded as from that agency (answered_by
 * `agency:<id>`), once: a second one is CONFLICT with the time of the first.
 */
export async function recordAnswerFromAgency(
  sql: Sql,
  answer: { inquiryId: number; agencyId: string; text: string; channel: AnswerChannel; now: Date },
): Promise<{ draft: AnswerDraft }> {
  const text = answer.text.trim();
  if (text === '')
    throw new OtklikError('VALIDATION_FAILED', 'Ответ пуст: напишите текст ответа гражданину.');
  const { row, kb } = await agencyRow(sql, answer.inquiryId, answer.agencyId);
  const by = `agency:${answer.agencyId}`;
  const rows = await sql.query(
    `UPDATE inquiries SET answer_text = $2, answered_by = $3, answered_at = $4, answer_channel = $5,
            status = 'answered'
      WHERE id = $1 AND status IN ('registered', 'dispatched') RETURNING id`,
    [row.id, text, by, answer.now, answer.channel],
  );
  if (rows.length === 0) {
    const [done] = await sql.query<{ answered_at: Date | null }>(
      'SELECT answered_at FROM inquiries WHERE id = $1',
      [row.id],
    );
    const when = done?.answered_at
      ? ` ${done.answered_at.toLocaleString('ru-RU', { timeZone: await kb.timezone() })}`
      : '';
    throw new OtklikError(
      'CONFLICT',
      `Ответ на обращение № ${row.id} уже получен${when}. Повторно ответ не принимается.`,
      {
        details: { inquiryId: row.id, answeredAt: done?.answered_at ?? null },
      },
    );
  }
  return { draft: await draftFromAnswer(sql, row.id, text, by, answer.now) };
}
