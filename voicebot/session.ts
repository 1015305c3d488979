/**
 * One call session: the call record, the pipeline for the leg, and the flow runner driving the dialog.
 *
 *   text leg:  [nlu, policy, text-out]                 caller text enters as Transcript at the NLU
 *   voice leg: [...voice input, nlu, policy, ...voice output]   caller audio enters as AudioIn at the head
 *
 * The session resolves with the call's outcome; whatever fails inside (a processor, the flow, the store),
 * the caller hears a fallback and the call goes to the operator queue rather than being dropped.
 */
import { randomUUID } from 'node:crypto';
import {
  type CallChannel,
  type CallOutcome,
  createCall,
  endCall,
  type Speaker,
  type StoredTurn,
} from '../calls/records.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { readsAgencyAnswer } from '../kb/flow-schema.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { CallLeg, CallLegEvent, LegEndReason } from '../media/call-leg.js';
import type { HandOff } from '../media/handoff.js';
import type { IntentClassifier } from '../nlu/types.js';
import type { SpeechServices } from '../speech/types.js';
import type { Sql } from '../store/sql.js';
import {
  DEFAULT_FLOW_ID,
  defaultFlow,
  type Flow,
  FlowError,
  loadFlow,
  runFlow,
  type StepEnv,
  stepHandlers,
} from './flow/index.js';
import { waitForOperator } from './flow/queue-wait.js';
import { abandonQueue, escalate } from './flow/steps-handoff.js';
import { createVoiceProcessors } from './pipeline/audio/index.js';
import { CallEnded, Dialog, type DialogState, type Heard } from './pipeline/dialog.js';
import { type Frame, makeFrame } from './pipeline/frames.js';
import { NluProcessor } from './pipeline/nlu-processor.js';
import { type FrameProcessor, Pipeline } from './pipeline/pipeline.js';
import { PolicyProcessor } from './pipeline/policy.js';
import { TextOutputProcessor } from './pipeline/text-output.js';
import { TurnMarkProcessor, TurnTimer } from './pipeline/turn-timer.js';

export interface SessionDeps {
  kb: KnowledgeBase;
  nlu: () => IntentClassifier;
  sql: Sql;
  log: Logger;
  /** Speech engines; required for voice legs. */
  speech?: SpeechServices;
  /**
   * The operators: the hand-off the composition root gives (telephony's operator queue, with its wait norm).
   * None: nobody takes calls, and a call bound for an operator is offered an inquiry (the flow's `unserved`
   * branch, else its after-hours one) or hears the after-hours message: never a wait without end.
   */
  handOff?: HandOff;
  /** 'voice' when speech is given and the leg is not a text leg. */
  mode?: 'text' | 'voice';
  /** Wall-clock time of the call now (the caller script's `at` in simulations). */
  now?: () => Date;
  /** Milliseconds since the call started; simulations advance it without waiting. */
  clock?: () => number;
  /** The flow to run; when unset, the flow the leg's metadata names (`extra.flowId`), else 'default'. */
  flowId?: string;
  /** The instance serving the call, written on its record so that only this instance's restart closes it. */
  instanceId?: string;
  /** Record channel; defaults to the leg's. */
  channel?: CallChannel;
  /** Real-time reprompt timer (web chat has none; voice measures silence in audio). */
  realTimeNoInput?: boolean;
  voice?: {
    voice?: string;
    hangoverMs?: number;
    onFirstAudio?: (utteranceId: string) => void;
  };
  /** Every frame that leaves the pipeline (tests, the chat WebSocket). */
  onFrame?: (frame: Frame) => void;
  /** Where an emergency call is transferred (EMERGENCY_TRANSFER_URI); unset: the operator queue. */
  emergencyTransferUri?: string;
  /** A web chat another node served until now, taken over at its checkpoint (chat-router.ts). */
  resume?: SessionResume;
  /** The process's metrics: sessions in progress, turns and turn latency (serve gives them). */
  metrics?: Metrics;
}

