/**
 * Call flows: loading (validated, with the built-in fallback), and the step handlers the runner executes.
 */
import type { Logger } from '../../core/log.js';
import type { KnowledgeBase } from '../../kb/types.js';
import { builtInDefaultFlow } from './default-flow.js';
import type { StepHandlers } from './runner.js';
import { type Flow, parseFlow } from './schema.js';
import { answerStep, branchStep, confirmStep, listenStep, menuStep, sayStep } from './steps-consult.js';
import {
  emergencyStep,
  enqueueStep,
  forwardStep,
  hangupStep,
  inquiryStep,
  surveyStep,
} from './steps-handoff.js';
import { relayAnswerStep } from './steps-relay.js';

export { builtInDefaultFlow } from './default-flow.js';
export { FlowError, runFlow, type StepEnv } from './runner.js';
export { type Flow, parseFlow, type Step } from './schema.js';

export const stepHandlers: StepHandlers = {
  say: sayStep,
  menu: menuStep,
  listen: listenStep,
  branch: branchStep,
  answer: answerStep,
  confirm: confirmStep,
  enqueue: enqueueStep,
  forward: forwardStep,
  inquiry: inquiryStep,
  survey: surveyStep,
  emergency: emergencyStep,
  hangup: hangupStep,
  relay_answer: relayAnswerStep,
};

export const defaultFlow: Flow = parseFlow(builtInDefaultFlow);

/**
 * The flow `id` from the KB, validated. A missing or broken flow falls back to the built-in default with an
 * error in the log: a bad edit in the admin UI must never take the line down.
 */
export async function loadFlow(kb: KnowledgeBase, id: string, log: Logger): Promise<Flow> {
  let doc: unknown = null;
  try {
    doc = await kb.flow(id);
  } catch (err) {
    log.error(
      { err, flow: id },
      'cannot read the call flow from the knowledge base; using the built-in default',
    );
    return defaultFlow;
  }
  if (doc === null || doc === undefined) {
    log.error({ flow: id }, 'call flow not in the knowledge base; using the built-in default');
    return defaultFlow;
  }
  try {
    return parseFlow(doc);
  } catch (err) {
    log.error({ err, flow: id }, 'call flow in the knowledge base is invalid; using the built-in default');
    return defaultFlow;
  }
}
