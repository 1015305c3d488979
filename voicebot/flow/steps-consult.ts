/**
 * Steps of the consult part of a call: say, menu, listen, branch, answer, confirm.
 * The policy they implement: greeting with the active incidents, the IVR menu by key or spoken topic,
 * answers only from approved scripts (with the version recorded), confirmation when NLU is unsure,
 * reprompts on silence, and a count of misunderstandings that leads to a person.
 */
import { effectiveHandling } from '../../kb/answer-handling.js';
import type { Menu, MenuItem } from '../../kb/types.js';
import type { Heard } from '../pipeline/dialog.js';
import { ask, FlowError, follow, hear, type StepEnv, type StepHandler, YES_NO, yesNo } from './runner.js';

/** Is this an intent that names a question of the line (not dialog control or out of scope)? */
export function isQuestionIntent(intent: string): boolean {
  return intent !== 'out_of_scope' && !intent.startsWith('dialog.');
}

function normalizeWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[^a-zа-я0-9\s-]/g, ' ');
}

export function matchMenuKeyword(menu: Menu, text: string): MenuItem | null {
  const words = normalizeWords(text);
  for (const item of menu.items) {
    for (const kw of [...item.keywords, item.label]) {
      const k = normalizeWords(kw).trim();
      if (k && words.includes(k)) return item;
    }
  }
  return null;
}

export const sayStep: StepHandler<'say'> = async (step, env) => {
  const { dialog, kb } = env;
  if (step.prompt) await dialog.sayPrompt(step.prompt);
  if (step.incidents) {
    const incidents = await kb.activeIncidents(dialog.deps.wallClock()).catch((err) => {
      env.log.error({ err }, 'cannot read active incidents');
      return [];
    });
    if (incidents.length > 0) {
      await dialog.sayPrompt('incident_intro');
      for (const incident of incidents) await dialog.say(incident.announcement);
    }
  }
  return step.next;
};

async function menuOutcome(item: MenuItem, env: StepEnv, step: Parameters<StepHandler<'menu'>>[0]) {
  const { dialog } = env;
  const action = item.action;
  switch (action.kind) {
    case 'topic':
      dialog.topicId = action.topicId;
      return { to: follow(step, 'topic') };
    case 'queue':
      return { to: follow(step, 'queue') };
    case 'forward':
      dialog.agencyId = action.agencyId;
      return { to: follow(step, 'forward') };
    case 'message':
      await dialog.sayPrompt(action.promptId);
      return { to: follow(step, 'message') };
    case 'submenu':
      return { submenu: action.menuId };
  }
}

export const menuStep: StepHandler<'menu'> = async (step, env) => {
  const { dialog, kb } = env;
  let menu = await kb.menu(step.menu);
  if (!menu) throw new FlowError(`menu "${step.menu}" is not in the knowledge base`);
  if (dialog.deps.speechAvailable === false) await dialog.sayPrompt('speech_unavailable');
  let noInput = 0;
  const askMenu = () => ask(env, `${step.id}:${menu!.id}`, () => dialog.sayPrompt(menu!.promptId));
  await askMenu();
  for (;;) {
    const heard = await hear(env, { ownKeys: menu.items.map((i) => i.digit) });
    let item: MenuItem | null = null;
    if (heard.kind === 'silence') {
      if (++noInput > step.retries) return follow(step, 'no_input');
      await dialog.sayPrompt('no_input', {}, { repeatable: false });
      await askMenu();
      continue;
    }
    if (heard.kind === 'dtmf') {
      item = menu.items.find((i) => i.digit === heard.digit) ?? null;
    } else {
      const c = heard.classification;
      const question = isQuestionIntent(c.intent);
      // A clear question goes straight to the consult; a topic word picks the menu item.
      if (question && !c.needsConfirmation) {
        dialog.classification = c;
        return follow(step, 'intent');
      }
      item = matchMenuKeyword(menu, heard.text);
      if (!item && question) {
        dialog.classification = c;
        return follow(step, 'intent');
      }
    }
    if (!item) {
      if (++dialog.noMatchCount >= step.maxNoMatch) return follow(step, 'no_match');
      await dialog.sayPrompt('no_match', {}, { repeatable: false });
      await askMenu();
      continue;
    }
    if (item.action.kind === 'message' && item.action.promptId === menu.promptId) {
      // «Повторить меню» is a message item that plays the menu itself: the caller asked, so it is not
      // counted as the bot asking again.
      await dialog.sayPrompt(menu.promptId);
      continue;
    }
    const result = await menuOutcome(item, env, step);
    if (result.to) return result.to;
    const sub = await kb.menu(result.submenu!);
    if (!sub) throw new FlowError(`submenu "${result.submenu}" is not in the knowledge base`);
    menu = sub;
    await askMenu();
  }
};

async function topicTitle(env: StepEnv): Promise<string> {
  if (!env.dialog.topicId) return '';
  return (await env.kb.topic(env.dialog.topicId))?.title ?? '';
}

