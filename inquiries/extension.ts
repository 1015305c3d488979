/**
 * Inquiries, extensions (Irkutsk 10.3): an agency that cannot answer in time asks for more, with a reason; staff
 * record it. The term grows by the amount asked (in the agreement's unit) and the deadline is counted again from
 * the inquiry's start on the production calendar, never past the agreement's maximum: a request past it is
 * refused. Every extension is a row of `inquiry_extensions` (who, when, the reason, the deadline before and
 * after).
 *
 * The citizen is told the new date the way a contact centre tells them of a change they did not ask for: a short
 * notice callback soon after (relay.ts places it within calling hours, the `relay_answer` step of the
 * `inquiry-answer` flow says extensionNotice's text), not at the end with the answer, which may be days away by
 * then. Where the notice callbacks do not reach the citizen, the answer's callback says the date all the same.
 */
import { OtklikError } from '../core/errors.js';
import { type InquiryTerms, IRKUTSK_TERMS } from '../kb/inquiry-terms.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { answerDeadline, termInWords } from './deadlines.js';
import { responsibleAgencyId } from './register.js';

export interface ExtensionRequest {
  /** How much longer, in the agreement's unit (hours, calendar or working days). */
  amount: number;
  reason: string;
  /** The staff login that recorded it. */
  by: string;
  at: Date;
}

export interface Extension {
  id: number;
  inquiryId: number;
  amount: number;
  unit: InquiryTerms['answerUnit'];
  reason: string;
  recordedBy: string;
  recordedAt: Date;
  oldDueAt: Date;
  newDueAt: Date;
}

type Row = {
  id: number | string;
  status: string;
  received_at: Date;
  term_from: Date | null;
  answer_due_at: Date;
  answer_terms: InquiryTerms | string | null;
  answer_term_amount: number | null;
};

/** The agreement an inquiry's deadline follows; rows registered before the terms were kept had the Irkutsk rule. */
export function termsOf(row: Pick<Row, 'answer_terms'>): InquiryTerms {
  const raw = row.answer_terms;
  if (!raw) return IRKUTSK_TERMS;
  return typeof raw === 'string' ? (JSON.parse(raw) as InquiryTerms) : raw;
}

const refuse = (message: string) => new OtklikError('VALIDATION_FAILED', message, { retryable: false });

