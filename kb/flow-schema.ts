/**
 * The schema of call flows, the knowledge base's documents that the voice bot runs (voicebot/flow). A flow is
 * a list of steps; each step does one thing (say a prompt, play the menu,
 * listen, answer, confirm, enqueue, forward, register an inquiry, survey, hang up) and names the step that
 * follows for each outcome it can have (`next`, or `on: { outcome: stepId }`). `branch` steps choose by
 * the recognized intent, the intent's handling, whether confirmation is needed, whether operators or the
 * agency are open, or whether an answer was given. `relay_answer` reads an agency's answer to a registered
 * inquiry back to the caller on the line's callback. Flows live in the KB (section `flows:`) so that they can
 * be edited without code. Every object is strict, as everywhere in the KB: a misspelt field is an error, not
 * a setting silently ignored. flow-check.ts checks what the shape cannot (steps and prompts that exist).
 */
import { z } from 'zod';

const stepId = z.string().regex(/^[a-z0-9_.-]+$/, 'step ids are lower-case ASCII: [a-z0-9_.-]');
const outcomes = (keys: readonly [string, ...string[]]) => z.partialRecord(z.enum(keys), stepId);

const base = { id: stepId };

const sayStep = z.strictObject({
  ...base,
  type: z.literal('say'),
  /** A prompt id of the KB. */
  prompt: z.string().optional(),
  /** Also announce the incidents active at the call's time. */
  incidents: z.boolean().default(false),
  next: stepId,
});

const menuStep = z.strictObject({
  ...base,
  type: z.literal('menu'),
  menu: z.string().default('main'),
  /** Reprompts on silence before the no_input outcome. */
  retries: z.number().int().min(0).max(3).default(1),
  /** Misunderstandings in the whole call (words or keys the menu cannot place) before no_match. */
  maxNoMatch: z.number().int().min(1).max(5).default(2),
  on: outcomes(['topic', 'intent', 'queue', 'forward', 'message', 'no_input', 'no_match']),
});

