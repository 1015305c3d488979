/**
 * The step runner: executes a validated flow one step at a time. Each step handler returns the id of the
 * step that follows (or null: the call ends). Any emergency cue, wherever the caller says it, jumps to the
 * flow's emergency step at once. An outcome the flow does not map is a flow error (FlowError): the session
 * answers it with the technical fallback (operator queue), never a dropped call.
 */
import type { Logger } from '../../core/log.js';
import type { Flow, Step, StepOf, StepType } from '../../kb/flow-schema.js';
import type { KnowledgeBase } from '../../kb/types.js';
import type { CallLeg } from '../../media/call-leg.js';
import type { HandOff, QueuedCall } from '../../media/handoff.js';
import type { Classification } from '../../nlu/types.js';
import type { Sql } from '../../store/sql.js';
import type { Dialog, Heard } from '../pipeline/dialog.js';

export interface StepEnv {
  flow: Flow;
  dialog: Dialog;
  kb: KnowledgeBase;
  sql: Sql;
  leg: CallLeg;
  log: Logger;
  /** The operators (SessionDeps.handOff); none: nobody takes calls, enqueue leads to `unserved`. */
  handOff?: HandOff;
  /** The channel of the call's record: who can serve the call depends on it. */
  channel: QueuedCall['channel'];
  /** Tells the pipeline an escalation happened (Escalate frame). */
  onEscalate?: (reason: string) => void;
  /** Where an emergency call is transferred (EMERGENCY_TRANSFER_URI); unset: the operator queue. */
  emergencyTransferUri?: string;
  /** Told the id of each step as it begins (the web chat's checkpoint for another node to resume from). */
  onStep?: (stepId: string) => void;
}

export type StepHandler<T extends StepType> = (step: StepOf<T>, env: StepEnv) => Promise<string | null>;
export type StepHandlers = { [T in StepType]: StepHandler<T> };

/** A jump out of the current step (emergency). */
export class Jump extends Error {
  constructor(readonly to: string) {
    super(`jump to ${to}`);
    this.name = 'Jump';
  }
}

export class FlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowError';
  }
}

/** The call ends here (the bot said goodbye) without a step to go to. */
export class Stop extends Error {
  constructor() {
    super('stop');
    this.name = 'Stop';
  }
}

export const YES_NO = ['dialog.yes', 'dialog.no'];

export interface HearOptions {
  /** Intents expected here (yes/no after a question): speech is read in that context. */
  expected?: string[];
  /** Keys the step gives a meaning of its own ('all': the digits of a number or a score): those are not
   *  requests (key 0 for an operator) but the step's input. */
  ownKeys?: readonly string[] | 'all';
  /** What the caller says here is not their question (a number, a score): an inquiry does not keep it. */
  notQuestion?: boolean;
}

/**
 * The caller's next input, through the requests that work at every step: a confident emergency jumps to the
 * flow's emergency step, a suspected one (a bare «помогите», the model's guess) is asked about first; a
 * greeting is answered and the step keeps listening, without counting as a misunderstanding; «оператор» (or key 0 where the step does not use it) to the flow's operator
 * step; a goodbye to the flow's goodbye step; «повторите» says the bot's last turn again and listens on.
 * Requests are read without the step's context (yes/no), so «оператор» at «да или нет?» is never «нет».
 */
