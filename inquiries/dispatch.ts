import nodemailer from 'nodemailer';
import { isOtklikError, OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { openKnowledgeBase } from '../kb/knowledge-base.js';
import { zoneOffsetMs } from '../kb/zoned-time.js';
import type { Sql } from '../store/sql.js';

/**
 * The relay of inquiries (regional rules): a question the knowledge base cannot answer goes to the responsible
 * agency within 15 minutes; the agency answers by the deadline (kb/hours.ts); the answer is relayed to the
 * caller. These are plain async functions; admin/jobs/worker.ts runs them as BullMQ jobs.
 */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      try {
        await transport.sendMail({ from, ...message });
      } catch (err) {
        // A 5xx reply (550 mailbox unavailable, 553 bad address...) is the server's final word: sending
        // the same message again gets the same answer. Anything else (no connection, 421, 451) may pass later.
        const responseCode = (err as { responseCode?: unknown }).responseCode;
        const permanent = typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600;
        throw new OtklikError(
          permanent ? 'MAIL_REJECTED' : 'UNAVAILABLE',
          `mail relay refused the message: ${(err as Error).message}`,
          {
            retryable: !permanent,
            cause: err,
            ...(typeof responseCode === 'number' ? { details: { responseCode } } : {}),
          },
        );
      }
    },
  };
}

/** The mailer of the configuration (SMTP_URL); without one, says at start-up that inquiries are not mailed. */
export function configuredMailer(
  mail: { smtpUrl?: string | undefined; from: string },
  log: Logger,
): Mailer | null {
  if (!mail.smtpUrl) {
    log.warn('SMTP_URL is not set: inquiries are not mailed to agencies; a supervisor must pass them on');
    return null;
  }
  return smtpMailer(mail.smtpUrl, mail.from);
}

export interface JobDeps {
  sql: Sql;
  mailer: Mailer | null;
  log: Logger;
  now?: () => Date;
  /** The region's time zone, in which the mail states times; read from the knowledge base when not given. */
  timezone?: string;
}

interface InquiryForMail {
  id: number;
  question: string;
  callback_number: string;
  received_at: Date;
  answer_due_at: Date;
  dispatched_at: Date | null;
  topic_title: string | null;
  agency_id?: string | null;
  agency_name: string | null;
  agency_email: string | null;
}

