import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dialogEnded } from '../calls/records.js';
import { cdrAddLeg, cdrEnd, cdrStart } from '../calls/sip.js';
import type { CallMetadata, ForwardResult } from '../media/call-leg.js';
import { signForkMetadata } from '../media/fork-auth.js';
import { type ActiveCall, activeCall } from './active-call.js';
import type { CallControlOptions, CallHost } from './call-host.js';
import { dialString, fsCommands, parseOriginateResult } from './fsmrf.js';
import { LiveCalls, type TransferTarget } from './live-call.js';
import { OperatorBridge } from './operator-bridge.js';
import { recordingAddLeg, recordingFinished, recordingStarted } from './records.js';
import { type ForkEvent, SipCallLeg } from './sip-leg.js';
import { flowSurveysAfterOperator, surveyAfterBridge } from './survey-call.js';

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
export type { CallControlOptions } from './call-host.js';

export class CallControl implements CallHost {
  readonly calls = new Map<string, ActiveCall>();
  private acceptingCalls = true;
  private ticking: Promise<void> = Promise.resolve();
  released = false;
  private readonly clock: () => Date;
  private readonly bridge: OperatorBridge;
  private readonly live: LiveCalls;

  constructor(readonly o: CallControlOptions) {
    this.clock = o.now ?? (() => new Date());
    this.bridge = new OperatorBridge(this);
    this.live = new LiveCalls(this);
    mkdirSync(o.recordingsDir, { recursive: true });
  }

  now(): Date {
    return this.clock();
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

  // The operator desk's acts on a live call this node holds (admin/plugins/desk.ts DeskPhone; live-call.ts).
  hold(callId: string, on: boolean): Promise<void> {
    return this.live.hold(callId, on);
  }

  hangup(callId: string): Promise<void> {
    return this.live.hangup(callId);
  }

  transfer(callId: string, to: TransferTarget): Promise<ForwardResult> {
    return this.live.transfer(callId, to);
  }

  backToQueue(callId: string): Promise<void> {
    return this.live.backToQueue(callId, (call) => this.bridge.waitingRoom.startWaiting(call));
  }

  listen(callId: string, supervisorUri: string): Promise<ForwardResult> {
    return this.live.listen(callId, supervisorUri);
  }

  async keepsCallerForSurvey(call: ActiveCall): Promise<boolean> {
    if (!this.o.kb) return false;
    try {
      return flowSurveysAfterOperator(await this.o.kb.flow(call.flowId));
    } catch (err) {
      this.o.log.warn({ err, callId: call.leg.meta.callId }, 'flow unreadable: no survey after the bridge');
      return false;
    }
  }

  /** A caller's channel is up on FreeSWITCH (answered through an fsmrf endpoint): run the call on it. */
  async handleInbound(uuid: string, meta: CallMetadata, onHangup?: () => Promise<void>): Promise<SipCallLeg> {
    const flowId = await this.flowForNumber(meta.to, meta.callId);
    return this.attach(uuid, meta, 'inbound', flowId ? { flowId } : {}, onHangup);
  }

  /**
   * The flow a call to `dialled` runs: the KB's entry for the number (kb/numbers.ts, e.g. 117 → its own
   * flow), else none (the voice bot runs `default`, as for the configured TELEPHONY_NUMBERS). A KB that
   * cannot be read costs the choice, never the call.
   */
  async flowForNumber(dialled: string, callId?: string): Promise<string | null> {
    if (!this.o.kb) return null;
    try {
      return await this.o.kb.flowForNumber(dialled);
    } catch (err) {
      this.o.log.warn({ err, callId, to: dialled }, 'the KB numbers cannot be read: the call runs default');
      return null;
    }
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
    /** An operator's own leg (a callback): no voice bot on it, and its end ends the operator's conversation. */
    operatorId?: string;
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
    const leg = await this.attach(
      uuid,
      meta,
      'outbound',
      { flowId: req.flowId, ...req.metadata },
      undefined,
      req.operatorId,
    );
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
    const next = this.ticking.then(() => (this.released ? undefined : this.bridge.dispatch()));
    this.ticking = next.catch(() => {});
    return next;
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
        await this.bridge.toQueue(call, 'shutdown', { playApology: false });
        handedOver.push(callId);
      }
    }
    return { finished, handedOver };
  }

  /** Forgets every call without touching it (process exit after drain): FreeSWITCH keeps the channels. */
  release(): void {
    this.released = true;
    this.acceptingCalls = false;
    this.calls.clear();
  }

  private async attach(
    uuid: string,
    meta: CallMetadata,
    direction: 'inbound' | 'outbound',
    forkExtra: Record<string, unknown>,
    onHangup?: () => Promise<void>,
    operatorId?: string,
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
    const flowId = typeof forkExtra.flowId === 'string' ? forkExtra.flowId : 'default';
    const { call, markEnded: resolveEnded } = activeCall(leg, {
      direction,
      phase: 'bot',
      queued: false,
      flowId,
    });
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
      if (e.type === 'dtmf' && call.phase === 'queued') {
        this.bridge.waitingRoom.onKey(call, e.digit);
      } else if (e.type === 'dtmf' && call.phase === 'bot') {
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
    // The operator or the agency hung up first on a flow that surveys after them: the caller hears the survey.
    leg.onBridgeEnd(
      () =>
        void surveyAfterBridge(this, call).catch((err) =>
          log.error({ err }, 'survey after the bridge failed'),
        ),
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
    if (operatorId) {
      Object.assign(call, { phase: 'operator', operatorId, outcome: 'operator' });
      return leg;
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
    const result = await leg.forward(target, {
      timeoutMs: this.o.forwardTimeoutMs,
      keepCaller: await this.keepsCallerForSurvey(call),
    });
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
  async record(callId: string, what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.o.log.error({ err, callId, what }, 'call record not written; the call goes on without it');
    }
  }

  private async botUnavailable(call: ActiveCall, why: string): Promise<void> {
    if (call.leg.ended || call.phase !== 'bot') return;
    call.phase = 'queued'; // once per call: mod_audio_fork reports a broken socket as error and disconnect
    this.o.log.warn(
      { callId: call.leg.meta.callId, why },
      'voice bot unavailable: caller goes to the operator queue',
    );
    await this.record(call.leg.meta.callId, 'bot leg', () =>
      cdrAddLeg(this.o.sql, call.leg.meta.callId, { kind: 'bot', status: `unavailable: ${why}` }),
    );
    await this.bridge.toQueue(call, 'technical', { playApology: true });
  }

  async finish(call: ActiveCall, reason: string): Promise<void> {
    const { leg } = call;
    const callId = leg.meta.callId;
    this.calls.delete(callId);
    try {
      if (call.phase === 'queued') await this.o.queue.abandon(callId);
      if (call.operatorId) await this.o.queue.releaseOperator(call.operatorId);
      const outcome = call.outcome ?? (call.phase === 'queued' ? 'abandoned' : reason);
      await cdrEnd(this.o.sql, callId, { endedAt: this.now(), outcome, endReason: reason });
      if (call.recordingId) {
        const rec = await recordingFinished(this.o.sql, call.recordingId);
        const callMs = this.now().getTime() - leg.meta.startedAt.getTime();
        // A recording must cover the call: FreeSWITCH cutting it short is a fault to look into, not a detail.
        if (rec.durationMs === null || rec.durationMs < callMs - 1000)
          this.o.log.error(
            { callId, callMs, recordingMs: rec.durationMs },
            'recording shorter than the call',
          );
      }
    } catch (err) {
      this.o.log.error({ err, callId }, 'cannot close the call records');
    }
  }
}
