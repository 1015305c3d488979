import { cdrAddLeg } from '../calls/sip.js';
import type { CallMetadata } from '../media/call-leg.js';
import { type ActiveCall, activeCall } from './active-call.js';
import type { CallControlOptions, CallHost } from './call-host.js';
import { type Assignment, enqueueCall, type Unbridged } from './queue.js';
import { recordingAddLeg } from './records.js';
import { SipCallLeg } from './sip-leg.js';
import { WaitingRoom } from './waiting-room.js';

/**
 * The queue side of call control: a caller who waits for a person (hold messages), the dispatcher round that
 * bridges waiting callers to operators' SIP endpoints (recording goes on through the bridge), calls another
 * instance handed over, and the store-down fallback.
 */
export class OperatorBridge {
  readonly waitingRoom: WaitingRoom;

  constructor(private readonly h: CallHost) {
    this.waitingRoom = new WaitingRoom(h);
  }

  private get o(): CallControlOptions {
    return this.h.o;
  }

  async dispatch(): Promise<void> {
    const assignments = await this.o.queue.assignNext({ channel: 'phone' });
    // A phone call rides one leg: under ring-all only the first operator's phone rings, the other offers go
    // back without counting against those operators (the desk's ring-all is the accept race, a later slice).
    const first = new Map<string, Assignment>();
    for (const a of assignments) {
      if (!first.has(a.callId)) first.set(a.callId, a);
      else await this.o.queue.withdrawOffer(a.callId, a.operator.id);
    }
    // An operator at the desk sees the offer there: their phone rings only once they accept (bridgeAccepted).
    const ring = [...first.values()].filter((a) => !a.operator.desk);
    // A callback has no caller on the line yet: it rings the operator, then the citizen (callback-call.ts).
    const callbacks = this.o.placeCallback;
    await Promise.all(
      ring.map((a) =>
        callbacks && typeof a.context.callbackId === 'string' ? callbacks(a) : this.bridgeToOperator(a),
      ),
    );
    await this.bridgeAccepted();
    await this.waitingRoom.tick();
  }

  /**
   * Calls this node holds that an operator accepted on the desk (answered, not bridged yet): the caller is
   * bridged to the operator's phone. Other nodes skip them: only the holder of the channel can bridge it.
   */
  private async bridgeAccepted(): Promise<void> {
    const held = [...this.h.calls.entries()]
      .filter(([, c]) => !c.leg.ended && !c.bridging && (c.phase === 'queued' || c.phase === 'bot'))
      .map(([id]) => id);
    const accepted = await this.o.queue.unbridged(held);
    await Promise.all(accepted.map((u) => this.bridgeDesk(u)));
    const place = this.o.placeCallback;
    if (place) {
      const callbacks = await this.o.queue.claimAcceptedCallbacks(this.h.now());
      await Promise.all(callbacks.map((c) => place(c, { accepted: true })));
    }
  }

  private async bridgeDesk(u: Unbridged): Promise<void> {
    const call = this.h.calls.get(u.callId);
    if (!call || call.bridging || call.leg.ended) return;
    const { leg } = call;
    call.bridging = true;
    if (call.apology) await call.apology.catch(() => {});
    await leg.stopAudio();
    const result = u.sipUri
      ? await leg.forward(u.sipUri, {
          timeoutMs: this.o.forwardTimeoutMs,
          keepCaller: await this.h.keepsCallerForSurvey(call),
        })
      : ({ status: 'failed', reason: 'the operator has no SIP URI' } as const);
    await this.h.record(u.callId, 'operator leg', () =>
      cdrAddLeg(this.o.sql, u.callId, { kind: 'operator', target: u.operatorId, status: result.status }),
    );
    if (result.status === 'answered') {
      await this.o.queue.markBridged(u.callId, this.h.now());
      await this.connected(call, u.operatorId);
      return;
    }
    call.bridging = false;
    this.o.log.warn(
      { callId: u.callId, operatorId: u.operatorId, status: result.status },
      'desk-accepted call not bridged: back to the head of its queue',
    );
    if (leg.ended) {
      // The caller hung up while the operator's phone rang: the operator's conversation ends with it.
      await this.o.queue.releaseOperator(u.operatorId);
      return;
    }
    await this.o.queue.requeue(u.callId, this.h.now());
    if (call.phase === 'queued') this.hold(call);
  }

  /** The caller is with the operator: the recording takes the operator's leg, the bot leaves the call. */
  private async connected(call: ActiveCall, operatorId: string): Promise<void> {
    const { leg } = call;
    call.phase = 'operator';
    call.operatorId = operatorId;
    call.outcome = 'operator';
    const recordingId = call.recordingId;
    if (recordingId)
      await this.h.record(leg.meta.callId, 'recording leg', () =>
        recordingAddLeg(this.o.sql, recordingId, `operator:${operatorId}`),
      );
    if (call.botConnected) {
      await leg.sendToBot({ type: 'operatorConnected', data: { operatorId } });
      await leg.stopFork();
    }
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
            priority: this.o.queue.priorityFor({
              callId: leg.meta.callId,
              reason,
              callerNumber: leg.meta.from || null,
              at: this.h.now(),
            }),
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

  /**
   * The caller waits without the bot: the hold message at once; then the waiting room's announcements
   * (position, expected wait, the callback offer) at each dispatcher round past the hold interval.
   */
  private hold(call: ActiveCall): void {
    if (call.botConnected) return;
    this.waitingRoom.startWaiting(call);
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
    // The caller hears the apology to its end before the operator's phone rings.
    if (call.apology) await call.apology.catch(() => {});
    await leg.stopAudio();
    // assignNext({channel: 'phone'}) offers phone calls only to operators with a SIP URI.
    const result = await leg.forward(a.operator.sipUri ?? '', {
      timeoutMs: this.o.forwardTimeoutMs,
      keepCaller: await this.h.keepsCallerForSurvey(call),
    });
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
      await this.o.queue.markBridged(a.callId, this.h.now());
    } catch (err) {
      // The offer lapsed while the phone rang (a ring timeout below FORWARD_TIMEOUT_MS): the caller is with
      // the operator all the same; the queue's record says otherwise until the call ends.
      this.o.log.error(
        { err, callId: a.callId, operatorId: a.operator.id },
        'operator answered a lapsed offer',
      );
    }
    await this.connected(call, a.operator.id);
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
}