/** Records an agency's extension of one inquiry and gives the new deadline. */
export async function extendInquiry(sql: Sql, inquiryId: number, req: ExtensionRequest): Promise<Extension> {
  const reason = req.reason.trim();
  if (reason === '') throw refuse('Укажите причину продления срока');
  if (!Number.isInteger(req.amount) || req.amount < 1)
    throw refuse('Срок продления — целое число не меньше 1');
  const kb = createKnowledgeBase(sql);
  const calendar = await kb.calendar();
  const timezone = await kb.timezone();
  return sql.transaction(async (tx) => {
    const [row] = await tx.query<Row>(
      `SELECT id, status, received_at, term_from, answer_due_at, answer_terms, answer_term_amount
         FROM inquiries WHERE id = $1 FOR UPDATE`,
      [inquiryId],
    );
    if (!row) throw new OtklikError('NOT_FOUND', 'Обращение не найдено', { retryable: false });
    if (!['registered', 'dispatched'].includes(row.status))
      throw new OtklikError('CONFLICT', 'Ответ на обращение уже получен: срок не продлевается', {
        retryable: false,
      });
    const terms = termsOf(row);
    const current = row.answer_term_amount ?? terms.answerAmount;
    const total = current + req.amount;
    if (total > terms.maxAmount)
      throw refuse(
        `Срок нельзя продлить на ${termInWords(req.amount, terms.answerUnit)}: по соглашению он не больше ` +
          `${termInWords(terms.maxAmount, terms.answerUnit)}, уже установлено ${termInWords(current, terms.answerUnit)}` +
          (terms.maxAmount > current
            ? ` (можно продлить ещё не более чем на ${termInWords(terms.maxAmount - current, terms.answerUnit)})`
            : ' (продлевать больше некуда)'),
      );
    const newDueAt = answerDeadline(
      row.term_from ?? row.received_at,
      { ...terms, answerAmount: total },
      calendar,
      timezone,
    );
    await tx.query(
      `UPDATE inquiries SET answer_due_at = $2, answer_term_amount = $3,
              extension_notice_due_at = $4, extension_notice_attempts = 0, extension_noticed_at = NULL
        WHERE id = $1`,
      [inquiryId, newDueAt, total, req.at],
    );
    const [saved] = await tx.query<{ id: number | string }>(
      `INSERT INTO inquiry_extensions (inquiry_id, amount, unit, reason, recorded_by, recorded_at, old_due_at, new_due_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [inquiryId, req.amount, terms.answerUnit, reason, req.by, req.at, row.answer_due_at, newDueAt],
    );
    return {
      id: Number(saved!.id),
      inquiryId,
      amount: req.amount,
      unit: terms.answerUnit,
      reason,
      recordedBy: req.by,
      recordedAt: req.at,
      oldDueAt: row.answer_due_at,
      newDueAt,
    };
  });
}

/** The extensions of an inquiry, oldest first. */
export async function extensionsOf(sql: Sql, inquiryId: number): Promise<Extension[]> {
  const rows = await sql.query<{
    id: number | string;
    inquiry_id: number | string;
    amount: number;
    unit: InquiryTerms['answerUnit'];
    reason: string;
    recorded_by: string;
    recorded_at: Date;
    old_due_at: Date;
    new_due_at: Date;
  }>('SELECT * FROM inquiry_extensions WHERE inquiry_id = $1 ORDER BY id', [inquiryId]);
  return rows.map((r) => ({
    id: Number(r.id),
    inquiryId: Number(r.inquiry_id),
    amount: r.amount,
    unit: r.unit,
    reason: r.reason,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
    oldDueAt: r.old_due_at,
    newDueAt: r.new_due_at,
  }));
}

/** «2 декабря в 16:00» in the region's time zone: how the caller hears a deadline. */
export function spokenDeadline(at: Date, timeZone: string): string {
  const day = new Intl.DateTimeFormat('ru-RU', { timeZone, day: 'numeric', month: 'long' }).format(at);
  const time = new Intl.DateTimeFormat('ru-RU', { timeZone, hour: '2-digit', minute: '2-digit' }).format(at);
  return `${day} в ${time}`;
}

/** What the notice callback says: the request, the agency, the new date and the agency's reason. */
export async function extensionNotice(
  sql: Sql,
  inquiryId: number,
): Promise<{ text: string; noticedAt: Date | null } | null> {
  const [row] = await sql.query<{
    request_id: number | string | null;
    id: number | string;
    agency_id: string | null;
    topic_id: string | null;
    answer_due_at: Date;
    extension_noticed_at: Date | null;
  }>(
    `SELECT id, request_id, agency_id, topic_id, answer_due_at, extension_noticed_at FROM inquiries
      WHERE id = $1 AND answer_term_amount IS NOT NULL`,
    [inquiryId],
  );
  if (!row) return null;
  const [last] = (await extensionsOf(sql, inquiryId)).slice(-1);
  if (!last) return null;
  const kb = createKnowledgeBase(sql);
  const topic = row.topic_id ? await kb.topic(row.topic_id) : null;
  const agencyId = responsibleAgencyId({ agencyId: row.agency_id }, topic);
  const agency = agencyId ? await kb.agency(agencyId) : null;
  const tz = await kb.timezone();
  return {
    text:
      `Здравствуйте! Это единая служба сто двадцать два. По вашему обращению номер ${Number(row.request_id ?? row.id)} ` +
      `срок ответа${agency ? ` от организации «${agency.name}»` : ''} продлён до ${spokenDeadline(row.answer_due_at, tz)}. ` +
      `Причина: ${last.reason}. Мы позвоним вам, как только придёт ответ.`,
    noticedAt: row.extension_noticed_at,
  };
}

/** The notice callback said it in full. */
export async function markExtensionNoticed(sql: Sql, inquiryId: number, at: Date): Promise<boolean> {
  const rows = await sql.query(
    `UPDATE inquiries SET extension_noticed_at = $2 WHERE id = $1 AND extension_noticed_at IS NULL
       AND extension_notice_due_at IS NOT NULL RETURNING id`,
    [inquiryId, at],
  );
  return rows.length > 0;
}
