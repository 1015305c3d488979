/**
 * What the bot would do with one caller phrase now, without a call: the knowledge editors' «Проверка фразы».
 * Given the NLU's reading of the phrase, the knowledge base and a moment, it walks the KB's flow (`default`
 * unless told) from the first step that listens, the way the steps of a call would (steps-consult.ts,
 * steps-handoff.ts): the requests that work at every step (emergency, operator, goodbye, greeting), the
 * menu or the question, then the branches by intent, confirmation, handling, operators' and the agency's
 * hours, the approved answer (never another) or `answer_unavailable`, and on to the step where the bot waits
 * for the caller again or hands the call on. It says which prompts it would say (id and text, with their
 * {placeholders} filled), the approved version it would read, the intent's handling, the responsible
 * agency and whether it is open at that moment (and when that changes), and where the walk ended.
 * A confirmation question is assumed answered «да», so the preview goes on to what follows it. Nothing is
 * written: no call record, no queue entry, no inquiry. A flow it cannot walk (absent; a step missing) is an
 * OtklikError (NOT_FOUND, CONFLICT) with a Russian message.
 */
import { OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Flow, Step } from '../../kb/flow-schema.js';
import type { KnowledgeBase, PromptForm } from '../../kb/types.js';
import type { HandOff } from '../../media/handoff.js';
import type { Classification } from '../../nlu/types.js';
import { fallbackPrompt, fillPrompt } from '../pipeline/prompts.js';
import { DEFAULT_FLOW_ID, loadFlow } from './index.js';
import { isQuestionIntent, matchMenuKeyword } from './steps-consult.js';

export interface BotPreviewOptions {
  kb: KnowledgeBase;
  /** The NLU's reading of the phrase (the serving classifier's, with the preview's moment as `now`). */
  classification: Classification;
  /** The moment of the imagined call: the operators' and the agencies' hours are read at it. */
  at: Date;
  /** phone: spoken prompts, a queued call waits; text: the chat's written prompts, a chat nobody can take
   *  is offered an inquiry. Default phone. */
  channel?: 'phone' | 'text';
  /** The flow the call would run; default `default`. */
  flowId?: string;
  /** Whether an operator who can take the channel is signed in now (the operator queue); none: nobody. */
  handOff?: Pick<HandOff, 'staffed'>;
  log: Logger;
}

/** One thing the bot would say, in order. */
export interface PreviewUtterance {
  stepId: string;
  /** A KB prompt (`promptId`), the approved answer, or an incident's announcement. */
  kind: 'prompt' | 'answer' | 'announcement';
  promptId: string | null;
  text: string;
  /** The approved version read (kind answer). */
  answerVersion?: string;
}

/** A step the walk passed, with the outcome that led on from it. */
export interface PreviewStep {
  stepId: string;
  type: Step['type'] | 'request';
  outcome: string | null;
}

/**
 * Where the walk stopped: `answered` (the approved answer was read, the bot asks what else), `waits` (the bot
 * asks and listens again), `no_match` (not understood), `operator` (queued for an operator), `forward` (put
 * through to the agency), `inquiry` (offered an inquiry), `emergency` (the 112/103 message), `emergency_check`
 * («Вам нужна экстренная помощь?»), `greeting`, `repeat`, `goodbye`, `menu` (a submenu is played).
 */
export type PreviewEnd =
  | 'answered'
  | 'waits'
  | 'no_match'
  | 'operator'
  | 'forward'
  | 'inquiry'
  | 'emergency'
  | 'emergency_check'
  | 'greeting'
  | 'repeat'
  | 'goodbye'
  | 'menu';

export interface BotPreview {
  flowId: string;
  /** The step whose question the phrase answers: the first menu or listen step of the flow. */
  entryStep: string;
  /** The recognized intent of the KB; null when the phrase is out of scope (or the KB lacks the intent). */
  intent: {
    id: string;
    title: string;
    handling: string;
    topicId: string;
    topicTitle: string | null;
  } | null;
  /** The approved answer of the intent, served or not on this path; null: none is approved. */
  approvedAnswer: {
    versionTag: string;
    version: number;
    speech: string;
    screen: string;
    approvedBy: string;
    approvedAt: Date;
  } | null;
  /** Whether the walk reached the answer step and read the approved answer. */
  answerServed: boolean;
  /** Whether it reached the answer step and found nothing approved (it says `answer_unavailable`). */
  answerUnavailable: boolean;
  /** The confirmation the bot would ask first (the NLU was unsure), with the intent's title; or null. */
  confirmation: { promptId: string; text: string } | null;
  /** The agency responsible for the question (chosen in the menu, or the intent's topic's) at `at`. */
  agency: {
    id: string;
    name: string;
    forwardNumber: string | null;
    open: boolean;
    nextChange: Date | null;
  } | null;
  /** The operators at `at`: by their hours (the `service` topic's agency) or someone signed in. */
  operators: { open: boolean; byHours: boolean; staffed: boolean; nextChange: Date | null };
  steps: PreviewStep[];
  says: PreviewUtterance[];
  end: PreviewEnd;
}

