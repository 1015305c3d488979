import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dialogEnded } from '../calls/records.js';
import { cdrAddLeg, cdrEnd, cdrStart } from '../calls/sip.js';
import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { CallMetadata, ForwardResult } from '../media/call-leg.js';
import { signForkMetadata } from '../media/fork-auth.js';
import type { Sql } from '../store/sql.js';
import { type ActiveCall, activeCall } from './active-call.js';
import { dialString, type FreeswitchControl, fsCommands, parseOriginateResult } from './fsmrf.js';
import type { PromptFiles } from './prompts.js';
import { type Assignment, enqueueCall, type OperatorQueue } from './queue.js';
import { recordingAddLeg, recordingFinished, recordingStarted } from './records.js';
import { type ForkEvent, SipCallLeg } from './sip-leg.js';

/**
 * Call control above the FreeSWITCH channel: what happens to a call from answer to hang-up.
 * - Answer: call-detail record (the SIP facts on the call's row of the calls part), stereo recording, audio fork to the voice bot with the call's metadata.
 * - The bot speaks through mod_audio_fork (play_audio → play the file; kill_audio → stop), asks for a
 *   transfer (forward to a number or an agency from the KB, result sent back), hangs up; DTMF is relayed to it.
 * - If the bot's socket drops while the caller is with it, the caller hears a recorded apology and goes to the
 *   operator queue: a component failure never leaves a caller in silence.
 * - The queue's assignments bridge the caller to the operator's SIP endpoint; recording goes on through it.
 * - Drain: no new calls; calls in progress finish, or go to the queue when the drain time is up.
 */
export interface CallControlOptions {
  sql: Sql;
  /**
   * This instance (OTKLIK_INSTANCE_ID), written on the record of every call it holds: the call lives as long as
   * its SIP leg here, so only this instance's restart marks it interrupted, wherever the voice bot runs.
   */
  instanceId: string;
  control: FreeswitchControl;
  queue: OperatorQueue;
  log: Logger;
  recordingsDir: string;
  /** Where audio played through CallLeg.playAudio is written (FreeSWITCH reads it from the same path). */
  audioDir: string;
  /** ws:// URL of the voice bot's media socket; without it every call goes to the operator queue. */
  mediaSocketUrl?: string | undefined;
  /**
   * MEDIA_SOCKET_SECRET (or the per-process key of `otklik serve`): the fork's metadata is signed with it, so
   * the voice bot knows the call is ours and that an outbound call's flow id was set by us.
   */
  mediaSocketSecret: string | undefined;
  /** Dial-string prefix of the carrier trunk in FreeSWITCH (sofia/gateway/<name>). */
  trunk?: string | undefined;
  /** How long an agency's or operator's phone rings. */
  forwardTimeoutMs: number;
  /** How often the hold message repeats while a caller waits for an operator. */
  holdRepeatMs?: number;
  prompts: PromptFiles;
  kb?: KnowledgeBase | null;
  /**
   * A SIP URI that takes any call (OPERATOR_URI): where a caller goes straight away when the store, and with
   * it the operator queue, is down.
   */
  fallbackOperatorUri?: string | undefined;
  now?: () => Date;
}

export class CallControl {
  private readonly calls = new Map<string, ActiveCall>();
  private acceptingCalls = true;
  private ticking: Promise<void> = Promise.resolve();
  private released = false;
  private readonly now: () => Date;

  constructor(private readonly o: CallControlOptions) {
    this.now = o.now ?? (() => new Date());
    mkdirSync(o.recordingsDir, { recursive: true });
  }

  get accepting(): boolean {
    return this.acceptingCalls;
  }

  get activeCount(): number {
    return this.calls.size;
  }

  leg(callId: string): SipCallLeg | undefined {
    return this.calls.get(callId)?.leg;
  }

  /** A caller's channel is up on FreeSWITCH (answered through an fsmrf endpoint): run the call on it. */
  async handleInbound(uuid: string, meta: CallMetadata, onHangup?: () => Promise<void>): Promise<SipCallLeg> {
    return this.attach(uuid, meta, 'inbound', {}, onHangup);
  }

