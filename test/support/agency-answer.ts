/**
 * An inquiry as the agency answer tests need it: a call with a few turns (a phone number said among them), the
 * registered question for `social.benefits`, dispatched through a real SMTP server with the signed answer
 * link; gives the inquiry id, its agency and the raw dispatch mail.
 */
import { randomUUID } from 'node:crypto';
import { addTurn, createCall } from '../../calls/records.js';
import { silentLogger } from '../../core/log.js';
import type { AnswerLinkOptions } from '../../inquiries/agency-link.js';
import { dispatchInquiry, smtpMailer } from '../../inquiries/dispatch.js';
import { registerInquiry } from '../../inquiries/register.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import { decodeMail, type startSmtp, waitFor } from './smtp.js';

export const LINK_SECRET = 'секрет-подписи-ссылок-ведомств-для-тестов';
export const MAIL_FROM = '122@otklik.test';

export async function dispatchedInquiry(
  sql: Sql,
  smtp: Awaited<ReturnType<typeof startSmtp>>,
  opts: { receivedAt: Date; answerLink: AnswerLinkOptions; question?: string },
) {
  const callId = randomUUID();
  const callbackNumber = '+79161234567';
  await createCall(sql, {
    id: callId,
    channel: 'text',
    callerNumber: callbackNumber,
    dialledNumber: '122',
    startedAt: new Date(opts.receivedAt.getTime() - 5 * 60_000),
  });
  const turns = [
    { who: 'bot' as const, text: 'Здравствуйте! Чем могу помочь?' },
    {
      who: 'caller' as const,
      text: 'Когда придёт пособие на ребёнка? Мой телефон 8 916 123-45-67, почта ivanova@mail.ru',
    },
    { who: 'bot' as const, text: 'Я передам вопрос в ведомство, вам перезвонят.' },
  ];
  for (const [i, t] of turns.entries()) await addTurn(sql, callId, i + 1, { ...t, atMs: i * 1000 });
  const { id } = await registerInquiry(sql, {
    callId,
    question: opts.question ?? 'Когда придёт пособие на ребёнка? Звоните 8 916 123-45-67',
    intentId: 'social.benefits',
    topicId: 'social',
    agencyId: null,
    callbackNumber,
    receivedAt: opts.receivedAt,
  });
  const kb = createKnowledgeBase(sql);
  const agency = (await kb.agency((await kb.topic('social'))!.agencyId!))!;
  const before = smtp.received.length;
  const result = await dispatchInquiry(
    {
      sql,
      mailer: smtpMailer(`smtp://127.0.0.1:${smtp.port}`, MAIL_FROM),
      log: silentLogger,
      now: () => new Date(opts.receivedAt.getTime() + 60_000),
      answerLink: opts.answerLink,
      mailFrom: MAIL_FROM,
    },
    id,
  );
  if (result !== 'sent') throw new Error(`dispatch: ${result}`);
  const raw = await waitFor(() => smtp.received[before]?.body, 'the dispatch mail');
  const text = decodeMail(raw);
  const link = /https?:\/\/\S+\/agency\/answer\?t=\S+/.exec(text)?.[0];
  if (!link) throw new Error(`no answer link in the mail:\n${text}`);
  return {
    id,
    agency,
    callbackNumber,
    raw,
    text,
    link,
    token: decodeURIComponent(new URL(link).searchParams.get('t')!),
  };
}