const listenStep = z.strictObject({
  ...base,
  type: z.literal('listen'),
  prompt: z.string().optional(),
  /** Reprompts on silence before the no_input outcome. */
  noInputRetries: z.number().int().min(0).max(3).default(1),
  /** Misunderstandings in the whole call before the no_match outcome (the policy: two). */
  maxNoMatch: z.number().int().min(1).max(5).default(2),
  /** Keys the caller may press here, and where each leads. */
  digits: z.record(z.string().regex(/^[0-9*#]$/), stepId).default({}),
  on: outcomes(['intent', 'no_input', 'no_match']),
});

const branchStep = z.strictObject({
  ...base,
  type: z.literal('branch'),
  by: z.enum(['intent', 'handling', 'confirmation', 'operators_open', 'agency_open', 'answered']),
  /** Case value → step. intent: intent ids; handling: answer|operator|forward|system;
   *  confirmation: needed; operators_open/agency_open/answered: yes|no. */
  cases: z.record(z.string(), stepId),
  default: stepId,
});

const answerStep = z.strictObject({
  ...base,
  type: z.literal('answer'),
  on: outcomes(['answered', 'unavailable']),
});

const confirmStep = z.strictObject({
  ...base,
  type: z.literal('confirm'),
  prompt: z.string().default('confirm'),
  on: outcomes(['yes', 'no', 'no_input']),
});

const enqueueStep = z.strictObject({
  ...base,
  type: z.literal('enqueue'),
  reason: z.string().default('caller_request'),
  /** closed: operators' hours over; unserved: nobody serves the queue on this channel (the web chat has
   *  no operator desk yet), so the caller must be offered another way (an inquiry), not a wait;
   *  overflow: the wait ended without an operator (the queue's overflow to the inquiry, or its
   *  announcements ran out with no number to call back): an inquiry instead (unserved/closed without it). */
  on: outcomes(['closed', 'failed', 'unserved', 'overflow']),
});

const forwardStep = z.strictObject({
  ...base,
  type: z.literal('forward'),
  on: outcomes(['closed', 'failed', 'no_agency']),
});

const inquiryStep = z.strictObject({
  ...base,
  type: z.literal('inquiry'),
  /** Ask «register an inquiry?» first (false when the caller asked for a callback). */
  offer: z.boolean().default(true),
  on: outcomes(['registered', 'declined']),
});

/**
 * The post-call survey (a score 1-5). `afterOperator`: the survey also follows an operator's conversation or a
 * forward to an agency when the other side hangs up first: telephony keeps the caller's channel when the bridge
 * ends (park_after_bridge) and plays it itself, keys only (the bot has left the call by then).
 */
const surveyStep = z.strictObject({
  ...base,
  type: z.literal('survey'),
  afterOperator: z.boolean().optional(),
  next: stepId,
});

/**
 * Danger to life: the 112/103 message, a transfer to the emergency service where one is configured
 * (EMERGENCY_TRANSFER_URI), else `next` (the operator queue in the shipped flow). The conversation is never
 * ended here. A suspected emergency is asked about first with `confirmPrompt`; «нет» says `declinedPrompt`.
 */
const emergencyStep = z.strictObject({
  ...base,
  type: z.literal('emergency'),
  prompt: z.string().default('emergency'),
  confirmPrompt: z.string().default('emergency_confirm'),
  declinedPrompt: z.string().default('emergency_declined'),
  transferPrompt: z.string().default('emergency_transfer'),
  next: stepId,
});

const hangupStep = z.strictObject({ ...base, type: z.literal('hangup'), prompt: z.string().optional() });

/**
 * Relays the agency's answer to an inquiry on a callback the line placed (the inquiry id comes with the
 * call's metadata). `relayed`: the answer was said and the inquiry closed; `missing`: no answer to give
 * (unknown inquiry, not answered yet), the caller is told an operator will call.
 */
const relayAnswerStep = z.strictObject({
  ...base,
  type: z.literal('relay_answer'),
  /** Introduces the answer: «Здравствуйте! Это линия сто двадцать два… ответ уполномоченного лица:». */
  prompt: z.string().default('inquiry_answer_intro'),
  /** Said when there is no answer to relay. */
  missingPrompt: z.string().default('inquiry_answer_missing'),
  on: outcomes(['relayed', 'missing']),
});

export const stepSchema = z.discriminatedUnion('type', [
  sayStep,
  menuStep,
  listenStep,
  branchStep,
  answerStep,
  confirmStep,
  enqueueStep,
  forwardStep,
  inquiryStep,
  surveyStep,
  emergencyStep,
  hangupStep,
  relayAnswerStep,
]);

export const flowSchema = z.strictObject({
  id: stepId,
  title: z.string().default(''),
  /** The first step; the first in the list when omitted. */
  start: stepId.optional(),
  /** Where any emergency cue leads, wherever the call is. */
  emergency: stepId.optional(),
  /** Said to a greeting («здравствуйте», «алло») at any step; the step keeps listening. */
  greetingPrompt: z.string().default('greeting_reply'),
  /** Where a request for an operator («оператор», key 0 where keys are not digits of a number) leads,
   *  wherever the call is. */
  operator: stepId.optional(),
  /** Where a goodbye leads, wherever the call is. */
  goodbye: stepId.optional(),
  /** Where a question leads once it was asked `maxAsks` times without an answer (no step loops). */
  escalation: stepId.optional(),
  /** How many times a question may be asked (reprompts included) before the call escalates. */
  maxAsks: z.number().int().min(1).max(5).default(2),
  /** Silence the caller gets before a reprompt, in real time (voice) or simulated time. */
  noInputMs: z.number().int().min(1000).max(60000).default(6000),
  steps: z.array(stepSchema).min(1),
});

export type Step = z.infer<typeof stepSchema>;
export type StepType = Step['type'];
export type StepOf<T extends StepType> = Extract<Step, { type: T }>;
export type Flow = z.infer<typeof flowSchema> & { start: string };
/** A flow as written, before defaults are filled. */
export type FlowInput = z.input<typeof flowSchema>;

/**
 * Whether a flow reads an agency's answer to the caller (a `relay_answer` step): such a flow runs only on a call
 * the line placed itself. Takes a flow as stored too, before its shape is checked (kb/references.ts).
 */
export function readsAgencyAnswer(flow: Readonly<Record<string, unknown>>): boolean {
  return (
    Array.isArray(flow.steps) &&
    flow.steps.some((step: unknown) => (step as { type?: unknown } | null)?.type === 'relay_answer')
  );
}