  /**
   * Places a call to a number or SIP URI and runs a flow on it when answered (callbacks, relayed inquiry
   * answers): the voice bot gets the flow id and metadata with the fork's first frame.
   */
  async placeOutbound(req: {
    target: string;
    from: string;
    flowId: string;
    metadata?: Record<string, unknown>;
    timeoutMs?: number;
  }): Promise<{ callId: string; result: ForwardResult; leg?: SipCallLeg }> {
    const callId = randomUUID();
    const uuid = randomUUID();
    const startedAt = this.now();
    let result: ForwardResult;
    try {
      const answer = await this.o.control.bgapi(
        fsCommands.originate({
          uuid,
          dialString: dialString(req.target, this.o.trunk),
          timeoutMs: req.timeoutMs ?? this.o.forwardTimeoutMs,
          callerIdNumber: req.from,
        }),
      );
      result = parseOriginateResult(answer);
    } catch (err) {
      result = { status: 'failed', reason: (err as Error).message };
    }
    const meta: CallMetadata = { callId, from: req.from, to: req.target, startedAt, channel: 'sip' };
    if (result.status !== 'answered') {
      await cdrStart(this.o.sql, {
        callId,
        channelUuid: uuid,
        direction: 'outbound',
        from: req.from,
        to: req.target,
        startedAt,
        answeredAt: null,
        instanceId: this.o.instanceId,
      });
      await cdrAddLeg(
        this.o.sql,
        callId,
        { kind: 'outbound', target: req.target, status: result.status },
        startedAt,
      );
      await cdrEnd(this.o.sql, callId, {
        endedAt: this.now(),
        outcome: 'not_reached',
        endReason: result.status,
      });
      return { callId, result };
    }
    const leg = await this.attach(uuid, meta, 'outbound', { flowId: req.flowId, ...req.metadata });
    await cdrAddLeg(
      this.o.sql,
      callId,
      { kind: 'outbound', target: req.target, status: 'answered' },
      startedAt,
    );
    return { callId, result, leg };
  }

  /**
   * One dispatcher round: hand waiting calls to operators, turn overdue ones into callbacks. Rounds run one
   * after another (a round asked for while one runs follows it), so a round's result is settled when it resolves.
   */
  tick(): Promise<void> {
    const next = this.ticking.then(() => (this.released ? undefined : this.dispatch()));
    this.ticking = next.catch(() => {});
    return next;
  }

