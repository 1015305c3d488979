/**
 * relay_answer: the last leg of an inquiry (regional rules). The line registered the caller's question, the
 * agency answered it (inquiries/answer.ts recordAgencyAnswer), and the line calls the citizen back
 * (inquiries/relay.ts) with the inquiry id in the call's metadata. This step says the answer through the
 * dialog, so that it is in the call record like every other bot turn, and only then closes the inquiry:
 * a caller who hung up before hearing it is called again.
 */
import { type AnswerToRelay, answerToRelay, closeRelayed } from '../../inquiries/answer.js';
import { extensionNotice, markExtensionNoticed, spokenDeadline } from '../../inquiries/extension.js';
import { fillPrompt } from '../pipeline/prompts.js';
import { follow, type StepHandler } from './runner.js';

/** The inquiry id of the call's metadata: a number, or digits (fork metadata may carry strings). */
export function inquiryIdOf(extra: Record<string, unknown> | undefined): number | null {
  const raw = extra?.inquiryId;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw === 'string' && /^\d{1,15}$/.test(raw.trim())) return Number(raw.trim());
  return null;
}

/** «12 ноября» in the region's time zone: the day the caller asked, so that they recognize the question. */
function spokenDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('ru-RU', { timeZone, day: 'numeric', month: 'long' }).format(at);
}

/** After the answer: the extension it came after, and the other agencies' answers still to come and by when. */
export function relayTail(inquiry: AnswerToRelay): string {
  const parts: string[] = [];
  if (inquiry.extendedTo)
    parts.push(`Срок ответа продлевался до ${spokenDeadline(inquiry.extendedTo, inquiry.timezone)}.`);
  for (const p of inquiry.pending)
    parts.push(
      `Ответ${p.agencyName ? ` от организации «${p.agencyName}»` : ''} ожидается до ${spokenDeadline(p.answerDueAt, inquiry.timezone)}, мы позвоним вам ещё раз.`,
    );
  return parts.join(' ');
}

export const relayAnswerStep: StepHandler<'relay_answer'> = async (step, env) => {
  const { dialog, sql, leg, log } = env;
  const id = inquiryIdOf(leg.meta.extra);
  if (leg.meta.extra?.notice === 'extension' && id !== null) {
    // A notice callback of an extension (inquiries/extension.ts): the new date, said and marked told.
    const notice = await extensionNotice(sql, id);
    if (!notice || (notice.noticedAt !== null && notice.noticedAt < leg.meta.startedAt)) {
      await dialog.sayPrompt(step.missingPrompt);
      return follow(step, 'missing');
    }
    await dialog.say(notice.text);
    await markExtensionNoticed(sql, id, dialog.deps.wallClock());
    return follow(step, 'relayed');
  }
  const inquiry = id === null ? null : await answerToRelay(sql, id);
  const answer = inquiry?.answerText?.trim() ?? '';
  // «Нажмите один» repeats an answer: this call closed it, so it was relayed after the call began.
  const closedByThisCall =
    inquiry?.status === 'closed' && inquiry.relayedAt !== null && inquiry.relayedAt >= leg.meta.startedAt;
  const relayable = inquiry !== null && answer !== '' && (inquiry.status === 'answered' || closedByThisCall);
  if (!inquiry || !relayable) {
    // Never read out something that is not the agency's answer to this caller's inquiry.
    log.warn(
      { inquiryId: id, status: inquiry?.status ?? null },
      'no agency answer to relay on this call; an operator must call back',
    );
    await dialog.sayPrompt(step.missingPrompt);
    return follow(step, 'missing');
  }
  if (inquiry.topicId) dialog.topicId = inquiry.topicId;
  const intro = await dialog.promptText(step.prompt);
  const text = `${fillPrompt(intro, {
    id: String(inquiry.requestId),
    date: spokenDate(inquiry.receivedAt, inquiry.timezone),
    agency: inquiry.agencyName ?? '',
  })} ${answer}${relayTail(inquiry) ? ` ${relayTail(inquiry)}` : ''}`;
  // One turn with the introduction and the answer: the record shows exactly what the caller heard.
  await dialog.say(text);
  if (inquiry.status === 'answered') {
    // Closed only once the answer was said in full (say() throws CallEnded when the caller hung up
    // during it); closeRelayed's status guard keeps a second session from closing it twice.
    await closeRelayed(sql, inquiry.id, dialog.deps.wallClock());
    log.info({ inquiryId: inquiry.id }, 'agency answer relayed to the caller');
  }
  return follow(step, 'relayed');
};
