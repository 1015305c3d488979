/**
 * The dialog: one call's conversational state and the two verbs the flow runner uses — `say` (record the
 * bot's turn, send a BotSay, wait until it was heard) and `hear` (the caller's next input: speech with its
 * classification, a key, or silence). The policy processor feeds caller input in (`deliver`) and reports
 * finished playback (`playbackDone`); a caller hang-up rejects whatever the runner awaits with CallEnded.
 *
 * Every turn is written to the call record as it happens (writes are chained so `seq` stays in order);
 * a failing store is logged and never stops the call.
 */
import { randomUUID } from 'node:crypto';
import { addTurn, type CallOutcome, type Speaker, type Turn } from '../../calls/records.js';
import type { Logger } from '../../core/log.js';
import type { KnowledgeBase, PromptForm } from '../../kb/types.js';
import type { CallMetadata } from '../../media/call-leg.js';
import type { Classification, Entity, IntentClassifier } from '../../nlu/types.js';
import type { Sql } from '../../store/sql.js';
import type { DialogState, SayOptions } from './dialog-state.js';
import { fallbackPrompt, fillPrompt } from './prompts.js';

export type { DialogState, SayOptions } from './dialog-state.js';

export type Heard =
  | { kind: 'speech'; text: string; classification: Classification }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'silence'; silenceMs: number };

/** Thrown into the runner when the call ends under it (caller hang-up, shutdown). */
export class CallEnded extends Error {
  constructor(readonly reason: 'caller' | 'shutdown' | 'error') {
    super(`call ended: ${reason}`);
    this.name = 'CallEnded';
  }
}