  private async dispatch(): Promise<void> {
    const assignments = await this.o.queue.assignNext({ channel: 'phone' });
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

  /**
   * Stops taking calls and waits up to `timeoutMs` for calls in progress to end; the rest are put in the
   * operator queue (with their channel uuid, so another telephony instance can bridge them).
   */
  async drain(timeoutMs: number): Promise<{ finished: boolean; handedOver: string[] }> {
    this.acceptingCalls = false;
    const allDone = Promise.all([...this.calls.values()].map((c) => c.ended)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([allDone, timeUp]);
    clearTimeout(timer);
    const handedOver: string[] = [];
    if (!finished) {
      for (const [callId, call] of this.calls) {
        if (call.phase !== 'bot' && call.phase !== 'queued') continue;
        await this.toQueue(call, 'shutdown', { playApology: false });
        handedOver.push(callId);
      }
    }
    return { finished, handedOver };
  }

  /** Forgets every call without touching it (process exit after drain): FreeSWITCH keeps the channels. */
  release(): void {
    this.released = true;
    this.acceptingCalls = false;
    for (const call of this.calls.values()) if (call.holdTimer) clearTimeout(call.holdTimer);
    this.calls.clear();
  }

  private async attach(
    uuid: string,
    meta: CallMetadata,
    direction: 'inbound' | 'outbound',
    forkExtra: Record<string, unknown>,
    onHangup?: () => Promise<void>,
  ): Promise<SipCallLeg> {
    const log = this.o.log.child({ callId: meta.callId });
    const leg = new SipCallLeg({
      control: this.o.control,
      uuid,
      meta,
      audioDir: this.o.audioDir,
      trunk: this.o.trunk,
      forwardTimeoutMs: this.o.forwardTimeoutMs,
      log,
      ...(onHangup ? { onHangup } : {}),
    });
    const { call, markEnded: resolveEnded } = activeCall(leg, { direction, phase: 'bot', queued: false });
    this.calls.set(meta.callId, call);
    await this.record(meta.callId, 'cdr start', () =>
      cdrStart(this.o.sql, {
        callId: meta.callId,
        channelUuid: uuid,
        direction,
        from: meta.from,
        to: meta.to,
        startedAt: meta.startedAt,
        // attach runs on an answered channel: an inbound one we answered at once, an outbound one the far end
        // picked up just now (its start is when the dial began).
        answeredAt: direction === 'inbound' ? meta.startedAt : this.now(),
        instanceId: this.o.instanceId,
      }),
    );
    leg.on((e) => {
      if (e.type === 'dtmf' && call.phase === 'bot') {
        void leg.sendToBot({
          event: 'dtmf',
          dtmf: e.digit,
          ...(e.durationMs ? { duration: String(e.durationMs) } : {}),
        });
      } else if (e.type === 'hangup') {
        void this.finish(call, e.reason).finally(resolveEnded);
      }
    });
    leg.onFork(
      (e) => void this.onFork(call, e).catch((err) => log.error({ err }, 'fork event handling failed')),
    );

    const day = meta.startedAt.toISOString().slice(0, 10);
    const path = join(this.o.recordingsDir, day, `${meta.callId}.wav`);
    try {
      mkdirSync(join(this.o.recordingsDir, day), { recursive: true });
      await leg.startRecording(path);
      call.recordingId = await recordingStarted(this.o.sql, {
        callId: meta.callId,
        path,
        legs: ['caller', 'bot'],
        startedAt: meta.startedAt,
      });
    } catch (err) {
      // A call without a recording is still a call: answer the citizen, report the fault.
      log.error({ err }, 'recording did not start');
    }
    if (!this.o.mediaSocketUrl) {
      await this.botUnavailable(call, 'no media socket configured');
      return leg;
    }
    try {
      const metadata = {
        ...forkExtra,
        callId: meta.callId,
        uuid,
        from: meta.from,
        to: meta.to,
        direction,
        sampleRate: 8000,
        startedAt: meta.startedAt.toISOString(),
      };
      // Unsigned, the bot refuses the fork and the caller goes to the queue (app.ts says so at start-up).
      const secret = this.o.mediaSocketSecret;
      await leg.startFork(this.o.mediaSocketUrl, secret ? signForkMetadata(metadata, secret) : metadata);
    } catch (err) {
      log.error({ err }, 'audio fork did not start');
      await this.botUnavailable(call, 'fork failed');
    }
    return leg;
  }

  private async onFork(call: ActiveCall, e: ForkEvent): Promise<void> {
    const { leg } = call;
    if (leg.ended) return;
    switch (e.type) {
      case 'connected':
        call.botConnected = true;
        return;
      case 'play_audio':
        if (call.phase === 'bot' || (call.phase === 'queued' && call.botConnected))
          await leg.playFile(e.file);
        return;
      case 'kill_audio':
        await leg.stopAudio();
        return;
      case 'transfer':
        await this.transferFromBot(call, e.data);
        return;
      case 'message':
        return;
      case 'disconnected':
        call.botConnected = false;
        if (call.phase !== 'bot' && call.phase !== 'queued') return;
        if (await this.botEndedCall(leg.meta.callId)) {
          call.outcome ??= 'bot';
          await leg.hangup('bot_hangup');
        } else {
          await this.botUnavailable(call, `media socket ${e.reason}`);
        }
        return;
    }
  }

  /** A dropped socket is a crash unless the bot closed its dialog first (it does before hanging up). */
  private async botEndedCall(callId: string): Promise<boolean> {
    try {
      return await dialogEnded(this.o.sql, callId);
    } catch {
      return false;
    }
  }

  private async transferFromBot(call: ActiveCall, data: Record<string, unknown>): Promise<void> {
    const { leg } = call;
    let target = typeof data.target === 'string' ? data.target : null;
    if (!target && typeof data.agencyId === 'string' && this.o.kb) {
      const agency = await this.o.kb.agency(data.agencyId);
      const open = agency ? await this.o.kb.agencyOpen(agency.id, this.now()) : null;
      if (agency?.forwardNumber && open?.open) target = agency.forwardNumber;
    }
    if (!target) {
      await leg.sendToBot({
        type: 'transferResult',
        data: { status: 'failed', reason: 'no target or agency closed' },
      });
      return;
    }
    const result = await leg.forward(target, { timeoutMs: this.o.forwardTimeoutMs });
    await this.record(leg.meta.callId, 'agency leg', () =>
      cdrAddLeg(this.o.sql, leg.meta.callId, { kind: 'agency', target, status: result.status }),
    );
    await leg.sendToBot({ type: 'transferResult', data: { ...result } });
    if (result.status === 'answered') {
      call.phase = 'agency';
      call.outcome = 'forwarded';
      const recordingId = call.recordingId;
      if (recordingId)
        await this.record(leg.meta.callId, 'recording leg', () =>
          recordingAddLeg(this.o.sql, recordingId, `agency:${target}`),
        );
      await leg.stopFork();
    }
  }

  /**
   * Writes a call-detail or recording row without ever holding up the call: with the store down the caller is
   * still answered, bridged and recorded on disk; only the metadata row is missing (and logged).
   */
  private async record(callId: string, what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.o.log.error({ err, callId, what }, 'call record not written; the call goes on without it');
    }
  }

  private async botUnavailable(call: ActiveCall, why: string): Promise<void> {
    if (call.leg.ended || call.phase !== 'bot') return;
    this.o.log.warn(
      { callId: call.leg.meta.callId, why },
      'voice bot unavailable: caller goes to the operator queue',
    );
    await this.record(call.leg.meta.callId, 'bot leg', () =>
      cdrAddLeg(this.o.sql, call.leg.meta.callId, { kind: 'bot', status: `unavailable: ${why}` }),
    );
    await this.toQueue(call, 'technical', { playApology: true });
  }

  private async toQueue(call: ActiveCall, reason: string, opts: { playApology: boolean }): Promise<void> {
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
          this.now(),
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
    if (this.acceptingCalls)
      void this.tick().catch((err) => this.o.log.error({ err }, 'queue dispatch failed'));
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
      if (this.released || call.leg.ended || call.phase !== 'queued' || call.botConnected || call.bridging)
        return;
      void call.leg.playFile(file).then(() => {
        if (!this.released && !call.leg.ended && call.phase === 'queued')
          call.holdTimer = setTimeout(play, this.o.holdRepeatMs ?? 20_000);
      });
    };
    play();
  }