/** Where a chat's dialog stood when its last turn ended: the step, the state at its start, its inputs. */
export interface ChatCheckpoint {
  step: string;
  state: DialogState;
  inputs: Heard[];
  /**
   * At the end of the turn: in the operator queue, and who took the chat. A chat in the queue resumes in
   * its wait (or its conversation with the operator) without being queued again or its inputs replayed.
   */
  live: { queued: boolean; operator: { id: string; name: string } | null };
}

export interface SessionResume {
  checkpoint: ChatCheckpoint;
  /** The record's turns so far and its start (the session's clock goes on from it). */
  turns: StoredTurn[];
  startedAt: Date;
}

export interface CallResult {
  callId: string;
  outcome: CallOutcome;
  intents: string[];
  transcript: Array<{ who: Speaker; text: string; at_ms: number }>;
  answers: Array<{ intent: string; answer_version: string }>;
}

export class CallSession {
  readonly callId: string;
  dialog!: Dialog;
  private pipeline!: Pipeline;
  private flow!: Flow;
  private readonly clock: () => number;
  private readonly now: () => Date;
  private endReason: 'caller' | 'bot' | 'shutdown' = 'bot';
  private unsubscribe: () => void = () => {};
  private readonly ready: Promise<void>;
  private markReady: () => void = () => {};
  private step: { id: string; state: DialogState } | null = null;
  private detached = false;
  private turnTimer: TurnTimer | null = null;

  constructor(
    readonly leg: CallLeg,
    private readonly deps: SessionDeps,
  ) {
    this.callId = leg.meta.callId || randomUUID();
    const t0 = deps.resume?.startedAt.getTime() ?? Date.now();
    this.clock = deps.clock ?? (() => Date.now() - t0);
    this.now = deps.now ?? (() => new Date());
    this.ready = new Promise((r) => {
      this.markReady = r;
    });
  }

  /** Resolves once the dialog exists (the call record is written and the pipeline built). */
  started(): Promise<void> {
    return this.ready;
  }

  /** Resolves when the bot waits for the caller (nothing queued) or the call is over. */
  async whenWaiting(): Promise<void> {
    await this.ready;
    await this.pipeline.idle();
    await this.dialog.whenWaiting();
  }

  /** The caller was silent this long (simulations; voice legs measure silence in the audio). */
  callerSilence(silenceMs: number): void {
    this.pipeline.pushTo('policy', makeFrame('Silence', { silenceMs }, this.clock()));
  }

  /** Ends the session from outside (simulation script over, shutdown): queued calls stay escalated. */
  stop(): void {
    // A caller who already hung up stays the reason (a stop racing the hang-up must not turn an abandoned
    // wait into a shutdown).
    if (this.endReason !== 'caller') this.endReason = 'shutdown';
    this.dialog?.end('shutdown');
  }

  /** Where the dialog stands (a chat's checkpoint); null before the first step. */
  checkpoint(): ChatCheckpoint | null {
    if (!this.step || !this.dialog) return null;
    const { queued, operator } = this.dialog;
    return {
      step: this.step.id,
      state: this.step.state,
      inputs: queued ? [] : this.dialog.inputsThisStep(),
      live: { queued, operator: operator ? { ...operator } : null },
    };
  }

  /**
   * Lets the chat go to another node (a drain): the session stops without closing the record or leaving the
   * queue; the next node resumes it from the checkpoint.
   */
  detach(): void {
    this.detached = true;
    this.stop();
  }

  async run(): Promise<CallResult> {
    const channel = this.deps.channel ?? this.leg.meta.channel;
    const metrics = this.deps.metrics;
    if (metrics) this.turnTimer = new TurnTimer((s) => metrics.turnLatency.observe({ channel }, s));
    metrics?.sessionsActive.inc({ channel });
    try {
      return await this.runSession();
    } finally {
      metrics?.sessionsActive.dec({ channel });
    }
  }

