/**
 * Steps that end the bot's part of a call: enqueue (to the operators through the injected hand-off, with the
 * context package), forward (to the responsible agency within its hours, on the call's leg), inquiry
 * (registered for a callback, number confirmed by voice or keys), survey (score 1-5), emergency (112/103 at
 * once, then a transfer or the operators) and hangup (goodbye).
 */

import { saveSurvey } from '../../calls/records.js';
import { UNITS_NOM } from '../../core/russian.js';
import { registerInquiry } from '../../inquiries/register.js';
import type { EnqueueOutcome, HandOffContext } from '../../media/handoff.js';
import { dictatedDigit } from '../../nlu/numbers.js';
import type { Heard } from '../pipeline/dialog.js';
import { formatPhone, normalizePhone } from './phone.js';
import { waitForOperator } from './queue-wait.js';
import { ask, askYesNo, follow, hear, type StepEnv, type StepHandler } from './runner.js';
import { isQuestionIntent, operatorsOpen, responsibleAgency } from './steps-consult.js';

/** Digits a caller said: "8 999 123 45 67", "восемь девять девять девять…", or a phone entity. */
export function spokenDigits(heard: Heard): string {
  if (heard.kind !== 'speech') return '';
  const phone = heard.classification.entities.find((e) => e.type === 'phone');
  if (phone) return String(phone.value).replace(/\D/g, '');
  return heard.text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .split(/[^a-zа-я0-9]+/)
    .map((w) => (/^\d+$/.test(w) ? w : (dictatedDigit(w)?.toString() ?? '')))
    .join('');
}

/** What the bot learned in the call, for the operator who takes it. */
export function handOffContext(env: StepEnv, reason: string): HandOffContext {
  const { dialog } = env;
  return {
    reason,
    callerNumber: dialog.deps.meta.from || null,
    topic: dialog.topicId,
    intents: dialog.intents.map((i) => ({ ...i })),
    entities: dialog.entities.map((e) => ({ type: e.type, text: e.text, value: e.value })),
    transcript: dialog.transcript.map((t) => ({ ...t })),
    answers: [...dialog.answers],
  };
}

/**
 * Hands the call to the operators with everything the bot learned; once queued, the dialog's outcome is
 * escalated. `unserved`: nobody takes calls here (no hand-off, or the web chat); `failed`: the queue cannot
 * take it now (store down). Either way the caller is not left waiting for nobody.
 */
export async function escalate(env: StepEnv, reason: string): Promise<EnqueueOutcome | 'failed'> {
  const { dialog, handOff, log } = env;
  if (!handOff) return 'unserved';
  let outcome: EnqueueOutcome;
  try {
    outcome = await handOff.enqueue({
      callId: dialog.deps.callId,
      channel: env.channel,
      topicId: dialog.topicId,
      context: handOffContext(env, reason),
      at: dialog.deps.wallClock(),
    });
  } catch (err) {
    log.error({ err, callId: dialog.deps.callId }, 'cannot put the call in the operator queue');
    return 'failed';
  }
  if (outcome !== 'queued') return outcome;
  dialog.queued = true;
  // An emergency put through to an operator is still reported as an emergency.
  if (dialog.outcome !== 'emergency') dialog.outcome = 'escalated';
  env.onEscalate?.(reason);
  return 'queued';
}

/** The caller hung up while waiting for an operator. */
export async function abandonQueue(env: Pick<StepEnv, 'handOff' | 'log' | 'dialog'>): Promise<void> {
  const callId = env.dialog.deps.callId;
  try {
    // The wait is measured on the call's own clock, the one it was queued on (a simulated call's `at`).
    await env.handOff?.abandon(callId, env.dialog.deps.wallClock());
  } catch (err) {
    env.log.error({ err, callId }, 'cannot mark the queued call abandoned');
  }
}