/** Steps in a row the walk may take; a flow that loops without listening is cut here. */
const MAX_STEPS = 60;

export async function previewBotTurn(opts: BotPreviewOptions): Promise<BotPreview> {
  const { kb, at, log } = opts;
  const channel = opts.channel ?? 'phone';
  const form: PromptForm = channel === 'text' ? 'chat' : 'speech';
  const flowId = opts.flowId ?? DEFAULT_FLOW_ID;
  const flow = await loadFlow(kb, flowId, log);
  if (!flow) throw new OtklikError('NOT_FOUND', `Сценария «${flowId}» нет в базе знаний`);
  const byId = new Map(flow.steps.map((s) => [s.id, s]));
  const entry = entryStep(flow);

  let c = opts.classification;
  const kbIntent = await kb.intent(c.intent);
  const topic = kbIntent ? await kb.topic(kbIntent.topicId) : null;
  const approved = kbIntent ? await kb.approvedAnswer(kbIntent.id) : null;

  const says: PreviewUtterance[] = [];
  const steps: PreviewStep[] = [];
  let confirmation: BotPreview['confirmation'] = null;
  let answerServed = false;
  let answerUnavailable = false;
  let answered = false;
  let chosenAgency: string | null = null;
  let menuTopic: string | null = null;

  const promptText = async (id: string, vars: Record<string, string> = {}) => {
    const text = (await kb.prompt(id, form).catch(() => null)) ?? fallbackPrompt(id, form);
    return fillPrompt(text, vars);
  };
  const say = async (stepId: string, promptId: string, vars: Record<string, string> = {}) => {
    const text = await promptText(promptId, vars);
    if (text) says.push({ stepId, kind: 'prompt', promptId, text });
    return text;
  };

  const responsibleAgency = async (): Promise<string | null> => {
    if (chosenAgency) return chosenAgency;
    const topicId = kbIntent?.topicId ?? menuTopic;
    if (!topicId) return null;
    return (await kb.topic(topicId))?.agencyId ?? null;
  };
  const operators = await operatorsAt(kb, at, channel, opts.handOff, log);

  const finish = async (end: PreviewEnd): Promise<BotPreview> => {
    const agencyId = await responsibleAgency();
    const agency = agencyId ? await kb.agency(agencyId) : null;
    const open = agency ? await kb.agencyOpen(agency.id, at) : null;
    return {
      flowId: flow.id,
      entryStep: entry.id,
      intent: kbIntent
        ? {
            id: kbIntent.id,
            title: kbIntent.title,
            handling: kbIntent.handling,
            topicId: kbIntent.topicId,
            topicTitle: topic?.title ?? null,
          }
        : null,
      approvedAnswer: approved
        ? {
            versionTag: approved.versionTag,
            version: approved.version,
            speech: approved.speech,
            screen: approved.screen,
            approvedBy: approved.approvedBy,
            approvedAt: approved.approvedAt,
          }
        : null,
      answerServed,
      answerUnavailable,
      confirmation,
      agency:
        agency && open
          ? {
              id: agency.id,
              name: agency.name,
              forwardNumber: agency.forwardNumber,
              open: open.open,
              nextChange: open.nextChange,
            }
          : null,
      operators,
      steps,
      says,
      end,
    };
  };

  // The requests that work at every step (runner.ts hear): they come before the step's own reading.
  let current: string | null = null;
  if (flow.emergency && c.emergency) {
    steps.push({ stepId: entry.id, type: 'request', outcome: 'emergency' });
    current = flow.emergency;
  } else if (flow.emergency && (c.emergencySuspected || c.intent === 'emergency')) {
    const step = byId.get(flow.emergency);
    steps.push({ stepId: entry.id, type: 'request', outcome: 'emergency_suspected' });
    await say(flow.emergency, step?.type === 'emergency' ? step.confirmPrompt : 'emergency_confirm');
    return finish('emergency_check');
  } else if (!c.needsConfirmation && c.intent === 'dialog.repeat') {
    steps.push({ stepId: entry.id, type: 'request', outcome: 'repeat' });
    return finish('repeat');
  } else if (!c.needsConfirmation && c.intent === 'service.operator' && flow.operator) {
    steps.push({ stepId: entry.id, type: 'request', outcome: 'operator' });
    current = flow.operator;
  } else if (!c.needsConfirmation && c.intent === 'dialog.goodbye' && flow.goodbye) {
    steps.push({ stepId: entry.id, type: 'request', outcome: 'goodbye' });
    current = flow.goodbye;
  } else if (c.intent === 'dialog.greeting') {
    steps.push({ stepId: entry.id, type: 'request', outcome: 'greeting' });
    await say(entry.id, flow.greetingPrompt);
    return finish('greeting');
  } else if (entry.type === 'menu') {
    const menu = await kb.menu(entry.menu);
    const question = isQuestionIntent(c.intent);
    const item = question && !c.needsConfirmation ? null : menu ? matchMenuKeyword(menu, c.text) : null;
    if (!item && question) {
      steps.push({ stepId: entry.id, type: 'menu', outcome: 'intent' });
      current = entry.on.intent ?? null;
    } else if (!item) {
      steps.push({ stepId: entry.id, type: 'menu', outcome: 'no_match' });
      await say(entry.id, 'no_match');
      return finish('no_match');
    } else {
      const action = item.action;
      steps.push({ stepId: entry.id, type: 'menu', outcome: action.kind });
      if (action.kind === 'submenu') {
        const sub = await kb.menu(action.menuId);
        if (sub) await say(entry.id, sub.promptId);
        return finish('menu');
      }
      if (action.kind === 'topic') menuTopic = action.topicId;
      if (action.kind === 'forward') chosenAgency = action.agencyId;
      if (action.kind === 'message') await say(entry.id, action.promptId);
      current = entry.on[action.kind] ?? null;
    }
  } else if (entry.type === 'listen') {
    if (c.intent === 'out_of_scope') {
      steps.push({ stepId: entry.id, type: 'listen', outcome: 'no_match' });
      await say(entry.id, 'no_match');
      return finish('no_match');
    }
    steps.push({ stepId: entry.id, type: 'listen', outcome: 'intent' });
    current = entry.on.intent ?? null;
  }

  let emergency = false;
  const topicTitle = async () => {
    const id = menuTopic ?? kbIntent?.topicId;
    return id ? ((await kb.topic(id))?.title ?? '') : '';
  };
  for (let n = 0; current && n < MAX_STEPS; n++) {
    const step = byId.get(current);
    if (!step) throw new OtklikError('CONFLICT', `В сценарии «${flow.id}» нет шага «${current}»`);
    const go = (outcome: string, to: string | undefined | null) => {
      steps.push({ stepId: step.id, type: step.type, outcome });
      return to ?? null;
    };
    const on = (outcome: string) => ('on' in step ? (step.on as Record<string, string>)[outcome] : undefined);
    const stop = (end: PreviewEnd) => {
      steps.push({ stepId: step.id, type: step.type, outcome: null });
      return finish(emergency ? 'emergency' : end);
    };
    switch (step.type) {
      case 'say': {
        if (step.prompt) await say(step.id, step.prompt);
        if (step.incidents) {
          const incidents = await kb.activeIncidents(at).catch(() => []);
          if (incidents.length > 0) await say(step.id, 'incident_intro');
          for (const i of incidents)
            says.push({ stepId: step.id, kind: 'announcement', promptId: null, text: i.announcement });
        }
        current = go('next', step.next);
        break;
      }
      case 'branch': {
        const key = await branchKey(step, {
          kb,
          at,
          c,
          intentHandling: kbIntent?.handling ?? null,
          operatorsOpen: operators.open,
          agencyId: await responsibleAgency(),
          answered,
        });
        const to = key !== null ? step.cases[key] : undefined;
        current = to ? go(key!, to) : go('default', step.default);
        break;
      }
      case 'confirm': {
        const text = await say(step.id, step.prompt, { title: kbIntent?.title ?? c.intent });
        confirmation = { promptId: step.prompt, text };
        c = { ...c, needsConfirmation: false };
        current = go('yes', on('yes'));
        break;
      }
      case 'answer': {
        if (approved) {
          says.push({
            stepId: step.id,
            kind: 'answer',
            promptId: null,
            // The answer step reads the spoken text on every channel (steps-consult.ts answerStep).
            text: approved.speech,
            answerVersion: approved.versionTag,
          });
          answerServed = true;
          answered = true;
          current = go('answered', on('answered'));
        } else {
          await say(step.id, 'answer_unavailable');
          answerUnavailable = true;
          current = go('unavailable', on('unavailable'));
        }
        break;
      }
      case 'listen': {
        if (step.prompt) await say(step.id, step.prompt, { topic: await topicTitle() });
        return stop(answerServed ? 'answered' : 'waits');
      }
      case 'menu': {
        const menu = await kb.menu(step.menu);
        if (menu) await say(step.id, menu.promptId);
        return stop(answerServed ? 'answered' : 'waits');
      }
      case 'enqueue': {
        if (!operators.open) {
          current = go('closed', on('closed'));
          break;
        }
        if (channel === 'text' && !operators.staffed) {
          current = go('unserved', on('unserved') ?? on('closed'));
          break;
        }
        await say(step.id, 'escalate');
        await say(step.id, 'queue_wait');
        return stop('operator');
      }
      case 'forward': {
        const agencyId = await responsibleAgency();
        const agency = agencyId ? await kb.agency(agencyId) : null;
        if (!agency?.forwardNumber) {
          current = go('no_agency', on('no_agency'));
          break;
        }
        chosenAgency = agency.id;
        if (!(await kb.agencyOpen(agency.id, at)).open) {
          current = go('closed', on('closed'));
          break;
        }
        await say(step.id, 'forward', { agency: agency.name, number: agency.forwardNumber });
        return stop('forward');
      }
      case 'inquiry': {
        await say(step.id, step.offer ? 'inquiry_offer' : 'inquiry_number_ask');
        return stop('inquiry');
      }
      case 'emergency': {
        emergency = true;
        await say(step.id, step.prompt);
        current = go('next', step.next);
        break;
      }
      case 'survey': {
        await say(step.id, 'survey');
        return stop('goodbye');
      }
      case 'hangup': {
        if (step.prompt) await say(step.id, step.prompt);
        return stop('goodbye');
      }
      case 'relay_answer':
        return stop('waits');
    }
  }
  if (current)
    throw new OtklikError('CONFLICT', `Сценарий «${flow.id}» проходит ${MAX_STEPS} шагов, ничего не спросив`);
  return finish(emergency ? 'emergency' : answerServed ? 'answered' : 'waits');
}

