import { saveSurvey } from '../calls/records.js';
import type { ActiveCall } from './active-call.js';
import type { CallHost } from './call-host.js';

/** How long the caller has to press a key after the survey's question began (then the call ends). */
export const SURVEY_KEY_TIMEOUT_MS = 10_000;

/** Whether a flow document (as the KB stores it) asks for the survey after an operator or a forward too. */
export function flowSurveysAfterOperator(flow: unknown): boolean {
  const steps = (flow as { steps?: unknown } | null)?.steps;
  return (
    Array.isArray(steps) &&
    steps.some((s) => s && typeof s === 'object' && s.type === 'survey' && s.afterOperator === true)
  );
}

/**
 * The post-call survey once the operator or the agency hung up first (the flow's survey step has
 * afterOperator; the caller's channel was kept by park_after_bridge): the question, a key 1-5 (keys only: the
 * bot left the call at the bridge), the score stored against the call and the operator, thanks, hang-up.
 * The operator's conversation is closed at once (their wrap-up begins), not when the caller hangs up; after
 * the desk's hang-up it stays open for the desk's close.
 */
export async function surveyAfterBridge(
  h: CallHost,
  call: ActiveCall,
  opts: { keyTimeoutMs?: number } = {},
): Promise<void> {
  const { leg } = call;
  const callId = leg.meta.callId;
  if (leg.ended || (call.phase !== 'operator' && call.phase !== 'agency')) return;
  const after = call.phase === 'agency' ? 'agency' : 'operator';
  const operatorId = call.operatorId;
  call.phase = 'survey';
  call.bridging = false;
  call.operatorId = null;
  if (operatorId && !call.deskHungUp) {
    await h.o.queue
      .releaseOperator(operatorId)
      .catch((err) => h.o.log.error({ err, callId, operatorId }, 'operator not released after the bridge'));
  }
  const prompts = h.o.prompts;
  const key = new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, opts.keyTimeoutMs ?? SURVEY_KEY_TIMEOUT_MS);
    const off = leg.on((e) => {
      if (e.type === 'hangup') resolve(null);
      else if (e.type === 'dtmf' && /^[1-5]$/.test(e.digit)) resolve(e.digit);
      else return;
      clearTimeout(timer);
      off();
    });
  });
  if (prompts.survey_after_operator) void leg.playFile(prompts.survey_after_operator).catch(() => {});
  const digit = await key;
  if (leg.ended) return;
  if (digit) {
    await leg.stopAudio();
    await h.record(callId, 'survey', () =>
      saveSurvey(h.o.sql, callId, Number(digit), h.now(), { after, operatorId }),
    );
    if (prompts.survey_thanks) await leg.playFile(prompts.survey_thanks).catch(() => {});
  }
  call.phase = 'ending';
  await leg.hangup('bot_hangup');
}