export const enqueueStep: StepHandler<'enqueue'> = async (step, env) => {
  const { dialog } = env;
  if (!(await operatorsOpen(env))) return follow(step, 'closed');
  const reason = dialog.escalationReason ?? (dialog.noMatchCount >= 2 ? 'misunderstood' : step.reason);
  const outcome = await escalate(env, reason);
  // Nobody could take the call off the queue (the web chat has no operator desk yet), or the queue is out of
  // order: telling the caller to stay on the line would be a wait without end. The flow offers another way
  // (an inquiry); a flow without that branch takes its after-hours branch.
  if (outcome !== 'queued') return follow(step, step.on[outcome] ? outcome : 'closed');
  await dialog.sayPrompt('escalate');
  await dialog.sayPrompt('queue_wait');
  // Waiting for an operator: position, expected wait, the callback offer at the norm (queue-wait.ts), until
  // telephony bridges the call, an operator takes the chat on the desk, or the caller hangs up.
  return waitForOperator(env, step);
};

export const forwardStep: StepHandler<'forward'> = async (step, env) => {
  const { dialog, kb, leg } = env;
  const agencyId = await responsibleAgency(env);
  const agency = agencyId ? await kb.agency(agencyId) : null;
  if (!agency?.forwardNumber) return follow(step, 'no_agency');
  dialog.agencyId = agency.id;
  const open = await kb.agencyOpen(agency.id, dialog.deps.wallClock());
  if (!open.open) return follow(step, 'closed');
  await dialog.sayPrompt('forward', { agency: agency.name, number: agency.forwardNumber });
  // How long to wait is the leg's: telephony rings for FORWARD_TIMEOUT_MS, and the media socket waits for its
  // result a little longer (cli/services.ts); a fixed wait here would give up on a forward that still rings.
  const result = await leg.forward(agency.forwardNumber);
  if (result.status === 'answered') {
    dialog.outcome = 'forwarded';
    return null;
  }
  env.log.warn({ agency: agency.id, status: result.status }, 'forward to the agency failed');
  await dialog.sayPrompt('forward_failed');
  return follow(step, 'failed');
};

/** Collects a callback number by voice or keys (ended by #, 11 digits, or a pause). */
async function askNumber(env: StepEnv, stepId: string): Promise<string | null> {
  await ask(env, `${stepId}:inquiry_number_ask`, () => env.dialog.sayPrompt('inquiry_number_ask'));
  let digits = '';
  for (;;) {
    const heard = await hear(env, { ownKeys: 'all', notQuestion: true });
    if (heard.kind === 'dtmf') {
      if (heard.digit === '#') break;
      if (/\d/.test(heard.digit)) digits += heard.digit;
      if (digits.length >= 11) break;
      continue;
    }
    if (heard.kind === 'speech') digits += spokenDigits(heard);
    break;
  }
  return normalizePhone(digits);
}

/**
 * What the inquiry is about: the caller's own words (those said where the bot asked an open question, since
 * the last answer; a request such as «перезвоните мне» only when they said nothing else), the topic and
 * the agency of the question the bot recognized. An agency is never guessed from the line's own service
 * topic: without one, staff choose it in «Обращения» before the inquiry is sent.
 */
async function inquirySubject(env: StepEnv): Promise<{
  question: string;
  intentId: string | null;
  topicId: string | null;
  agencyId: string | null;
}> {
  const { dialog, kb } = env;
  const said = dialog.questionTexts;
  const own = said.filter((s) => !s.intent.startsWith('service.'));
  const question = (own.length > 0 ? own : said).map((s) => s.text).join(' / ');
  const lineTopic = (id: string | null | undefined) => !id || id === 'service' || id === 'dialog';
  const askedIntent = [...dialog.intents]
    .reverse()
    .find((i) => isQuestionIntent(i.intent) && !i.intent.startsWith('service.'));
  const intent = askedIntent ? await kb.intent(askedIntent.intent) : null;
  const topicId = [intent?.topicId, dialog.topicId].find((t) => !lineTopic(t)) ?? null;
  const agencyId = (dialog.agencyId ?? (topicId ? (await kb.topic(topicId))?.agencyId : null)) || null;
  return { question, intentId: intent?.id ?? null, topicId, agencyId };
}

