import { cdrAddLeg } from '../calls/sip.js';
import { isOtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ForwardResult } from '../media/call-leg.js';
import type { Sql } from '../store/sql.js';
import type { CallControl } from './call-control.js';
import { type Callback, type CallbackResult, callbackIdOf, type OperatorQueue } from './queue.js';

/**
 * Placing a callback the ACD gave to an operator: the operator's phone first (telephony's outbound primitive,
 * `CallControl.placeOutbound`, without the voice bot on the leg), then the citizen on the same leg
 * (`SipCallLeg.forward`: originate and bridge), so the operator hears the citizen's phone ring and nobody
 * picked up by the line waits for a person. The attempt's result goes to the callback (done, the next attempt
 * after the spacing, or failed); the operator's leg ends their conversation when it hangs up (wrap-up follows).
 */
export interface CallbackCallDeps {
  calls: Pick<CallControl, 'placeOutbound'>;
  queue: OperatorQueue;
  sql: Sql;
  /** The line's own number, shown to the operator and the citizen (telephony.numbers, the first). */
  from: string;
  log: Logger;
  /** How long the operator's and the citizen's phones ring; the call control's forward timeout when unset. */
  ringTimeoutMs?: number;
}

/** What the dispatcher hands over: the callback's ACD entry and the operator who is to place it. */
export interface CallbackAssignment {
  callId: string;
  operator: { id: string; sipUri: string | null };
  context: Record<string, unknown>;
}

/** The flow id on the operator's leg: no bot runs on it, it names the call on the call record. */
export const CALLBACK_FLOW_ID = 'operator-callback';

/**
 * Places one attempt. `accepted`: the operator already took the entry on the desk (the queue says answered),
 * so their phone answering is not the accept. Resolves with the callback as the attempt left it, or null
 * when the entry was not a callback to call any more.
 */
export async function placeCallback(
  deps: CallbackCallDeps,
  a: CallbackAssignment,
  opts: { accepted?: boolean } = {},
): Promise<Callback | null> {
  const { queue } = deps;
  const callbackId = callbackIdOf(a.context);
  if (!callbackId) return null;
  const log = deps.log.child({ callId: a.callId, callbackId, operatorId: a.operator.id });
  const missed = async (why: string) => {
    log.warn({ why }, 'the operator did not take the callback; it waits in the queue again');
    if (opts.accepted) return queue.callbacks.operatorMissed(callbackId, a.callId, a.operator.id);
    await queue.declined(a.callId);
    return queue.callbacks.recordResult(callbackId, 'operator_unreached');
  };
  if (!a.operator.sipUri) return missed('no SIP URI');

  const operatorLeg = await deps.calls.placeOutbound({
    target: a.operator.sipUri,
    from: deps.from,
    flowId: CALLBACK_FLOW_ID,
    metadata: { callbackId },
    operatorId: a.operator.id,
    ...(deps.ringTimeoutMs ? { timeoutMs: deps.ringTimeoutMs } : {}),
  });
  const leg = operatorLeg.leg;
  if (operatorLeg.result.status !== 'answered' || !leg) return missed(operatorLeg.result.status);
  if (!opts.accepted) {
    try {
      await queue.accept(a.callId, a.operator.id);
    } catch (err) {
      // The offer lapsed while the phone rang: the operator is on the line all the same, so the call goes on.
      if (!isOtklikError(err, 'CONFLICT')) throw err;
      log.error({ err }, 'operator answered a lapsed callback offer');
    }
  }
  const callback = await queue.callbacks.startAttempt(a.callId, a.operator.id);
  if (!callback?.phone) {
    log.info('the callback was cancelled or closed meanwhile');
    await leg.hangup('bot_hangup');
    return null;
  }

  let result: ForwardResult;
  try {
    result = await leg.forward(callback.phone, deps.ringTimeoutMs ? { timeoutMs: deps.ringTimeoutMs } : {});
  } catch (err) {
    result = { status: 'failed', reason: (err as Error).message };
  }
  await cdrAddLeg(deps.sql, operatorLeg.callId, {
    kind: 'outbound',
    target: callback.phone,
    status: result.status,
  }).catch((err) => log.error({ err }, 'callback leg not written on the call record'));
  const status: CallbackResult = result.status;
  const after = await queue.callbacks.recordResult(callbackId, status);
  log.info(
    { attempt: after.attempts, status, state: after.state, dueAt: after.dueAt },
    'callback attempt placed',
  );
  // The citizen not reached: the operator's leg ends, and with it their conversation (wrap-up follows).
  if (status !== 'answered') await leg.hangup('bot_hangup');
  return after;
}