  private async runSession(): Promise<CallResult> {
    const { deps, leg } = this;
    const log = deps.log.child({ callId: this.callId });
    let flowId = this.flowId();
    let flow = await loadFlow(deps.kb, flowId, log);
    if (flow && !deps.flowId && leg.meta.extra?.direction !== 'outbound' && readsAgencyAnswer(flow)) {
      // The relay of an agency's answer runs only on a call telephony placed itself, whatever the metadata says
      // (a number the KB maps to such a flow, or forged metadata): an inbound caller gets the default flow.
      log.warn(
        { flow: flowId },
        'an inbound call asks for a flow that reads an agency answer; running default',
      );
      flowId = DEFAULT_FLOW_ID;
      flow = await loadFlow(deps.kb, flowId, log);
    }
    // A flow the KB cannot give is never replaced by another: the session keeps the default flow's settings
    // (silence, greeting) only to hand the caller to a person (below).
    this.flow = flow ?? defaultFlow;
    const voice = (deps.mode ?? (deps.speech && leg.meta.channel !== 'text' ? 'voice' : 'text')) === 'voice';
    if (!deps.resume)
      await createCall(deps.sql, {
        id: this.callId,
        channel: deps.channel ?? leg.meta.channel,
        callerNumber: leg.meta.from || null,
        dialledNumber: leg.meta.to || '122',
        startedAt: this.now(),
        flowId,
        ...(deps.instanceId ? { instanceId: deps.instanceId } : {}),
      });
    this.dialog = new Dialog({
      callId: this.callId,
      meta: leg.meta,
      noInputMs: this.flow.noInputMs,
      kb: deps.kb,
      nlu: deps.nlu,
      sql: deps.sql,
      log,
      clock: this.clock,
      wallClock: this.now,
      realTimeNoInput: deps.realTimeNoInput ?? false,
      ...(deps.metrics ? { onTurn: this.countTurn(deps.metrics) } : {}),
      speechAvailable: !voice || deps.speech?.asr.state().status === 'ready',
      emitSay: (text, utteranceId, opts) =>
        this.pipeline.pushTo(
          'policy',
          makeFrame(
            'BotSay',
            {
              text,
              utteranceId,
              bargeIn: opts.bargeIn ?? true,
              ...(opts.answerVersion ? { answerVersion: opts.answerVersion } : {}),
            },
            this.clock(),
          ),
        ),
    });
    const asrHints = voice ? await this.asrHints(log) : [];
    this.pipeline = new Pipeline(this.processors(voice, log, asrHints), {
      now: this.clock,
      log,
      onOutput: (f) => this.onOutput(f, log),
    });
    await this.pipeline.start();
    this.unsubscribe = leg.on((e) => this.onLegEvent(e, voice));
    this.markReady();

    const env: StepEnv = {
      flow: this.flow,
      dialog: this.dialog,
      kb: deps.kb,
      sql: deps.sql,
      leg,
      log,
      ...(deps.handOff ? { handOff: deps.handOff } : {}),
      channel: deps.channel ?? leg.meta.channel,
      onEscalate: (reason) => this.pipeline.pushTo('policy', makeFrame('Escalate', { reason }, this.clock())),
      ...(deps.emergencyTransferUri ? { emergencyTransferUri: deps.emergencyTransferUri } : {}),
      onStep: (id) => {
        this.dialog.beginStep();
        this.step = { id, state: this.dialog.snapshot() };
      },
    };
    const resume = deps.resume;
    let handlers = stepHandlers;
    if (resume) {
      const { step, state, inputs, live } = resume.checkpoint;
      this.dialog.resume(state, resume.turns, live.queued ? [] : inputs);
      if (live.queued) {
        // Queued already: the wait (or the operator's conversation) goes on, without a second enqueue.
        this.dialog.queued = true;
        this.dialog.operator = live.operator;
        let first = true;
        handlers = {
          ...stepHandlers,
          enqueue: (s, e) => {
            const resumed = first && s.id === step;
            first = false;
            return resumed ? waitForOperator(e, s) : stepHandlers.enqueue(s, e);
          },
        };
      }
      log.info({ step }, 'chat taken over from another node: resuming at its step');
    }
    try {
      if (!flow) throw new FlowError(`the knowledge base has no usable call flow "${flowId}"`);
      await runFlow(flow, env, handlers, resume?.checkpoint.step);
    } catch (err) {
      if (!(err instanceof CallEnded)) await this.technicalFallback(env, err, log);
    }
    return this.finish(env, log);
  }