  private async bridgeToOperator(a: Assignment): Promise<void> {
    let call = this.calls.get(a.callId);
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
    // assignNext({channel: 'phone'}) offers phone calls only to operators with a SIP URI.
    const result = await leg.forward(a.operator.sipUri ?? '', { timeoutMs: this.o.forwardTimeoutMs });
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
    const meta: CallMetadata = { callId: a.callId, from, to: '', startedAt: this.now(), channel: 'sip' };
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
      if (e.type === 'hangup') void this.finish(call, e.reason).finally(resolveEnded);
    });
    this.calls.set(a.callId, call);
    return call;
  }

  private async toCallback(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call || call.leg.ended) return;
    call.phase = 'ending';
    call.outcome = 'callback';
    if (call.holdTimer) clearTimeout(call.holdTimer);
    await call.leg.stopAudio();
    if (this.o.prompts.operators_busy) await call.leg.playFile(this.o.prompts.operators_busy);
    await call.leg.hangup('bot_hangup');
  }

  private async finish(call: ActiveCall, reason: string): Promise<void> {
    const { leg } = call;
    const callId = leg.meta.callId;
    if (call.holdTimer) clearTimeout(call.holdTimer);
    this.calls.delete(callId);
    try {
      if (call.phase === 'queued') await this.o.queue.abandon(callId);
      if (call.operatorId) await this.o.queue.releaseOperator(call.operatorId);
      const outcome = call.outcome ?? (call.phase === 'queued' ? 'abandoned' : reason);
      await cdrEnd(this.o.sql, callId, { endedAt: this.now(), outcome, endReason: reason });
      if (call.recordingId) await recordingFinished(this.o.sql, call.recordingId);
    } catch (err) {
      this.o.log.error({ err, callId }, 'cannot close the call records');
    }
  }
}