export const inquiryStep: StepHandler<'inquiry'> = async (step, env) => {
  const { dialog, sql } = env;
  if (step.offer) {
    const consent = await askYesNo(env, `${step.id}:inquiry_offer`, () => dialog.sayPrompt('inquiry_offer'));
    if (!consent) return follow(step, 'declined');
  }
  let number = normalizePhone(dialog.deps.meta.from ?? '');
  for (;;) {
    if (!number) {
      number = await askNumber(env, step.id);
      if (!number) {
        await dialog.sayPrompt('no_match', {}, { repeatable: false });
        continue;
      }
    }
    const shown = formatPhone(number);
    const confirmed = await askYesNo(env, `${step.id}:inquiry_number_confirm`, () =>
      dialog.sayPrompt('inquiry_number_confirm', { number: shown }),
    );
    if (confirmed) break;
    number = null;
  }
  let subject = await inquirySubject(env);
  if (!subject.question) {
    // Keys only so far: the staff and the agency need the question in the caller's words.
    await ask(env, `${step.id}:inquiry_question_ask`, () => dialog.sayPrompt('inquiry_question_ask'));
    const heard = await hear(env);
    subject = await inquirySubject(env);
    if (!subject.question && heard.kind === 'speech') subject.question = heard.text;
  }
  const inquiry = await registerInquiry(sql, {
    callId: dialog.deps.callId,
    question: subject.question || 'Абонент не назвал вопрос',
    intentId: subject.intentId,
    topicId: subject.topicId,
    agencyId: subject.agencyId,
    callbackNumber: number,
    receivedAt: dialog.deps.wallClock(),
  });
  dialog.outcome = 'inquiry';
  await dialog.sayPrompt('inquiry_registered', {
    id: String(inquiry.requestId),
    deadline: formatDeadline(inquiry.answerDueAt, inquiry.timezone),
  });
  return follow(step, 'registered');
};

function formatDeadline(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('ru-RU', {
    timeZone,
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
  }).format(at);
}

/** A score said as a number («три») or as a school mark («тройка»). */
const scoreWords: Record<string, number> = {
  ...Object.fromEntries(UNITS_NOM.slice(1, 6).map((word, i) => [word, i + 1])),
  единица: 1,
  двойка: 2,
  тройка: 3,
  четверка: 4,
  пятерка: 5,
};

export function surveyScore(heard: Heard): number | null {
  if (heard.kind === 'dtmf') return /^[1-5]$/.test(heard.digit) ? Number(heard.digit) : null;
  if (heard.kind !== 'speech') return null;
  for (const word of heard.text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .split(/[^a-zа-я0-9]+/)) {
    if (/^[1-5]$/.test(word)) return Number(word);
    if (scoreWords[word]) return scoreWords[word]!;
  }
  return null;
}

export const surveyStep: StepHandler<'survey'> = async (step, env) => {
  const { dialog, sql, log } = env;
  await ask(env, `${step.id}:survey`, () => dialog.sayPrompt('survey'));
  const score = surveyScore(await hear(env, { ownKeys: 'all', notQuestion: true }));
  if (score !== null) {
    await saveSurvey(sql, dialog.deps.callId, score, dialog.deps.wallClock()).catch((err) =>
      log.error({ err }, 'cannot store the survey score'),
    );
    await dialog.sayPrompt('survey_thanks');
  }
  return step.next;
};

export const emergencyStep: StepHandler<'emergency'> = async (step, env) => {
  const { dialog, leg } = env;
  dialog.outcome = 'emergency';
  await dialog.sayPrompt(step.prompt, {}, { bargeIn: false });
  // A web chat cannot be put through to a phone line: it goes on to the operators at once.
  const uri = leg.meta.channel === 'text' ? undefined : env.emergencyTransferUri;
  if (uri) {
    await dialog.sayPrompt(step.transferPrompt, {}, { bargeIn: false });
    // Rings as long as any forward (FORWARD_TIMEOUT_MS, the leg's own wait); then the operators take the caller.
    const result = await leg.forward(uri);
    if (result.status === 'answered') {
      dialog.transferred = true;
      return null;
    }
    env.log.warn({ status: result.status }, 'transfer to the emergency service failed');
    await dialog.sayPrompt('forward_failed');
  }
  return step.next;
};

export const hangupStep: StepHandler<'hangup'> = async (step, env) => {
  if (step.prompt) await env.dialog.sayPrompt(step.prompt, {}, { bargeIn: false });
  return null;
};
