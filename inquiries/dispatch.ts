/**
 * Inquiries, dispatch: a registered question goes to the responsible agency by mail within the agreement's
 * minutes (inquiries/deadlines.ts; 15 by the Irkutsk rule), one mail per agency of a request, each with its own
 * deadline, or waits for staff to choose the agency where no topic fitted. The agency and its
 * address come from the knowledge base's functions. These are plain async functions; admin/jobs/worker.ts
 * schedules them as BullMQ jobs.
 */
import nodemailer from 'nodemailer';
import { isOtklikError, OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { zoneOffsetMs } from '../kb/zoned-time.js';
import type { Sql } from '../store/sql.js';
import { type AnswerLinkOptions, answerLinkUrl, signAnswerLink } from './agency-link.js';
import { responsibleAgencyId } from './register.js';

/** The reference in the subject and the text that a reply keeps: `[122-<inquiry>-<agency>]` (mail-reply.ts). */
export const inquiryReference = (inquiryId: number, agencyId: string) => `[122-${inquiryId}-${agencyId}]`;

/** The dispatch mail's Message-ID; the domain is the sender's. */
export function inquiryMessageId(inquiryId: number, agencyId: string, from: string, tag: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'otklik.local';
  return `<inquiry-${inquiryId}.${encodeURIComponent(agencyId)}.${tag}@${domain}>`;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The Message-ID to send with (`<...@...>`); a reply's In-Reply-To names it (mail-reply.ts). */
  messageId?: string;
  /** Files sent with the message (the mailed reports' CSV or XLSX). */
  attachments?: Array<{ filename: string; content: Buffer | string; contentType: string }>;
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
  /** Signs the answer link the mail carries (agency-link.ts); without it the mail has no link. */
  answerLink?: AnswerLinkOptions;
  /** The sender's address (mail.from): the Message-ID's domain. */
  mailFrom?: string;
}

interface InquiryForMail {
  id: number;
  question: string;
  callback_number: string;
  received_at: Date;
  answer_due_at: Date;
  topic_title: string | null;
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
export function inquiryMail(
  inquiry: InquiryForMail,
  timeZone: string,
  answer?: { agencyId: string; link?: { url: string; expiresAt: Date } },
): MailMessage {
  const ru = (d: Date) => d.toLocaleString('ru-RU', { timeZone });
  const reference = answer ? ` ${inquiryReference(inquiry.id, answer.agencyId)}` : '';
  const how = answer
    ? [
        '',
        ...(answer.link
          ? [
              `Ответить без входа в систему (ссылка действует до ${ru(answer.link.expiresAt)}):`,
              answer.link.url,
              '',
            ]
          : []),
        'Можно ответить на это письмо: напишите ответ над цитатой и не меняйте тему письма.',
        `Код обращения: ${inquiryReference(inquiry.id, answer.agencyId)}`,
      ]
    : [];
  return {
    to: inquiry.agency_email ?? '',
    subject: `Служба 122: обращение № ${inquiry.id} — ответ до ${ru(inquiry.answer_due_at)}${reference}`,
    text: [
      `Уважаемые коллеги (${inquiry.agency_name ?? 'уполномоченное лицо'})!`,
      '',
      `В единую службу 122 поступило обращение № ${inquiry.id}${inquiry.topic_title ? ` по теме «${inquiry.topic_title}»` : ''}.`,
      `Получено: ${ru(inquiry.received_at)} (местное время, ${utcOffset(inquiry.received_at, timeZone)}).`,
      '',
      `Вопрос гражданина: ${inquiry.question}`,
      `Номер для обратного звонка: ${inquiry.callback_number}`,
      '',
      `Просим направить ответ до ${ru(inquiry.answer_due_at)} (местное время, ${utcOffset(inquiry.answer_due_at, timeZone)}) через кабинет службы 122 или ответным письмом, указав номер обращения.`,
      'Если ответ не может быть дан в срок, сообщите причину: срок может быть продлён в пределах соглашения.',
      'Письмо содержит персональные данные (152-ФЗ): используйте их только для ответа на это обращение.',
      ...how,
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
  const [inquiry] = await deps.sql.query<{
    id: number;
    question: string;
    callback_number: string;
    received_at: Date;
    answer_due_at: Date;
    dispatched_at: Date | null;
    topic_id: string | null;
    agency_id: string | null;
  }>(
    `SELECT id, question, callback_number, received_at, answer_due_at, dispatched_at, topic_id, agency_id
       FROM inquiries WHERE id = $1`,
    [inquiryId],
  );
  if (!inquiry) throw new OtklikError('NOT_FOUND', `inquiry ${inquiryId} does not exist`);
  if (inquiry.dispatched_at) return 'already_sent';
  const kb = createKnowledgeBase(deps.sql);
  const topic = inquiry.topic_id ? await kb.topic(inquiry.topic_id) : null;
  const agencyId = responsibleAgencyId({ agencyId: inquiry.agency_id }, topic);
  const agency = agencyId ? await kb.agency(agencyId) : null;
  if (!agency) return 'no_agency';
  if (!agency.email || !deps.mailer) {
    const reason = !deps.mailer ? 'почта не настроена (SMTP_URL)' : 'у уполномоченного лица не указан e-mail';
    await deps.sql.query('UPDATE inquiries SET dispatch_error = $2 WHERE id = $1', [inquiryId, reason]);
    deps.log.warn({ inquiryId, reason }, 'inquiry cannot be sent by mail; a supervisor must pass it on');
    return 'no_email';
  }
  const timeZone = deps.timezone ?? (await kb.timezone());
  const link = deps.answerLink
    ? (() => {
        const expiresAt = new Date(inquiry.answer_due_at.getTime() + deps.answerLink.graceMs);
        const token = signAnswerLink(deps.answerLink.secret, { inquiryId, agencyId: agency.id, expiresAt });
        return { url: answerLinkUrl(deps.answerLink.publicUrl, token), expiresAt, tag: token.slice(-12) };
      })()
    : undefined;
  const messageId = inquiryMessageId(inquiryId, agency.id, deps.mailFrom ?? '', link?.tag ?? 'm');
  const mail = {
    ...inquiryMail(
      {
        ...inquiry,
        topic_title: topic?.title ?? null,
        agency_name: agency.name,
        agency_email: agency.email,
      },
      timeZone,
      { agencyId: agency.id, ...(link ? { link } : {}) },
    ),
    messageId,
  };
  try {
    await deps.mailer.send(mail);
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
    `UPDATE inquiries SET dispatched_at = $2, dispatch_error = NULL, dispatch_message_id = $3,
            status = CASE WHEN status = 'registered' THEN 'dispatched' ELSE status END
      WHERE id = $1`,
    [inquiryId, now(), messageId],
  );
  deps.log.info({ inquiryId }, 'inquiry sent to the agency');
  return 'sent';
}

/** Inquiries registered and not yet sent, oldest first; those still without an agency wait for staff. */
export async function undispatchedInquiries(sql: Sql): Promise<number[]> {
  const rows = await sql.query<{ id: number; topic_id: string | null; agency_id: string | null }>(
    `SELECT id, topic_id, agency_id FROM inquiries
      WHERE dispatched_at IS NULL AND dispatch_error IS NULL AND status = 'registered'
      ORDER BY dispatch_due_at, id`,
  );
  // The topics only where a topic decides: most sweeps find nothing to send.
  if (rows.every((r) => r.agency_id !== null)) return rows.map((r) => r.id);
  const topics = new Map((await createKnowledgeBase(sql).topics()).map((t) => [t.id as string, t]));
  return rows
    .filter(
      (r) => responsibleAgencyId({ agencyId: r.agency_id }, topics.get(r.topic_id ?? '') ?? null) !== null,
    )
    .map((r) => r.id);
}

/**
 * Staff choose the agency of an inquiry no topic fitted (or correct it) before it is sent; the next sweep
 * mails it. Gives the agency's name for the list.
 */
export async function assignAgency(
  sql: Sql,
  inquiryId: number,
  agencyId: string,
): Promise<{ agencyId: string; agencyName: string }> {
  const agency = await createKnowledgeBase(sql).agency(agencyId);
  if (!agency)
    throw new OtklikError('VALIDATION_FAILED', 'Такого уполномоченного лица нет в базе знаний', {
      retryable: false,
    });
  // Only before the inquiry was sent: the mail sweep picks it up once it has an agency.
  const rows = await sql.query(
    `UPDATE inquiries SET agency_id = $2, dispatch_error = NULL
      WHERE id = $1 AND dispatched_at IS NULL AND status = 'registered' RETURNING id`,
    [inquiryId, agencyId],
  );
  if (rows.length === 0)
    throw new OtklikError('CONFLICT', 'Обращение не найдено или уже передано уполномоченному лицу', {
      retryable: false,
    });
  return { agencyId, agencyName: agency.name };
}
