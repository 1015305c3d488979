import { cdrAddLeg } from '../calls/sip.js';
import type { CallMetadata } from '../media/call-leg.js';
import { type ActiveCall, activeCall } from './active-call.js';
import type { CallControlOptions, CallHost } from './call-host.js';
import { type Assignment, enqueueCall } from './queue.js';
import { recordingAddLeg } from './records.js';
import { SipCallLeg } from './sip-leg.js';

/**
 * The queue side of call control: a caller who waits for a person (hold messages), the dispatcher round that
 * bridges waiting callers to operators' SIP endpoints (recording goes on through the bridge), calls another
 * instance handed over, and the store-down fallback.
 */
export class OperatorBridge {
  constructor(private readonly h: CallHost) {}

  private get o(): CallControlOptions {
    return this.h.o;
  }

  async dispatch(): Promise<void> {
    const assignments = await this.o.queue.assignNext();
    // A phone call rides one leg: under ring-all only the first operator's phone rings, the other offers go
    // back without counting against those operators (the desk's ring-all is the accept race, a later slice).
    const first = new Map<string, Assignment>();
    for (const a of assignments) {
      if (!first.has(a.callId)) first.set(a.callId, a);
      else await this.o.queue.withdrawOffer(a.callId, a.operator.id);
    }
    await Promise.all([...first.values()].map((a) => this.bridgeToOperator(a)));
    const moved = await this.o.queue.moveOverdueToCallback();
    await Promise.all(moved.map((callId) => this.toCallback(callId)));
  }

  async toQueue(call: ActiveCall, reason: string, opts: { playApology: boolean }): Promise<void> {
    const { leg } = call;
    call.phase = 'queued';
    if (!call.queued) {
      try {
        await enqueueCall(
          this.o.sql,
          {
            callId: leg.meta.callId,
            topicId: null,
            context: { reason, callerNumber: leg.meta.from, channelUuid: leg.uuid },
          },
          this.h.now(),
        );
        call.queued = true;
      } catch (err) {
        this.o.log.error({ err, callId: leg.meta.callId }, 'operator queue unavailable');
        await this.withoutQueue(call);
        return;
      }
    }
    if (opts.playApology && this.o.prompts.technical_fallback) {
      call.apology = leg.playFile(this.o.prompts.technical_fallback).finally(() => {
        call.apology = null;
      });
      await call.apology;
    }
    this.hold(call);
    // While draining this instance hands calls over instead of taking operators for them.
    if (this.h.accepting)
      void this.h.tick().catch((err) => this.o.log.error({ err }, 'queue dispatch failed'));
  }

  /**
   * The queue lives in the store; when the store is down the caller goes straight to the fallback operator
   * URI, and where there is none (or nobody answers) hears a recorded message: never silence.
   */
  private async withoutQueue(call: ActiveCall): Promise<void> {
    const { leg } = call;
    const operator = this.o.fallbackOperatorUri;
    if (operator) {
      if (this.o.prompts.technical_fallback) await leg.playFile(this.o.prompts.technical_fallback);
      if (leg.ended) return;
      call.bridging = true;
      const result = await leg.forward(operator, { timeoutMs: this.o.forwardTimeoutMs });
      if (result.status === 'answered') {
        call.phase = 'operator';
        call.outcome = 'operator';
        return;
      }
      this.o.log.error({ callId: leg.meta.callId, result }, 'fallback operator did not answer');
    }
    if (leg.ended) return;
    call.phase = 'ending';
    call.outcome = 'service_unavailable';
    if (this.o.prompts.service_unavailable) await leg.playFile(this.o.prompts.service_unavailable);
    await leg.hangup('bot_hangup');
  }

  /** Plays the hold message now and then while the caller waits (only when the bot is not there to do it). */
  private hold(call: ActiveCall): void {
    const file = this.o.prompts.queue_wait;
    if (!file || call.botConnected || call.holdTimer) return;
    const play = () => {
      call.holdTimer = null;
      if (this.h.released || call.leg.ended || call.phase !== 'queued' || call.botConnected || call.bridging)
        return;
      void call.leg.playFile(file).then(() => {
        if (!this.h.released && !call.leg.ended && call.phase === 'queued')
          call.holdTimer = setTimeout(play, this.o.holdRepeatMs ?? 20_000);
      });
    };
    play();
  }