export async function hear(env: StepEnv, opts: HearOptions = {}): Promise<Heard> {
  const { dialog, flow } = env;
  let repeats = 0;
  for (;;) {
    let heard = await dialog.hear(opts.expected ? { expected: opts.expected } : {});
    if (heard.kind === 'dtmf') {
      const own = opts.ownKeys === 'all' || opts.ownKeys?.includes(heard.digit);
      if (heard.digit === '0' && !own && flow.operator) throw operatorRequest(env);
      return heard;
    }
    if (heard.kind !== 'speech') return heard;
    const c = heard.classification;
    let raw = opts.expected ? env.dialog.classify(heard.text) : c;
    const emergency = env.flow.emergency;
    if (emergency && (c.emergency || raw.emergency)) jumpToEmergency(env, raw);
    if (emergency && (raw.emergencySuspected || raw.intent === 'emergency')) {
      const answer = await checkEmergency(env, opts);
      if (answer === true) jumpToEmergency(env, raw);
      if (answer === false) continue;
      if (answer.kind !== 'speech') return answer;
      // Instead of yes or no the caller went on with something else: that is read as any other input here.
      heard = answer;
      raw = opts.expected ? env.dialog.classify(answer.text) : answer.classification;
    }
    // Requests are taken on a clear reading only: a guess («а вы кто» as «повторите») is the step's input.
    if (!raw.needsConfirmation) {
      if (raw.intent === 'dialog.repeat') {
        // The caller asked: not the bot asking again, but a caller repeating it without end is stuck too.
        if (++repeats > flow.maxAsks) await exhausted(env, 'repeat');
        await dialog.repeatLastTurn();
        continue;
      }
      if (raw.intent === 'service.operator' && flow.operator) throw operatorRequest(env);
      if (raw.intent === 'dialog.goodbye' && flow.goodbye && !dialog.leaving) {
        dialog.leaving = true;
        throw new Jump(flow.goodbye);
      }
    }
    if (!opts.expected && raw.intent === 'dialog.greeting') {
      await env.dialog.sayPrompt(env.flow.greetingPrompt);
      continue;
    }
    if (!opts.expected && !opts.notQuestion && !raw.intent.startsWith('dialog.'))
      dialog.questionTexts.push({ text: heard.text, intent: raw.intent });
    return heard;
  }
}

function jumpToEmergency(env: StepEnv, c: Classification): never {
  env.dialog.classification = c;
  throw new Jump(env.flow.emergency!);
}

/**
 * «Вам нужна экстренная помощь?»: true (yes, or danger in the answer, or no answer at all: a caller who
 * cannot speak gets the emergency help), false (no: the conversation goes on), or the caller's question
 * when they went on to ask one.
 */
async function checkEmergency(env: StepEnv, opts: { expected?: string[] }): Promise<boolean | Heard> {
  const { dialog } = env;
  const step = env.flow.steps.find((s) => s.id === env.flow.emergency);
  const prompts =
    step?.type === 'emergency' ? step : { confirmPrompt: 'emergency_confirm', declinedPrompt: '' };
  for (let asked = 1; ; asked++) {
    await dialog.sayPrompt(prompts.confirmPrompt);
    const heard = await dialog.hear({ expected: YES_NO });
    if (heard.kind === 'speech') {
      const raw = dialog.classify(heard.text);
      if (raw.emergency || raw.emergencySuspected) return true;
      const answer = yesNo(heard);
      if (answer === false && prompts.declinedPrompt) await dialog.sayPrompt(prompts.declinedPrompt);
      if (answer !== null) return answer;
      if (raw.intent !== 'out_of_scope' && !raw.intent.startsWith('dialog.'))
        return { ...heard, classification: opts.expected ? dialog.classify(heard.text, opts.expected) : raw };
    } else if (heard.kind === 'dtmf') {
      const answer = yesNo(heard);
      if (answer !== null) return answer;
    }
    if (asked >= 2) return heard.kind === 'silence';
  }
}

function operatorRequest(env: StepEnv): Jump {
  env.dialog.escalationReason = 'caller_request';
  return new Jump(env.flow.operator!);
}

/**
 * Asks a question (`say` says it) — every asking step goes through here. A question asked `maxAsks` times
 * since the caller last got an answer is not asked again: the call goes to the flow's escalation step
 * (an operator; after hours the inquiry path); when the call is already there, the bot says it cannot help
 * now and ends the call politely. No step loops.
 */
