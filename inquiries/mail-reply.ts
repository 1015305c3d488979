/**
 * Inquiries, the agency answers by replying to the dispatch mail: `otklik inquiries ingest-mail` gives the
 * RFC 822 message (from the MTA's pipe) here. The inquiry is found by the dispatch mail's Message-ID in
 * In-Reply-To / References, else by the signed answer link quoted in the text (its signature, not its expiry,
 * counts: a late answer by mail is still an answer), else by the reference `[122-<inquiry>-<agency>]` in the
 * subject or text when the sender is the agency's own address. The quoted part and the signature are cut
 * off; what is left is recorded as from that agency (agency-answer.ts).
 */
import { simpleParser } from 'mailparser';
import { isOtklikError, OtklikError } from '../core/errors.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import type { Sql } from '../store/sql.js';
import { type AnswerDraft, recordAnswerFromAgency } from './agency-answer.js';
import { verifyAnswerLink } from './agency-link.js';
import { responsibleAgencyId } from './register.js';

/** Where the quoted dispatch mail (or a signature) starts in a reply, as the common mail programs write it. */
const quoteStarts = [
  /^>/,
  /^-{2,}\s*(Original Message|Исходное сообщение|Пересылаемое сообщение)/i,
  /^(On|В|Вт|Пн|Ср|Чт|Пт|Сб|Вс)[\s,].*(wrote|писал|написал|пишет)\s*:?\s*$/i,
  /^\d{1,2}[./]\d{1,2}[./]\d{2,4}.*(wrote|писал|написал|пишет)\s*:?\s*$/i,
  /^(From|От|Отправлено|Sent):\s/i,
  /^-- ?$/,
  /^_{5,}$/,
];

/** The reply's own text: everything above the quote or the signature, trimmed. */
export function replyText(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const end = lines.findIndex((l) => quoteStarts.some((re) => re.test(l.trim())));
  return (end < 0 ? lines : lines.slice(0, end)).join('\n').trim();
}

export interface IngestResult {
  inquiryId: number;
  agencyId: string;
  matchedBy: 'message-id' | 'link' | 'reference';
  text: string;
  draft: AnswerDraft;
}

const ids = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v : v ? v.split(/\s+/) : []).map((s) => s.trim()).filter((s) => s.startsWith('<'));

/**
 * Records the answer a reply carries; NOT_FOUND when it matches no inquiry of its agency, VALIDATION_FAILED
 * when nothing is left above the quote, CONFLICT when the inquiry is already answered. The caller keeps
 * the message when this throws (cli/commands/inquiries.ts).
 */
export async function ingestAgencyReply(
  sql: Sql,
  raw: Buffer | string,
  opts: { secret?: string | undefined; now: Date },
): Promise<IngestResult> {
  const mail = await simpleParser(raw);
  const body = mail.text ?? '';
  const subject = mail.subject ?? '';
  const refs = [...ids(mail.inReplyTo), ...ids(mail.references as string | string[] | undefined)];
  const kb = createKnowledgeBase(sql);
  const agencyOfRow = async (r: { topic_id: string | null; agency_id: string | null }) =>
    responsibleAgencyId({ agencyId: r.agency_id }, r.topic_id ? await kb.topic(r.topic_id) : null);

  let match: { inquiryId: number; agencyId: string; matchedBy: IngestResult['matchedBy'] } | null = null;
  if (refs.length > 0) {
    const [row] = await sql.query<{ id: number; topic_id: string | null; agency_id: string | null }>(
      'SELECT id, topic_id, agency_id FROM inquiries WHERE dispatch_message_id = ANY($1::text[]) ORDER BY id LIMIT 1',
      [refs],
    );
    const agencyId = row ? await agencyOfRow(row) : null;
    if (row && agencyId) match = { inquiryId: Number(row.id), agencyId, matchedBy: 'message-id' };
  }
  if (!match && opts.secret) {
    for (const m of body.matchAll(/[?&]t=([A-Za-z0-9_\-.%]+)/g)) {
      try {
        const claims = verifyAnswerLink(opts.secret, decodeURIComponent(m[1]!), opts.now, {
          ignoreExpiry: true,
        });
        match = { inquiryId: claims.inquiryId, agencyId: claims.agencyId, matchedBy: 'link' };
        break;
      } catch (err) {
        if (!isOtklikError(err, 'LINK_INVALID')) throw err;
      }
    }
  }
  if (!match) {
    const ref = /\[122-(\d+)-([^\]\s]+)\]/.exec(`${subject}\n${body}`);
    const sender = mail.from?.value[0]?.address?.toLowerCase();
    if (ref && sender) {
      const agency = await kb.agency(ref[2]!);
      if (agency?.email?.toLowerCase() === sender)
        match = { inquiryId: Number(ref[1]), agencyId: agency.id, matchedBy: 'reference' };
    }
  }
  if (!match)
    throw new OtklikError(
      'NOT_FOUND',
      `Письмо «${subject}» от ${mail.from?.text ?? 'неизвестного отправителя'} не удалось сопоставить с обращением: нет ссылки на письмо службы 122, подписанной ссылки или кода обращения от адреса ведомства`,
    );
  const text = replyText(body);
  if (text === '')
    throw new OtklikError(
      'VALIDATION_FAILED',
      `В ответе на обращение № ${match.inquiryId} нет текста над цитатой: ответ не записан`,
    );
  const { draft } = await recordAnswerFromAgency(sql, { ...match, text, channel: 'mail', now: opts.now });
  return { ...match, text, draft };
}