/** The first step that hears the caller: from the start, through the `say` steps. */
function entryStep(flow: Flow): Extract<Step, { type: 'menu' | 'listen' }> {
  const byId = new Map(flow.steps.map((s) => [s.id, s]));
  let step = byId.get(flow.start);
  for (let n = 0; step && n < MAX_STEPS; n++) {
    if (step.type === 'menu' || step.type === 'listen') return step;
    if (step.type !== 'say') break;
    step = byId.get(step.next);
  }
  throw new OtklikError('CONFLICT', `Сценарий «${flow.id}» ничего не спрашивает у абонента после начала`);
}

async function branchKey(
  step: Extract<Step, { type: 'branch' }>,
  s: {
    kb: KnowledgeBase;
    at: Date;
    c: Classification;
    intentHandling: string | null;
    operatorsOpen: boolean;
    agencyId: string | null;
    answered: boolean;
  },
): Promise<string | null> {
  const yes = (v: boolean) => (v ? 'yes' : 'no');
  switch (step.by) {
    case 'intent':
      return s.c.intent;
    case 'handling':
      return s.intentHandling;
    case 'confirmation':
      return s.c.needsConfirmation ? 'needed' : null;
    case 'operators_open':
      return yes(s.operatorsOpen);
    case 'agency_open':
      return s.agencyId ? yes((await s.kb.agencyOpen(s.agencyId, s.at)).open) : 'no';
    case 'answered':
      return yes(s.answered);
  }
}

/** As steps-consult.ts operatorsOpen: their hours (the `service` topic's agency), or someone signed in. */
async function operatorsAt(
  kb: KnowledgeBase,
  at: Date,
  channel: 'phone' | 'text',
  handOff: Pick<HandOff, 'staffed'> | undefined,
  log: Logger,
): Promise<BotPreview['operators']> {
  const agencyId = (await kb.topic('service'))?.agencyId;
  const hours = agencyId ? await kb.agencyOpen(agencyId, at) : { open: true, nextChange: null };
  let staffed = false;
  if (handOff) {
    staffed = await handOff.staffed(channel === 'text' ? 'text' : 'sip').catch((err: unknown) => {
      log.error({ err }, 'cannot tell whether an operator is signed in; going by the hours');
      return false;
    });
  }
  return { open: hours.open || staffed, byHours: hours.open, staffed, nextChange: hours.nextChange };
}
