/**
 * The step runner: executes a validated flow one step at a time. Each step handler returns the id of the
 * step that follows (or null: the call ends). Any emergency cue, wherever the caller says it, jumps to the
 * flow's emergency step at once. An outcome the flow does not map is a flow error (FlowError): the session
 * answers it with the technical fallback (operator queue), never a dropped call.
 */
import type { Logger } from '../../core/log.js';
import type { Sql } from '../../kb/store/sql.js';
import type { KnowledgeBase } from '../../kb/types.js';
import type { Classification } from '../../nlu/types.js';
import type { CallLeg } from '../../telephony/call-leg.js';
import type { Dialog, Heard } from '../engine/dialog.js';
import type { Flow, Step, StepOf, StepType } from './schema.js';

export interface StepEnv {
  flow: Flow;
  dialog: Dialog;
  kb: KnowledgeBase;
  sql: Sql;
  leg: CallLeg;
  log: Logger;
  /** The operator queue's wait norm, from the configuration (SessionDeps.queueWaitNormMs). */
  queueWaitNormMs: number;
  /** Tells the pipeline an escalation happened (Escalate frame). */
  onEscalate?: (reason: string) => void;
  /** Where an emergency call is transferred (EMERGENCY_TRANSFER_URI); unset: the operator queue. */
  emergencyTransferUri?: string;
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

export const YES_NO = ['dialog.yes', 'dialog.no'];

/**
 * The caller's next input, after what holds at every step: a confident emergency jumps to the flow's
 * emergency step; a suspected one (a bare «помогите», the model's guess) is asked about first; a greeting
 * («здравствуйте», «алло») is answered and the step keeps listening, without counting as a misunderstanding.
 */
export async function hear(env: StepEnv, opts: { expected?: string[] } = {}): Promise<Heard> {
  for (;;) {
    const heard = await env.dialog.hear(opts);
    if (heard.kind !== 'speech') return heard;
    const c = heard.classification;
    const raw = opts.expected ? env.dialog.classify(heard.text) : c;
    const emergency = env.flow.emergency;
    if (emergency && (c.emergency || raw.emergency)) jumpToEmergency(env, raw);
    if (emergency && (raw.emergencySuspected || raw.intent === 'emergency')) {
      const answer = await checkEmergency(env, opts);
      if (answer === true) jumpToEmergency(env, raw);
      if (answer !== false) return answer;
      continue;
    }
    if (!opts.expected && raw.intent === 'dialog.greeting') {
      await env.dialog.sayPrompt(env.flow.greetingPrompt);
      continue;
    }
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

export async function runFlow(flow: Flow, env: StepEnv, handlers: StepHandlers): Promise<void> {
  const byId = new Map(flow.steps.map((s) => [s.id, s]));
  let current: string | null = flow.start;
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
    env.log.debug({ step: step.id, type: step.type }, 'flow step');
    try {
      const handler = handlers[step.type] as StepHandler<typeof step.type>;
      current = await handler(step as never, env);
    } catch (err) {
      if (err instanceof Jump) {
        current = err.to;
        continue;
      }
      throw err;
    }
  }
}

/**
 * Asks a yes/no question (`ask` says it): «да»/«нет» or keys 1/2. A stray # or * is ignored; anything
 * unclear repeats the question once; null when there is still no answer.
 */
export async function askYesNo(env: StepEnv, ask: () => Promise<void>): Promise<boolean | null> {
  await ask();
  let attempts = 0;
  for (;;) {
    const heard = await hear(env, { expected: YES_NO });
    if (heard.kind === 'dtmf' && (heard.digit === '#' || heard.digit === '*')) continue;
    const answer = yesNo(heard);
    if (answer !== null) return answer;
    if (++attempts >= 2) return null;
    await ask();
  }
}