  private async bridgeToOperator(a: Assignment): Promise<void> {
    let call = this.h.calls.get(a.callId);
    if (call && (call.phase === 'operator' || call.bridging)) {
      // Already with an operator here (an accept that came too late for its offer): ring nobody else.
      await this.o.queue.withdrawOffer(a.callId, a.operator.id);
      return;
    }
    if (!call) call = await this.adopt(a);
    if (!call || call.leg.ended) {
      await this.o.queue.abandon(a.callId);
      return;
    }
    const { leg } = call;
    call.bridging = true;
    if (call.holdTimer) clearTimeout(call.holdTimer);
    call.holdTimer = null;
    // The caller hears the apology to its end before the operator's phone rings.
    if (call.apology) await call.apology.catch(() => {});
    await leg.stopAudio();
    const result = await leg.forward(a.operator.sipUri, { timeoutMs: this.o.forwardTimeoutMs });
    await cdrAddLeg(this.o.sql, a.callId, { kind: 'operator', target: a.operator.id, status: result.status });
    if (result.status !== 'answered') {
      call.bridging = false;
      if (leg.ended) await this.o.queue.abandon(a.callId);
      else {
        await this.o.queue.declined(a.callId);
        this.hold(call);
      }
      return;
    }
    try {
      await this.o.queue.accept(a.callId, a.operator.id);
    } catch (err) {
      // The offer lapsed while the phone rang (a ring timeout below FORWARD_TIMEOUT_MS): the caller is with
      // the operator all the same; the queue's record says otherwise until the call ends.
      this.o.log.error(
        { err, callId: a.callId, operatorId: a.operator.id },
        'operator answered a lapsed offer',
      );
    }
    call.phase = 'operator';
    call.operatorId = a.operator.id;
    call.outcome = 'operator';
    if (call.recordingId) await recordingAddLeg(this.o.sql, call.recordingId, `operator:${a.operator.id}`);
    if (call.botConnected) {
      await leg.sendToBot({ type: 'operatorConnected', data: { operatorId: a.operator.id } });
      await leg.stopFork();
    }
  }

  /** A queued call another instance handed over (drain): take its channel if FreeSWITCH still has it. */
  private async adopt(a: Assignment): Promise<ActiveCall | undefined> {
    const uuid = a.context.channelUuid;
    if (typeof uuid !== 'string') return undefined;
    const exists = await this.o.control.api(`uuid_exists ${uuid}`).catch(() => 'false');
    if (exists !== 'true') return undefined;
    const from = typeof a.context.callerNumber === 'string' ? a.context.callerNumber : '';
    const meta: CallMetadata = { callId: a.callId, from, to: '', startedAt: this.h.now(), channel: 'sip' };
    const leg = new SipCallLeg({
      control: this.o.control,
      uuid,
      meta,
      audioDir: this.o.audioDir,
      trunk: this.o.trunk,
      forwardTimeoutMs: this.o.forwardTimeoutMs,
      log: this.o.log,
    });
    const { call, markEnded: resolveEnded } = activeCall(leg, {
      direction: 'inbound',
      phase: 'queued',
      queued: true,
    });
    leg.on((e) => {
      if (e.type === 'hangup') void this.h.finish(call, e.reason).finally(resolveEnded);
    });
    this.h.calls.set(a.callId, call);
    return call;
  }

  private async toCallback(callId: string): Promise<void> {
    const call = this.h.calls.get(callId);
    if (!call || call.leg.ended) return;
    call.phase = 'ending';
    call.outcome = 'callback';
    if (call.holdTimer) clearTimeout(call.holdTimer);
    await call.leg.stopAudio();
    if (this.o.prompts.operators_busy) await call.leg.playFile(this.o.prompts.operators_busy);
    await call.leg.hangup('bot_hangup');
  }
}