export const listenStep: StepHandler<'listen'> = async (step, env) => {
  const { dialog } = env;
  const askOwn = async () => {
    if (!step.prompt) return;
    const topic = await topicTitle(env);
    await ask(env, `${step.id}:${step.prompt}`, () => dialog.sayPrompt(step.prompt!, { topic }));
  };
  await askOwn();
  let noInput = 0;
  for (;;) {
    const heard: Heard = await hear(env, { ownKeys: Object.keys(step.digits) });
    if (heard.kind === 'silence') {
      if (++noInput > step.noInputRetries) return follow(step, 'no_input');
      await dialog.sayPrompt('no_input', {}, { repeatable: false });
      await askOwn();
      continue;
    }
    if (heard.kind === 'dtmf') {
      const to = step.digits[heard.digit];
      if (to) return to;
      await dialog.sayPrompt('no_match', {}, { repeatable: false });
      continue;
    }
    const c = heard.classification;
    if (c.intent === 'out_of_scope') {
      if (++dialog.noMatchCount >= step.maxNoMatch) return follow(step, 'no_match');
      await dialog.sayPrompt('no_match', {}, { repeatable: false });
      continue;
    }
    dialog.classification = c;
    return follow(step, 'intent');
  }
};

export const branchStep: StepHandler<'branch'> = async (step, env) => {
  const { dialog, kb } = env;
  const c = dialog.classification;
  const yes = (v: boolean) => (v ? 'yes' : 'no');
  let key: string | null = null;
  switch (step.by) {
    case 'intent':
      key = c?.intent ?? null;
      break;
    case 'handling': {
      // The approved version's handling decides for a scripted intent (kb/answer-handling.ts).
      const intent = c ? await kb.intent(c.intent) : null;
      key = intent ? effectiveHandling(intent.handling, await kb.approvedAnswer(intent.id)) : null;
      break;
    }
    case 'confirmation':
      key = c?.needsConfirmation ? 'needed' : null;
      break;
    case 'operators_open':
      key = yes(await operatorsOpen(env));
      break;
    case 'agency_open': {
      const agencyId = await responsibleAgency(env);
      key = agencyId ? yes((await kb.agencyOpen(agencyId, dialog.deps.wallClock())).open) : 'no';
      break;
    }
    case 'answered':
      key = yes(dialog.answered);
      break;
  }
  return (key !== null ? step.cases[key] : undefined) ?? step.default;
};

/**
 * The line is open for operators when their hours say so (those of the `service` topic's agency; no agency
 * means always) OR when an operator who can take this channel is signed in (the hand-off's `staffed`):
 * after hours the call still reaches them, and the after-hours path runs only when nobody can take it.
 */
export async function operatorsOpen(env: StepEnv): Promise<boolean> {
  const agencyId = (await env.kb.topic('service'))?.agencyId;
  if (!agencyId) return true;
  if ((await env.kb.agencyOpen(agencyId, env.dialog.deps.wallClock())).open) return true;
  if (!env.handOff) return false;
  try {
    return await env.handOff.staffed(env.channel);
  } catch (err) {
    // The queue cannot say (store down): the hours decide, as they did before anyone could sign in.
    env.log.error({ err }, 'cannot tell whether an operator is signed in; going by the hours');
    return false;
  }
}

/** The agency responsible for the call: chosen in the menu, or the agency of the question's topic. */
export async function responsibleAgency(env: StepEnv): Promise<string | null> {
  const { dialog, kb } = env;
  if (dialog.agencyId) return dialog.agencyId;
  const intent = dialog.classification ? await kb.intent(dialog.classification.intent) : null;
  const topicId = intent?.topicId ?? dialog.topicId;
  if (!topicId) return null;
  return (await kb.topic(topicId))?.agencyId ?? null;
}

export const answerStep: StepHandler<'answer'> = async (step, env) => {
  const { dialog, kb } = env;
  const c = dialog.classification;
  if (!c) throw new FlowError(`step "${step.id}": nothing to answer (no recognized question)`);
  const intent = await kb.intent(c.intent);
  if (intent) dialog.topicId = intent.topicId;
  const answer = await kb.approvedAnswer(c.intent);
  if (!answer) {
    await dialog.sayPrompt('answer_unavailable');
    return follow(step, 'unavailable');
  }
  dialog.answers.push({ intent: answer.intentId, answerVersion: answer.versionTag });
  dialog.progressed();
  // The web chat shows the version's written text where it has one; a call hears the spoken one.
  const text = dialog.promptForm === 'chat' ? (answer.chat ?? answer.speech) : answer.speech;
  await dialog.say(text, { answerVersion: answer.versionTag });
  return follow(step, 'answered');
};

export const confirmStep: StepHandler<'confirm'> = async (step, env) => {
  const { dialog, kb } = env;
  const c = dialog.classification;
  if (!c) throw new FlowError(`step "${step.id}": nothing to confirm`);
  const title = (await kb.intent(c.intent))?.title ?? c.intent;
  const askConfirm = () =>
    ask(env, `${step.id}:${step.prompt}`, () =>
      dialog.sayPrompt(step.prompt, { title }, { confirms: c.intent }),
    );
  let silences = 0;
  await askConfirm();
  for (;;) {
    const heard = await hear(env, { expected: YES_NO, ownKeys: ['1', '2'] });
    if (heard.kind === 'silence') {
      if (++silences > 1) return follow(step, 'no_input');
      await askConfirm();
      continue;
    }
    const answer = yesNo(heard);
    if (answer === true) {
      dialog.classification = { ...c, needsConfirmation: false };
      return follow(step, 'yes');
    }
    if (answer === false) {
      dialog.noMatchCount++;
      return follow(step, 'no');
    }
    await askConfirm();
  }
};
