/**
 * Call flows: loading from the KB (whose schema, kb/flow-schema.ts, they follow), and the step handlers the
 * runner executes.
 */
import type { Logger } from '../../core/log.js';
import { parseFlow } from '../../kb/flow-check.js';
import type { Flow } from '../../kb/flow-schema.js';
import type { KnowledgeBase } from '../../kb/types.js';
import { builtInDefaultFlow } from './default-flow.js';
import type { StepHandlers } from './runner.js';
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

export { parseFlow } from '../../kb/flow-check.js';
export type { Flow, Step } from '../../kb/flow-schema.js';
export { builtInDefaultFlow } from './default-flow.js';
export { FlowError, runFlow, type StepEnv } from './runner.js';

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

export const DEFAULT_FLOW_ID = 'default';

/**
 * The flow `id` from the KB, validated, or null when the KB cannot give a flow of that id (absent, unreadable,
 * or stored before flows were validated on entry and broken): the error is logged with the flow id, and the
 * caller must not be run on another flow (the session hands the call to a person). The default flow is the
 * exception: when the KB cannot give it, its built-in copy runs (the same flow as shipped), so that a store
 * problem never takes the line down.
 */
export async function loadFlow(kb: KnowledgeBase, id: string, log: Logger): Promise<Flow | null> {
  const isDefault = id === DEFAULT_FLOW_ID;
  const instead = isDefault ? 'running the built-in default flow' : 'the call goes to an operator';
  let doc: unknown = null;
  try {
    doc = await kb.flow(id);
  } catch (err) {
    log.error({ err, flow: id }, `cannot read the call flow from the knowledge base; ${instead}`);
    return isDefault ? defaultFlow : null;
  }
  if (doc === null || doc === undefined) {
    log.error({ flow: id }, `the call asks for a flow the knowledge base does not have; ${instead}`);
    return isDefault ? defaultFlow : null;
  }
  try {
    return parseFlow(doc);
  } catch (err) {
    log.error({ err, flow: id }, `call flow in the knowledge base is invalid; ${instead}`);
    return isDefault ? defaultFlow : null;
  }
}