export async function ask(env: StepEnv, question: string, say: () => Promise<void>): Promise<void> {
  if (env.dialog.countAsk(question) <= env.flow.maxAsks) return say();
  await exhausted(env, question);
}

/** A question cannot be asked again: escalate, or, when the call is already being handed on, end politely. */
async function exhausted(env: StepEnv, question: string): Promise<never> {
  const { dialog, flow } = env;
  env.log.info({ question, maxAsks: flow.maxAsks }, 'question asked too often; escalating');
  if (flow.escalation && !dialog.escalating) {
    dialog.escalationReason ??= 'repeated_question';
    throw new Jump(flow.escalation);
  }
  await dialog.sayPrompt('no_progress');
  dialog.leaving = true;
  if (flow.goodbye) throw new Jump(flow.goodbye);
  throw new Stop();
}

/** yes / no / null from speech (in yes-no context) or keys 1 / 2. */
export function yesNo(heard: Heard): boolean | null {
  if (heard.kind === 'dtmf') return heard.digit === '1' ? true : heard.digit === '2' ? false : null;
  if (heard.kind === 'speech') {
    if (heard.classification.intent === 'dialog.yes') return true;
    if (heard.classification.intent === 'dialog.no') return false;
  }
  return null;
}

/** The step an outcome leads to; an unmapped outcome is a flow error. */
export function follow(step: Step, outcome: string): string {
  const target = 'on' in step ? (step.on as Record<string, string | undefined>)[outcome] : undefined;
  if (!target) throw new FlowError(`step "${step.id}" has no branch for outcome "${outcome}"`);
  return target;
}

/** Steps in a row without hearing the caller: more means the flow loops on its own. */
const MAX_STEPS_WITHOUT_INPUT = 100;

/** Runs `flow` from its start, or from `startAt` (a chat resumed on another node at its checkpoint's step). */
export async function runFlow(
  flow: Flow,
  env: StepEnv,
  handlers: StepHandlers,
  startAt?: string,
): Promise<void> {
  const byId = new Map(flow.steps.map((s) => [s.id, s]));
  let current: string | null = startAt ?? flow.start;
  let count = 0;
  let inputs = env.dialog.inputsHeard;
  while (current) {
    if (env.dialog.inputsHeard !== inputs) {
      inputs = env.dialog.inputsHeard;
      count = 0;
    }
    if (++count > MAX_STEPS_WITHOUT_INPUT) {
      throw new FlowError(
        `flow "${flow.id}" ran ${MAX_STEPS_WITHOUT_INPUT} steps without hearing the caller (a loop)`,
      );
    }
    const step = byId.get(current);
    if (!step) throw new FlowError(`flow "${flow.id}" has no step "${current}"`);
    // From here on the call is being handed on: a question exhausted again ends the call, not a new round.
    if (current === flow.escalation || current === flow.operator) env.dialog.escalating = true;
    env.log.debug({ step: step.id, type: step.type }, 'flow step');
    env.onStep?.(step.id);
    try {
      const handler = handlers[step.type] as StepHandler<typeof step.type>;
      current = await handler(step as never, env);
    } catch (err) {
      if (err instanceof Jump) {
        current = err.to;
        continue;
      }
      if (err instanceof Stop) return;
      throw err;
    }
  }
}

/**
 * Asks a yes/no question (`question` names it for `ask`, `say` says it): «да»/«нет» or keys 1/2. A stray
 * # or * is ignored; anything unclear asks again, within `ask`'s limit.
 */
export async function askYesNo(env: StepEnv, question: string, say: () => Promise<void>): Promise<boolean> {
  await ask(env, question, say);
  for (;;) {
    const heard = await hear(env, { expected: YES_NO, ownKeys: ['1', '2', '#', '*'] });
    if (heard.kind === 'dtmf' && (heard.digit === '#' || heard.digit === '*')) continue;
    const answer = yesNo(heard);
    if (answer !== null) return answer;
    await ask(env, question, say);
  }
}
