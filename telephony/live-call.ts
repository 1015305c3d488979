import { randomUUID } from 'node:crypto';
import { cdrAddLeg } from '../calls/sip.js';
import { OtklikError } from '../core/errors.js';
import type { ForwardResult } from '../media/call-leg.js';
import type { ActiveCall } from './active-call.js';
import type { CallHost } from './call-host.js';
import { dialString, fsCommands, parseOriginateResult } from './fsmrf.js';
import { recordingAddLeg } from './records.js';

/** Where a live call goes on a blind transfer: a SIP URI or a number; `operatorId` when it is an operator's. */
export interface TransferTarget {
  target: string;
  /** The operator who takes the call (their phone); absent for an agency. */
  operatorId?: string;
}

/**
 * What the operator desk does to a live phone call (admin/plugins/desk.ts `DeskPhone`), on the telephony node
 * that holds the caller's channel: hold and take back (the operator's leg is held: FreeSWITCH re-INVITEs their
 * phone sendonly and the caller hears the hold music), hang up, a blind transfer (the caller is bridged to the
 * target, the operator's leg released), back to the queue (the caller waits again), and a supervisor's listening
 * in (their phone is originated into `eavesdrop` on the caller's channel: both sides are heard, neither hears
 * them). A call this node does not hold is UNAVAILABLE here: only the holder of the channel can act on it.
 */
export class LiveCalls {
  constructor(private readonly h: CallHost) {}

  /** The call with its operator on this node. */
  private withOperator(callId: string): ActiveCall & { operatorLeg: string } {
    const call = this.h.calls.get(callId);
    if (!call || call.leg.ended)
      throw new OtklikError('UNAVAILABLE', 'Звонок не обслуживается этим узлом телефонии', {
        details: { callId },
      });
    const operatorLeg = call.leg.bridgedUuid;
    if (call.phase !== 'operator' || !operatorLeg)
      throw new OtklikError('CONFLICT', 'Звонок не соединён с оператором', { details: { callId } });
    return Object.assign(call, { operatorLeg });
  }

  async hold(callId: string, on: boolean): Promise<void> {
    const call = this.withOperator(callId);
    try {
      await this.h.o.control.api(fsCommands.hold(call.operatorLeg, on));
    } catch (err) {
      throw new OtklikError(
        'CONFLICT',
        on ? 'Не удалось поставить звонок на удержание' : 'Не удалось снять звонок с удержания',
        { cause: err, details: { callId } },
      );
    }
  }

  async hangup(callId: string): Promise<void> {
    const call = this.withOperator(callId);
    if (call.leg.keepsCaller) {
      // The flow surveys after an operator: only the operator's leg ends, and the bridge's end takes the caller
      // to the survey (survey-call.ts); the conversation stays open for the desk's close.
      call.deskHungUp = true;
      await this.h.o.control.api(fsCommands.kill(call.operatorLeg)).catch(() => {});
      return;
    }
    call.phase = 'ending';
    // The operator's conversation stays open for its outcome (the desk's close): the call's end must not
    // close it as a caller's hang-up does.
    call.operatorId = null;
    // Our side ends the call: the caller's channel first, then the operator's, should it survive the bridge.
    await call.leg.hangup('bot_hangup');
    await this.h.o.control.api(fsCommands.kill(call.operatorLeg)).catch(() => {});
  }

  /**
   * Blind: the target's phone rings while the caller stays with the operator; once it answers the caller is
   * bridged to it and the operator's leg hangs up. Busy, no answer, failure: nothing changed, the result says why.
   */
  async transfer(callId: string, to: TransferTarget): Promise<ForwardResult> {
    const call = this.withOperator(callId);
    const { leg } = call;
    const old = call.operatorLeg;
    const result = await leg.forward(to.target, {
      timeoutMs: this.h.o.forwardTimeoutMs,
      keepCaller: await this.h.keepsCallerForSurvey(call),
    });
    const kind = to.operatorId ? 'operator' : 'agency';
    await this.h.record(callId, `${kind} leg`, () =>
      cdrAddLeg(this.h.o.sql, callId, {
        kind,
        target: to.operatorId ?? to.target,
        status: result.status,
      }),
    );
    if (result.status !== 'answered') return result;
    await this.h.o.control.api(fsCommands.kill(old)).catch(() => {});
    call.operatorId = to.operatorId ?? null;
    if (!to.operatorId) {
      call.phase = 'agency';
      call.outcome = 'forwarded';
    }
    const recordingId = call.recordingId;
    if (recordingId)
      await this.h.record(callId, 'recording leg', () =>
        recordingAddLeg(
          this.h.o.sql,
          recordingId,
          to.operatorId ? `operator:${to.operatorId}` : `agency:${to.target}`,
        ),
      );
    return result;
  }

  /**
   * The operator handed the call to another queue: their leg hangs up and the caller waits again (the hold
   * message, then the waiting room's announcements) until the queue's next operator is bridged.
   */
  async backToQueue(callId: string, start: (call: ActiveCall) => void): Promise<void> {
    const call = this.withOperator(callId);
    call.phase = 'queued';
    call.operatorId = null;
    call.bridging = false;
    call.leg.bridgedUuid = null;
    // A new wait: the hold message again, the announcements counted afresh.
    call.waiting = { lastAnnouncedAt: null, announcements: 0, callbackOffered: false };
    // The caller's channel stays up, parked, when the bridge ends (FreeSWITCH's park_after_bridge), not hung
    // up with the operator's leg.
    await this.h.o.control.api(fsCommands.setVar(call.leg.uuid, 'park_after_bridge', 'true'));
    await this.h.o.control.api(fsCommands.kill(call.operatorLeg)).catch(() => {});
    start(call);
  }

  /** A supervisor listens in: their phone rings and, answered, hears both sides of the call. */
  async listen(callId: string, supervisorUri: string): Promise<ForwardResult> {
    const call = this.withOperator(callId);
    let dial: string;
    try {
      dial = dialString(supervisorUri, this.h.o.trunk);
    } catch (err) {
      throw new OtklikError('VALIDATION_FAILED', `Неверный SIP URI: ${supervisorUri}`, { cause: err });
    }
    try {
      const answer = await this.h.o.control.bgapi(
        fsCommands.originate({
          uuid: randomUUID(),
          dialString: dial,
          timeoutMs: this.h.o.forwardTimeoutMs,
          eavesdrop: call.leg.uuid,
        }),
      );
      return parseOriginateResult(answer);
    } catch (err) {
      return { status: 'failed', reason: (err as Error).message };
    }
  }
}