/** "UTC+05:00": agencies may sit in another zone than the line, so the mail names the offset. */
function utcOffset(at: Date, timeZone: string): string {
  const minutes = zoneOffsetMs(timeZone, at) / 60_000;
  const abs = Math.abs(minutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `UTC${minutes < 0 ? '-' : '+'}${hhmm}`;
}

/** The mail to the agency; times are the region's local time (the knowledge base's time zone). */
export function inquiryMail(inquiry: InquiryForMail, timeZone: string): MailMessage {
  const ru = (d: Date) => d.toLocaleString('ru-RU', { timeZone });
  return {
    to: inquiry.agency_email ?? '',
    subject: `Служба 122: обращение № ${inquiry.id} — ответ до ${ru(inquiry.answer_due_at)}`,
    text: [
      `Уважаемые коллеги (${inquiry.agency_name ?? 'уполномоченное лицо'})!`,
      '',
      `В единую службу 122 поступило обращение № ${inquiry.id}${inquiry.topic_title ? ` по теме «${inquiry.topic_title}»` : ''}.`,
      `Получено: ${ru(inquiry.received_at)} (местное время, ${utcOffset(inquiry.received_at, timeZone)}).`,
      '',
      `Вопрос гражданина: ${inquiry.question}`,
      `Номер для обратного звонка: ${inquiry.callback_number}`,
      '',
      `Просим направить ответ до ${ru(inquiry.answer_due_at)} через кабинет службы 122 или ответным письмом, указав номер обращения.`,
      'Письмо содержит персональные данные (152-ФЗ): используйте их только для ответа на это обращение.',
    ].join('\n'),
  };
}

/** What the supervisor reads on an inquiry the mail server refused for good. */
const rejectedReason = (err: OtklikError) =>
  `почтовый сервер отклонил письмо (${err.message.replace(/^mail relay refused the message: /, '')}): проверьте e-mail уполномоченного лица и передайте обращение вручную`;

/**
 * Sends one inquiry to its agency. Safe to run twice: a dispatched inquiry is not sent again. One without an
 * agency (no topic fitted) waits, untouched, until staff choose the agency in «Обращения». A failed send
 * is counted on the inquiry and thrown again: retryable ones for the job's next attempt, a permanent
 * rejection after marking the inquiry (dispatch_error) so that no sweep queues it again.
 */
export async function dispatchInquiry(
  deps: JobDeps,
  inquiryId: number,
): Promise<'sent' | 'already_sent' | 'no_email' | 'no_agency'> {
  const now = deps.now ?? (() => new Date());
  const [inquiry] = await deps.sql.query<InquiryForMail>(
    `SELECT i.id, i.question, i.callback_number, i.received_at, i.answer_due_at, i.dispatched_at,
            t.title AS topic_title, a.id AS agency_id, a.name AS agency_name, a.email AS agency_email
       FROM inquiries i
       LEFT JOIN topics t ON t.id = i.topic_id
       LEFT JOIN agencies a ON a.id = COALESCE(i.agency_id, t.agency_id)
      WHERE i.id = $1`,
    [inquiryId],
  );
  if (!inquiry) throw new OtklikError('NOT_FOUND', `inquiry ${inquiryId} does not exist`);
  if (inquiry.dispatched_at) return 'already_sent';
  if (!inquiry.agency_id) return 'no_agency';
  if (!inquiry.agency_email || !deps.mailer) {
    const reason = !deps.mailer ? 'почта не настроена (SMTP_URL)' : 'у уполномоченного лица не указан e-mail';
    await deps.sql.query('UPDATE inquiries SET dispatch_error = $2 WHERE id = $1', [inquiryId, reason]);
    deps.log.warn({ inquiryId, reason }, 'inquiry cannot be sent by mail; a supervisor must pass it on');
    return 'no_email';
  }
  const timeZone = deps.timezone ?? (await openKnowledgeBase(deps.sql).timezone());
  try {
    await deps.mailer.send(inquiryMail(inquiry, timeZone));
  } catch (err) {
    const failure = isOtklikError(err)
      ? err
      : new OtklikError('UNAVAILABLE', (err as Error).message, { retryable: true, cause: err });
    await deps.sql.query(
      `UPDATE inquiries SET dispatch_attempts = dispatch_attempts + 1, dispatch_last_error = $2,
              dispatch_error = COALESCE($3, dispatch_error)
        WHERE id = $1`,
      [inquiryId, failure.message, failure.retryable ? null : rejectedReason(failure)],
    );
    if (failure.retryable)
      deps.log.warn({ inquiryId, err: failure.message }, 'inquiry mail failed; retrying');
    else
      deps.log.error(
        { inquiryId, err: failure.message },
        'inquiry mail rejected; a supervisor must pass it on',
      );
    throw failure;
  }
  await deps.sql.query(
    `UPDATE inquiries SET dispatched_at = $2, dispatch_error = NULL,
            status = CASE WHEN status = 'registered' THEN 'dispatched' ELSE status END
      WHERE id = $1`,
    [inquiryId, now()],
  );
  deps.log.info({ inquiryId }, 'inquiry sent to the agency');
  return 'sent';
}

/** Inquiries registered and not yet sent, oldest first; those still without an agency wait for staff. */
export async function undispatchedInquiries(sql: Sql): Promise<number[]> {
  const rows = await sql.query<{ id: number }>(
    `SELECT i.id FROM inquiries i LEFT JOIN topics t ON t.id = i.topic_id
      WHERE i.dispatched_at IS NULL AND i.dispatch_error IS NULL AND i.status = 'registered'
        AND COALESCE(i.agency_id, t.agency_id) IS NOT NULL
      ORDER BY i.dispatch_due_at, i.id`,
  );
  return rows.map((r) => r.id);
}

/** The agency's answer; the relay to the caller (callback) follows. */
export async function recordAgencyAnswer(
  sql: Sql,
  inquiryId: number,
  answer: { text: string; by: string },
): Promise<void> {
  if (answer.text.trim() === '') throw new OtklikError('VALIDATION_FAILED', 'answer text is empty');
  const rows = await sql.query(
    `UPDATE inquiries SET answer_text = $2, answered_by = $3, answered_at = now(), status = 'answered'
      WHERE id = $1 AND status IN ('registered', 'dispatched') RETURNING id`,
    [inquiryId, answer.text.trim(), answer.by],
  );
  if (rows.length === 0)
    throw new OtklikError('CONFLICT', `inquiry ${inquiryId} does not exist or is already answered`);
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

export interface InquiryFigures {
  registered: number;
  dispatchedLate: number;
  waitingForAgency: number;
  agencyOverdue: number;
  answered: number;
  /** The agency's answer reached the caller (relay_answer on the callback). */
  relayed: number;
  /** Answered, callbacks still to be tried (inquiries/relay.ts). */
  awaitingRelay: number;
  /** Three callbacks did not reach the caller: an operator must call by hand. */
  relayToOperator: number;
  /** Not passed to the agency: the mail was refused for good, or the dispatch deadline passed unsent. */
  dispatchStuck: number;
}

/**
 * An inquiry stuck on its way to the agency (parameter $1 is now): a supervisor must act. One definition for
 * the overview's count and the list's flag.
 */
export const dispatchStuckSql = `(status = 'registered' AND dispatched_at IS NULL
  AND (dispatch_error IS NOT NULL OR dispatch_due_at < $1))`;

/**
 * For the supervisor: which inquiries broke the 15-minute or the agency's deadline, and where relaying the
 * answers back to callers stands.
 */
export async function inquiryFigures(sql: Sql, now: Date): Promise<InquiryFigures> {
  const [row] = await sql.query<InquiryFigures>(
    `SELECT count(*)::int8 AS "registered",
            count(*) FILTER (WHERE COALESCE(dispatched_at, $1) > dispatch_due_at)::int8 AS "dispatchedLate",
            count(*) FILTER (WHERE status IN ('registered', 'dispatched'))::int8 AS "waitingForAgency",
            count(*) FILTER (WHERE status IN ('registered', 'dispatched') AND answer_due_at < $1)::int8 AS "agencyOverdue",
            count(*) FILTER (WHERE status IN ('answered', 'closed'))::int8 AS "answered",
            count(*) FILTER (WHERE relayed_at IS NOT NULL)::int8 AS "relayed",
            count(*) FILTER (WHERE status = 'answered' AND relayed_at IS NULL AND NOT relay_needs_operator)::int8 AS "awaitingRelay",
            count(*) FILTER (WHERE status = 'answered' AND relayed_at IS NULL AND relay_needs_operator)::int8 AS "relayToOperator",
            count(*) FILTER (WHERE ${dispatchStuckSql})::int8 AS "dispatchStuck"
       FROM inquiries`,
    [now],
  );
  return row!;
}