  /**
   * The session's own flow (CLI, tests), else the one the call's metadata names: telephony's outbound calls
   * (placeOutbound) carry the flow they were placed for, e.g. `inquiry-answer`, an inbound call the flow the
   * KB lists for the dialled number (kb/numbers.ts); else 'default'. A flow the
   * knowledge base does not have is not swapped for the default one: loadFlow logs it, run() hands the caller
   * to an operator with the technical-problem message.
   */
  private flowId(): string {
    if (this.deps.flowId) return this.deps.flowId;
    const wanted = this.leg.meta.extra?.flowId;
    return typeof wanted === 'string' && wanted !== '' ? wanted : DEFAULT_FLOW_ID;
  }

  /**
   * The knowledge base's vocabulary (place, clinic and topic names) as hints for the recognizer: words to
   * favour, never a closed list. A vocabulary that cannot be read costs only the hints, not the call.
   */
  private async asrHints(log: Logger): Promise<string[]> {
    try {
      return await this.deps.kb.vocabulary();
    } catch (err) {
      log.warn({ err }, 'cannot read the KB vocabulary; speech is recognized without hints');
      return [];
    }
  }

  private countTurn(metrics: Metrics): (who: Speaker) => void {
    const channel = this.deps.channel ?? this.leg.meta.channel;
    return (speaker) => metrics.turns.inc({ channel, speaker });
  }

  private processors(voice: boolean, log: Logger, asrHints: string[]): FrameProcessor[] {
    const nlu = new NluProcessor(this.deps.nlu, this.now);
    const policy = new PolicyProcessor(this.dialog);
    const botOutput = () => this.turnTimer?.botOutput();
    if (!voice) return [nlu, policy, new TextOutputProcessor(this.leg, botOutput)];
    if (!this.deps.speech) throw new Error('a voice session needs speech services');
    const v = this.deps.voice ?? {};
    const parts = createVoiceProcessors({
      leg: this.leg,
      speech: this.deps.speech,
      sampleRate: 8000,
      noInputMs: this.flow.noInputMs,
      ...(asrHints.length > 0 ? { asrHints } : {}),
      ...(v.voice ? { voice: v.voice } : {}),
      ...(v.hangoverMs ? { hangoverMs: v.hangoverMs } : {}),
      onFirstAudio: (utteranceId) => {
        botOutput();
        v.onFirstAudio?.(utteranceId);
      },
    });
    log.debug('voice pipeline');
    const marks = this.turnTimer ? [new TurnMarkProcessor(this.turnTimer)] : [];
    return [...parts.input, ...marks, nlu, policy, ...parts.output];
  }

  private onLegEvent(e: CallLegEvent, voice: boolean): void {
    const at = this.clock();
    switch (e.type) {
      case 'text':
        // With an operator in the chat the bot is silent: nothing of its own to measure.
        if (!this.dialog.operator) this.turnTimer?.callerDone();
        this.pipeline.pushTo(
          'nlu',
          makeFrame('Transcript', { text: e.text, final: true, confidence: 1 }, at),
        );
        return;
      case 'dtmf':
        if (voice) this.pipeline.push(makeFrame('Dtmf', { digit: e.digit }, at));
        else this.pipeline.pushTo('policy', makeFrame('Dtmf', { digit: e.digit }, at));
        return;
      case 'audio':
        if (voice)
          this.pipeline.push(makeFrame('AudioIn', { samples: e.samples, sampleRate: e.sampleRate }, at));
        return;
      case 'hangup':
        if (e.reason === 'caller_hangup') {
          this.endReason = 'caller';
          this.dialog.end('caller');
          this.pipeline.push(makeFrame('Hangup', { reason: 'caller' }, at));
        }
        return;
      default:
        return;
    }
  }

  private onOutput(frame: Frame, log: Logger): void {
    this.deps.onFrame?.(frame);
    if (frame.kind === 'Error') {
      log.error({ err: frame.error, source: frame.source }, 'pipeline error');
      // Output that failed cannot report playback done: the dialog must not wait for it forever.
      this.dialog.playbackFailed();
    }
  }