export interface DialogDeps {
  callId: string;
  meta: CallMetadata;
  /** Silence shorter than this is not a no-input (the flow's `noInputMs`). */
  noInputMs: number;
  kb: KnowledgeBase;
  nlu: () => IntentClassifier;
  sql: Sql;
  log: Logger;
  /** Milliseconds since the call started (session clock). */
  clock: () => number;
  /** The wall-clock time of the call now (working hours, deadlines). */
  wallClock: () => Date;
  /** Sends a BotSay into the pipeline. */
  emitSay: (text: string, utteranceId: string, opts: SayOptions) => void;
  /** false on a voice leg without a working ASR: the caller is asked to use the keypad. */
  speechAvailable?: boolean;
  /** Real-time no-input timer for voice legs; text/simulated calls get Silence frames instead. */
  realTimeNoInput?: boolean;
  /** Told of each turn as it is recorded (the turn counter of the metrics). */
  onTurn?: (who: Speaker) => void;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export class Dialog {
  readonly transcript: Array<{ who: Speaker; text: string; atMs: number }> = [];
  readonly intents: Array<{ intent: string; confidence: number; atMs: number; text: string }> = [];
  readonly answers: Array<{ intent: string; answerVersion: string }> = [];
  readonly entities: Entity[] = [];
  /** The caller's question being handled (the last classified in-scope utterance). */
  classification: Classification | null = null;
  topicId: string | null = null;
  agencyId: string | null = null;
  noMatchCount = 0;
  outcome: CallOutcome | null = null;
  /** The call waits in the operator queue (the hand-off took it): a hang-up now abandons it there. */
  queued = false;
  /** The call was put through to another line (emergency service): telephony's leg ends as transferred. */
  transferred = false;
  lastBotText = '';
  ended: CallEnded | null = null;
  /** How many caller inputs the runner has taken (the flow's loop guard watches it). */
  inputsHeard = 0;
  /**
   * The caller's own words that may be their question (said where the bot asked an open question, not
   * yes/no, digits or dialog control), since the last answer: an inquiry keeps them.
   */
  readonly questionTexts: Array<{ text: string; intent: string }> = [];
  /** Set when the call reaches the flow's operator or escalation step; an answer clears it. */
  escalating = false;
  /** Why the call is handed to an operator, when the flow's mechanism decided it (a request, a question
   *  asked too often); enqueue records it. */
  escalationReason: string | null = null;
  /** The caller said goodbye: the way out (survey, goodbye) takes a further goodbye as plain input. */
  leaving = false;
  /**
   * The operator who took the call on the desk (a web chat): from then on the citizen and the operator talk,
   * and the bot only says who joined and, at the end, that they left (the enqueue step).
   */
  operator: { id: string; name: string } | null = null;
  /** The operator closed the conversation: the enqueue step says goodbye for them and the call ends. */
  operatorClosed = false;

  /** How often each question was asked since the caller last got an answer (flow runner's `ask`). */
  private readonly asked = new Map<string, number>();
  /** What the bot said in its last turn (since the caller's last input), for «повторите». */
  private lastTurn: Array<{ text: string; opts: SayOptions }> = [];
  private turnOpen = false;

  private seq = 0;
  private writes: Promise<void> = Promise.resolve();
  private readonly mailbox: Heard[] = [];
  private hearWaiter: Waiter<Heard> | null = null;
  private readonly sayWaiters = new Map<string, Waiter<void>>();
  private readonly waitingListeners: Array<() => void> = [];
  private noInputTimer: NodeJS.Timeout | null = null;
  /** Set while `hearUntil` waits: checks its condition again after an operator's act. */
  private wake: (() => void) | null = null;
  /** What the caller said since the current step began (the checkpoint replays it on another node). */
  private stepInputs: Heard[] = [];
  /** Resuming: the bot's words are neither sent nor stored until the replayed inputs are heard again. */
  private muted = false;
  private replayLeft = 0;
  speakingUtterance: { id: string; bargeIn: boolean } | null = null;

  constructor(readonly deps: DialogDeps) {}

  get answered(): boolean {
    return this.answers.length > 0;
  }

  /** Counts one more asking of `question`; returns how many times it has been asked since the last answer. */
  countAsk(question: string): number {
    const n = (this.asked.get(question) ?? 0) + 1;
    this.asked.set(question, n);
    return n;
  }

  /** The caller got an answer: questions may be asked afresh, and their words start a new question. */
  progressed(): void {
    this.asked.clear();
    this.escalating = false;
    this.escalationReason = null;
    this.questionTexts.length = 0;
  }

  /** Says the bot's last turn again (the answer and the question after it), as the caller asked. */
  async repeatLastTurn(): Promise<void> {
    const turn = this.lastTurn;
    if (turn.length === 0) return;
    for (const { text, opts } of turn) await this.say(text, opts);
  }

  /** Records a turn (in order); resolves when it is stored or the store failed (logged). */
  record(who: Speaker, text: string, extra: Omit<Turn, 'who' | 'text' | 'atMs'> = {}): Promise<void> {
    const atMs = this.deps.clock();
    this.transcript.push({ who, text, atMs });
    this.deps.onTurn?.(who);
    const seq = ++this.seq;
    this.writes = this.writes.then(() =>
      addTurn(this.deps.sql, this.deps.callId, seq, { who, text, atMs, ...extra }).catch((err) =>
        this.deps.log.error({ err, callId: this.deps.callId, seq }, 'cannot store a call turn'),
      ),
    );
    return this.writes;
  }

  /** Waits until every turn so far is stored. */
  flushed(): Promise<void> {
    return this.writes;
  }

  classify(text: string, expected?: string[]): Classification {
    return this.deps.nlu().classify(text, { ...(expected ? { expected } : {}), now: this.deps.wallClock() });
  }

  // ---- bot speech ----

  async say(text: string, opts: SayOptions = {}): Promise<void> {
    this.checkEnded();
    const trimmed = text.trim();
    if (!trimmed) return;
    this.lastBotText = trimmed;
    if (opts.repeatable !== false) {
      if (!this.turnOpen) this.lastTurn = [];
      this.turnOpen = true;
      this.lastTurn.push({ text: trimmed, opts });
    }
    // Said and stored on the node that ran this step first: the citizen has read it already.
    if (this.muted) return;
    const bargeIn = opts.bargeIn ?? true;
    if (bargeIn && this.typedAhead()) return;
    await this.record('bot', trimmed, {
      answerVersion: opts.answerVersion ?? null,
      ...(opts.confirms ? { intent: opts.confirms } : {}),
    });
    this.checkEnded();
    const id = randomUUID();
    const done = new Promise<void>((resolve, reject) => this.sayWaiters.set(id, { resolve, reject }));
    this.speakingUtterance = { id, bargeIn };
    this.deps.emitSay(trimmed, id, { ...opts, bargeIn });
    await done;
  }

  /**
   * A caller on the phone who pressed a key or spoke over the bot has answered ahead: what the bot still had
   * queued before listening (the rest of the greeting, the incident announcements, the menu) is skipped, as in
   * any IVR, and the next `hear` takes the input at once. Without this, 0 pressed in the greeting reached the
   * operator step only after every announcement and the whole menu had played (about 25 s on the live line).
   * What must be heard (`bargeIn: false`) still plays. Only a call's audio is skipped: a chat's reader, or a
   * scripted caller whose lines arrive at once, keeps every message.
   */
  private typedAhead(): boolean {
    const audio = this.deps.meta.channel === 'media' || this.deps.meta.channel === 'sip';
    return audio && this.mailbox.some((input) => input.kind !== 'silence');
  }

  /** Says a KB prompt with {placeholders} filled; a missing prompt falls back to the shipped text. */
  async sayPrompt(id: string, vars: Record<string, string> = {}, opts: SayOptions = {}): Promise<void> {
    await this.say(fillPrompt(await this.promptText(id), vars), opts);
  }

  /** The web chat reads prompts (their written form); every other channel hears them. */
  get promptForm(): PromptForm {
    return this.deps.meta.channel === 'text' ? 'chat' : 'speech';
  }

  async promptText(id: string): Promise<string> {
    let text: string | null = null;
    try {
      text = await this.deps.kb.prompt(id, this.promptForm);
    } catch (err) {
      this.deps.log.error({ err, prompt: id }, 'cannot read a prompt from the knowledge base');
    }
    if (text) return text;
    this.deps.log.warn({ prompt: id }, 'prompt missing in the knowledge base; using the shipped text');
    return fallbackPrompt(id, this.promptForm);
  }

  /** The pipeline finished (or cut short) an utterance. */
  playbackDone(utteranceId: string): void {
    if (this.speakingUtterance?.id === utteranceId) this.speakingUtterance = null;
    const w = this.sayWaiters.get(utteranceId);
    if (!w) return;
    this.sayWaiters.delete(utteranceId);
    w.resolve();
  }

  /** Playback cannot complete (output failed): let the dialog go on rather than hang. */
  playbackFailed(): void {
    this.speakingUtterance = null;
    for (const [id, w] of this.sayWaiters) {
      this.sayWaiters.delete(id);
      w.resolve();
    }
  }

  // ---- caller input ----

  /** What the dialog learns from recognized speech: its intent with the confidence, and its entities. */
  private noteUnderstood(input: Extract<Heard, { kind: 'speech' }>): void {
    const c = input.classification;
    this.intents.push({
      intent: c.intent,
      confidence: c.confidence,
      atMs: this.deps.clock(),
      text: input.text,
    });
    this.entities.push(...c.entities);
  }

  /** Caller input from the pipeline: to the waiting `hear`, or queued until the runner listens. */
  deliver(input: Heard): void {
    if (this.ended) return;
    if (input.kind === 'speech') {
      const c = input.classification;
      this.noteUnderstood(input);
      void this.record('caller', input.text, { intent: c.intent, confidence: c.confidence });
    } else if (input.kind === 'dtmf') {
      void this.record('caller', input.digit, { dtmf: input.digit });
    }
    if (input.kind === 'silence' && input.silenceMs < this.deps.noInputMs) {
      this.notifyWaiting();
      return;
    }
    const w = this.hearWaiter;
    if (w) {
      this.hearWaiter = null;
      this.clearNoInputTimer();
      w.resolve(input);
    } else {
      this.mailbox.push(input);
    }
  }

  /**
   * The caller's next input. Speech is re-classified with `expected` (yes/no after a question) so the
   * answer is read in context; the turn record keeps the context-free reading made on arrival.
   */
  async hear(opts: { expected?: string[] } = {}): Promise<Heard> {
    this.checkEnded();
    if (this.replayLeft === 0) this.muted = false;
    const queued = this.mailbox.shift();
    if (queued && this.replayLeft > 0) this.replayLeft--;
    const input =
      queued ??
      (await new Promise<Heard>((resolve, reject) => {
        this.hearWaiter = { resolve, reject };
        this.startNoInputTimer();
        this.notifyWaiting();
      }));
    this.stepInputs.push(input);
    this.inputsHeard++;
    // The caller's input closes the bot's turn: what the bot says next is a new turn to repeat.
    this.turnOpen = false;
    await this.writes;
    if (input.kind === 'speech' && opts.expected) {
      return { ...input, classification: this.classify(input.text, opts.expected) };
    }
    return input;
  }

  /**
   * The caller's next input, or null once `stop()` holds: the wait in the operator queue ends when an operator
   * joins (`operatorJoins`), the conversation with them when they close it (`operatorCloses`). Input that
   * arrives after the wake waits in the mailbox for the next hear.
   */
  async hearUntil(stop: () => boolean): Promise<Heard | null> {
    if (stop()) return null;
    this.checkEnded();
    if (this.mailbox.length > 0) return this.hear();
    return new Promise<Heard | null>((resolve, reject) => {
      this.wake = () => {
        if (!stop()) return;
        this.wake = null;
        // The pending hear is given up (never settles); the caller's next input goes to the mailbox.
        this.hearWaiter = null;
        this.clearNoInputTimer();
        resolve(null);
      };
      this.hear().then(
        (heard) => {
          this.wake = null;
          resolve(heard);
        },
        (err: Error) => {
          this.wake = null;
          reject(err);
        },
      );
    });
  }

  // ---- another node resumes the chat ----

  /** A step begins: the caller's inputs are counted from here for the checkpoint. */
  beginStep(): void {
    this.stepInputs = [];
  }

  /** The state to save at a step's beginning (with `stepInputs` at the end of each turn). */
  snapshot(): DialogState {
    return structuredClone({
      classification: this.classification,
      topicId: this.topicId,
      agencyId: this.agencyId,
      noMatchCount: this.noMatchCount,
      outcome: this.outcome,
      queued: this.queued,
      transferred: this.transferred,
      lastBotText: this.lastBotText,
      inputsHeard: this.inputsHeard,
      questionTexts: this.questionTexts,
      escalating: this.escalating,
      escalationReason: this.escalationReason,
      leaving: this.leaving,
      operator: this.operator,
      asked: [...this.asked],
      lastTurn: this.lastTurn,
      turnOpen: this.turnOpen,
      intents: this.intents,
      answers: this.answers,
      entities: this.entities,
    });
  }

  /** The caller's inputs heard since the current step began. */
  inputsThisStep(): Heard[] {
    return structuredClone(this.stepInputs);
  }

  /**
   * Takes the chat over from another node: the state at the step's beginning, the stored turns (their order
   * goes on after the last), and the step's inputs replayed with the bot muted, so the step stands where it
   * stood and the citizen's next message is answered there.
   */
  resume(
    state: DialogState,
    turns: Array<{ seq: number; who: Speaker; text: string; atMs: number }>,
    inputs: Heard[],
  ): void {
    const { asked, intents, answers, entities, questionTexts, lastTurn, ...plain } = state;
    Object.assign(this, plain);
    for (const [q, n] of asked) this.asked.set(q, n);
    this.intents.push(...intents);
    this.answers.push(...answers);
    this.entities.push(...entities);
    this.questionTexts.push(...questionTexts);
    this.lastTurn = lastTurn;
    for (const t of turns) this.transcript.push({ who: t.who, text: t.text, atMs: t.atMs });
    this.seq = turns.reduce((max, t) => Math.max(max, t.seq), 0);
    // The inputs replayed were recorded when they came; only what the dialog learned from them is rebuilt.
    for (const input of inputs) if (input.kind === 'speech') this.noteUnderstood(input);
    this.mailbox.unshift(...inputs);
    this.replayLeft = inputs.length;
    this.muted = true;
  }

  /** An operator took the call (a chat on the desk): the bot's queue wait ends. */
  operatorJoins(operator: { id: string; name: string }): void {
    if (this.ended || this.operator?.id === operator.id) return;
    this.operator = { id: operator.id, name: operator.name };
    this.wake?.();
  }

  /** The operator closed the conversation: the call ends after the bot's goodbye for them. */
  operatorCloses(): void {
    if (this.ended) return;
    this.operatorClosed = true;
    this.wake?.();
  }

  /** Resolves when the runner waits for caller input with nothing queued, or the call ended. */
  whenWaiting(): Promise<void> {
    if (this.ended || (this.hearWaiter && this.mailbox.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.waitingListeners.push(resolve));
  }

  /** The caller hung up (or the session stops): every await of the runner ends. */
  end(reason: CallEnded['reason']): void {
    if (this.ended) return;
    this.ended = new CallEnded(reason);
    this.clearNoInputTimer();
    this.hearWaiter?.reject(this.ended);
    this.hearWaiter = null;
    for (const w of this.sayWaiters.values()) w.reject(this.ended);
    this.sayWaiters.clear();
    this.notifyWaiting();
  }

  /** Marks the runner finished (the bot ended the call): simulators stop waiting. */
  finished(): void {
    if (!this.ended) this.ended = new CallEnded('shutdown');
    this.clearNoInputTimer();
    this.notifyWaiting();
  }

  private checkEnded(): void {
    if (this.ended) throw this.ended;
  }

  private notifyWaiting(): void {
    for (const l of this.waitingListeners.splice(0)) l();
  }

  private startNoInputTimer(): void {
    if (!this.deps.realTimeNoInput) return;
    this.clearNoInputTimer();
    const ms = this.deps.noInputMs;
    this.noInputTimer = setTimeout(() => {
      this.noInputTimer = null;
      // Only while nobody is speaking: the caller's speech in progress is not silence.
      if (this.hearWaiter) this.deliver({ kind: 'silence', silenceMs: ms });
    }, ms);
    this.noInputTimer.unref?.();
  }

  /** The caller started speaking: the silence clock stops until the next listen. */
  callerActivity(): void {
    this.clearNoInputTimer();
  }

  private clearNoInputTimer(): void {
    if (this.noInputTimer) clearTimeout(this.noInputTimer);
    this.noInputTimer = null;
  }
}