  /**
   * Something broke under the call: hand the caller to a person and apologise. The queue is asked first, so
   * that nobody is promised an operator the line cannot give (the web chat, the queue itself down).
   */
  private async technicalFallback(env: StepEnv, err: unknown, log: Logger): Promise<void> {
    log.error({ err }, 'call flow failed; technical fallback to the operator queue');
    try {
      const handed =
        this.dialog.queued || (!this.dialog.outcome && (await escalate(env, 'technical')) === 'queued');
      await this.dialog.sayPrompt(
        handed ? 'technical_fallback' : 'technical_no_operator',
        {},
        { bargeIn: false },
      );
      // A queued phone call is telephony's to bridge once the bot lets go; a chat has nobody else to hold it
      // until an operator takes it on the desk.
      if (handed && env.channel === 'text') await waitForOperator(env);
    } catch (fallbackErr) {
      if (!(fallbackErr instanceof CallEnded)) log.error({ err: fallbackErr }, 'technical fallback failed');
    }
  }

  private outcome(): CallOutcome {
    const d = this.dialog;
    if (d.outcome === 'escalated' && this.endReason === 'caller') return 'abandoned';
    if (d.outcome) return d.outcome;
    return d.answered ? 'answered' : 'hangup';
  }

  private async finish(env: StepEnv, log: Logger): Promise<CallResult> {
    const outcome = this.outcome();
    if (this.detached) return this.released(log, outcome);
    this.dialog.finished();
    await this.dialog.flushed();
    // The caller left the operator queue: an emergency put in the queue is abandoned there too.
    const leftQueue = this.endReason === 'caller' && this.dialog.queued;
    if (outcome === 'abandoned' || (outcome === 'emergency' && leftQueue)) await abandonQueue(env);
    try {
      await endCall(this.deps.sql, this.callId, outcome, this.now());
    } catch (err) {
      log.error({ err }, 'cannot close the call record');
    }
    this.unsubscribe();
    await this.pipeline.stop();
    if (!this.leg.ended && this.endReason === 'bot') {
      const reason: LegEndReason =
        outcome === 'forwarded' || this.dialog.transferred ? 'transferred' : 'bot_hangup';
      await this.leg.hangup(reason).catch((err) => log.warn({ err }, 'leg hangup failed'));
    }
    log.info({ outcome }, 'call ended');
    return {
      callId: this.callId,
      outcome,
      intents: this.dialog.intents.map((i) => i.intent),
      transcript: this.dialog.transcript.map((t) => ({ who: t.who, text: t.text, at_ms: t.atMs })),
      answers: this.dialog.answers.map((a) => ({ intent: a.intent, answer_version: a.answerVersion })),
    };
  }

  /** The chat was handed to another node: its record stays open and its queue place kept. */
  private async released(log: Logger, outcome: CallOutcome): Promise<CallResult> {
    await this.dialog.flushed();
    this.unsubscribe();
    await this.pipeline.stop();
    log.info('chat released to another node');
    return {
      callId: this.callId,
      outcome,
      intents: [],
      transcript: [],
      answers: [],
    };
  }
}

/** A session run in the background by a driver that plays the caller's side (simulators, tests). */
export interface RunningSession {
  /** The call's result once run() returns. */
  done: Promise<CallResult>;
  /** Resolves when the session has ended, whether run() returned or threw. */
  settled: Promise<void>;
  /** run() has returned or thrown. */
  readonly finished: boolean;
  /** Until the bot waits for the caller's next input, or the session has ended. */
  botTurnOver(): Promise<void>;
}

export function startSession(session: CallSession): RunningSession {
  let finished = false;
  const done = session.run().finally(() => {
    finished = true;
  });
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  return {
    done,
    settled,
    get finished() {
      return finished;
    },
    botTurnOver: () => Promise.race([session.whenWaiting(), settled]),
  };
}

/** Runs one call on a leg from greeting to outcome. */
export function runCall(leg: CallLeg, deps: SessionDeps): Promise<CallResult> {
  return new CallSession(leg, deps).run();
}
