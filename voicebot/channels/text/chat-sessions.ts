/**
 * Live web-chat sessions: each is a TextLeg with a call session on the same engine and records as calls.
 * A turn (start, a message, keys) resolves when the bot waits for the caller again or the chat ended,
 * with the bot's messages of that turn. Idle chats are closed as a caller hang-up.
 *
 * A chat waiting in the operator queue can be taken by an operator on the desk (the desk's DeskChats,
 * admin/plugins/desk.ts): `operatorJoined` ends the bot's queue wait (the enqueue step says who joined and
 * falls silent), `operatorSays` stores the operator's turn and shows it to the citizen at once,
 * `operatorClosed` ends the chat (outcome `operator`). The citizen's messages meanwhile are stored as their
 * turns by the dialog, and `onChange` tells the desk about each one and about the citizen leaving.
 */
import { randomUUID } from 'node:crypto';
import { OtklikError } from '../../../core/errors.js';
import {
  type CallResult,
  CallSession,
  type ChatCheckpoint,
  type SessionDeps,
  type SessionResume,
} from '../../session.js';
import { MAX_CALLER_TEXT_CHARS } from '../limits.js';
import { TextLeg } from './text-leg.js';

export type ChatDeps = Omit<SessionDeps, 'mode' | 'channel' | 'clock'>;

/** Who took the chat on the desk, as the citizen is shown them. */
export interface ChatOperator {
  id: string;
  name: string;
}

export interface ChatTurn {
  id: string;
  /** What the citizen sees since the last turn: the bot's messages and an operator's (with their name). */
  messages: Array<
    | { who: 'bot'; text: string; at: string; notice?: true }
    | { who: 'operator'; text: string; at: string; name: string }
  >;
  ended: boolean;
  outcome: CallResult['outcome'] | null;
}

interface ChatEntry {
  leg: TextLeg;
  session: CallSession;
  done: Promise<CallResult>;
  result: CallResult | null;
  cursor: number;
  idleTimer: NodeJS.Timeout | null;
  busy: Promise<unknown>;
}

export interface ChatSessionsOptions {
  /** A chat without caller or operator activity this long is closed (default 15 minutes). */
  idleTimeoutMs?: number;
  /** Finished chats stay readable in memory this long (the record stays in the store). */
  keepFinishedMs?: number;
}

/** A caller number as the chat accepts it (the HTTP schema uses the same pattern). */
export const CALLER_NUMBER = /^\+?[0-9]{5,15}$/;

/**
 * What a citizen typed, without the control characters a browser or a paste can carry (NUL among them,
 * which PostgreSQL cannot store): the message is kept, and the transcript shows what a person can read.
 * Line breaks and tabs stay.
 */
export function cleanChatText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').trim();
}

/** Shown when the citizen writes to a chat that has ended: nothing they write is silently lost. */
export const CHAT_ENDED_MESSAGE =
  'Разговор завершён, сообщение не доставлено. Чтобы задать вопрос, начните новый разговор.';

function chatEnded(id: string): OtklikError {
  return new OtklikError('CHAT_ENDED', CHAT_ENDED_MESSAGE, { details: { id } });
}

/** A message of one key («1», «0», «#»): the chat's menus ask to send the item's number. */
const singleKey = /^[0-9*#]$/;

export class ChatSessions {
  private readonly chats = new Map<string, ChatEntry>();
  private readonly idleTimeoutMs: number;
  private readonly keepFinishedMs: number;
  private readonly changeListeners = new Set<(callId: string) => void>();
  private readonly openListeners = new Set<(id: string, leg: TextLeg) => void>();

  constructor(
    private readonly deps: ChatDeps,
    opts: ChatSessionsOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 15 * 60_000;
    this.keepFinishedMs = opts.keepFinishedMs ?? 5 * 60_000;
  }

  async start(caller?: string): Promise<ChatTurn> {
    if (caller !== undefined && !CALLER_NUMBER.test(caller))
      throw new OtklikError(
        'VALIDATION_FAILED',
        'Номер телефона: от 5 до 15 цифр, в начале можно поставить «+»',
        { details: { field: 'caller' } },
      );
    const id = randomUUID();
    const entry = this.open(id, caller ?? '', new Date());
    return this.turn(id, entry, () => {});
  }

  /**
   * Takes over a chat another node served (chat-router.ts): a session resumed at the checkpoint, the bot
   * silent until the step waits for the citizen again; their next message goes through `say` as usual.
   */
  async resume(id: string, caller: string, resume: SessionResume): Promise<void> {
    if (this.chats.has(id)) return;
    const entry = this.open(id, caller, resume.startedAt, resume);
    await this.operatorAct(id, entry, () => {});
  }

  /** The checkpoint of a live chat here (saved after each turn), or null. */
  checkpoint(id: string): ChatCheckpoint | null {
    const entry = this.chats.get(id);
    return entry && this.live(entry) ? entry.session.checkpoint() : null;
  }

  /** The ids of the chats live in this process. */
  liveIds(): string[] {
    return [...this.chats].filter(([, e]) => this.live(e)).map(([id]) => id);
  }

  /**
   * Lets a chat go (a drain): once its turn in progress is over, its session stops without closing the record;
   * returns its last checkpoint, for the node that takes it next. null when it is not live here.
   */
  async release(id: string): Promise<ChatCheckpoint | null> {
    const entry = this.chats.get(id);
    if (!entry || !this.live(entry)) return null;
    await entry.busy;
    const checkpoint = entry.session.checkpoint();
    this.clearIdle(entry);
    entry.session.detach();
    await entry.done.catch(() => undefined);
    this.chats.delete(id);
    return checkpoint;
  }

  /** Tells `listener` of every chat session this process opens (started or resumed), with its leg. */
  onOpen(listener: (id: string, leg: TextLeg) => void): () => void {
    this.openListeners.add(listener);
    return () => {
      this.openListeners.delete(listener);
    };
  }

  private open(id: string, caller: string, startedAt: Date, resume?: SessionResume): ChatEntry {
    const leg = new TextLeg({ callId: id, from: caller, to: '122', startedAt, channel: 'text' });
    if (resume?.checkpoint.live.operator) leg.withOperator = true;
    const session = new CallSession(leg, {
      ...this.deps,
      mode: 'text',
      channel: 'text',
      ...(resume ? { resume } : {}),
    });
    const entry: ChatEntry = {
      leg,
      session,
      done: session.run(),
      result: null,
      cursor: 0,
      idleTimer: null,
      busy: Promise.resolve(),
    };
    entry.done.then(
      (r) => {
        entry.result = r;
        this.clearIdle(entry);
        setTimeout(() => {
          if (this.chats.get(id) === entry) this.chats.delete(id);
        }, this.keepFinishedMs).unref?.();
        // The operator's desk shows that the conversation is over (the citizen left, or it was closed).
        if (entry.session.dialog?.operator) this.changed(id);
      },
      (err) => {
        this.deps.log.error({ err, callId: id }, 'chat session failed');
        this.clearIdle(entry);
        this.chats.delete(id);
      },
    );
    this.chats.set(id, entry);
    for (const l of this.openListeners) l(id, leg);
    return entry;
  }

  has(id: string): boolean {
    return this.chats.has(id);
  }

  leg(id: string): TextLeg {
    return this.entry(id).leg;
  }

  /** The chat's outcome once it has ended (null: unknown here, or the session failed). */
  async outcome(id: string): Promise<CallResult['outcome'] | null> {
    const entry = this.chats.get(id);
    if (!entry) return null;
    return (await entry.done.catch(() => null))?.outcome ?? null;
  }

  /** Tells `listener` the id of a chat an operator holds whenever it changes: a citizen's message, the end. */
  onChange(listener: (callId: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /**
   * The operator took the chat: the bot's queue wait ends, the citizen sees «К разговору подключился оператор
   * Имя» (again, with the new name, when another operator takes it over). false when the chat is not live
   * in this process (the citizen left, it ended, another node has it) or is not waiting for an operator.
   * Resolves once the citizen has been told.
   */
  async operatorJoined(callId: string, operator: ChatOperator): Promise<boolean> {
    const entry = this.chats.get(callId);
    if (!entry || !this.live(entry) || !entry.session.dialog?.queued) return false;
    await this.operatorAct(callId, entry, () => {
      entry.leg.withOperator = true;
      entry.session.dialog.operatorJoins(operator);
    });
    return this.live(entry) && entry.session.dialog.operator !== null;
  }

  /**
   * The operator's message: stored as their turn (who 'operator'), then shown to the citizen at once.
   * CHAT_ENDED when the chat is over (or not live here); a chat not yet joined is joined first.
   */
  async operatorSays(callId: string, operator: ChatOperator, text: string): Promise<void> {
    const clean = cleanChatText(text);
    if (!clean) throw new OtklikError('VALIDATION_FAILED', 'Сообщение пустое: напишите ответ');
    const entry = this.chats.get(callId);
    if (!entry || !this.live(entry)) throw chatEnded(callId);
    if (!entry.session.dialog.operator && !(await this.operatorJoined(callId, operator)))
      throw chatEnded(callId);
    await entry.busy;
    if (!this.live(entry)) throw chatEnded(callId);
    this.armIdle(callId, entry);
    await entry.session.dialog.record('operator', clean);
    entry.leg.operatorSays(clean, operator.name);
    this.changed(callId);
  }

  /**
   * The operator closed the conversation: the citizen reads «Оператор завершил разговор. Спасибо за
   * обращение!» and the chat ends with the outcome `operator`. A chat already over is left as it is.
   */
  async operatorClosed(callId: string, _operator: ChatOperator): Promise<void> {
    const entry = this.chats.get(callId);
    if (!entry || !this.live(entry)) return;
    const dialog = entry.session.dialog;
    // Not joined yet (the desk closed at once): the chat is the operator's all the same.
    if (!dialog.operator) await this.operatorJoined(callId, _operator);
    await this.operatorAct(callId, entry, () => dialog.operatorCloses());
    await entry.done.catch(() => undefined);
  }

  async say(id: string, text: string): Promise<ChatTurn> {
    const clean = cleanChatText(text);
    if (!clean) throw new OtklikError('VALIDATION_FAILED', 'Сообщение пустое: напишите ваш вопрос');
    if (clean.length > MAX_CALLER_TEXT_CHARS)
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Сообщение длиннее ${MAX_CALLER_TEXT_CHARS} символов: сократите его`,
      );
    if (singleKey.test(clean)) return this.press(id, clean);
    const entry = this.entry(id);
    return this.turn(id, entry, () => entry.leg.callerSays(clean), { endedIsError: true });
  }

  async press(id: string, digits: string): Promise<ChatTurn> {
    if (!/^[0-9*#]{1,20}$/.test(digits))
      throw new OtklikError('VALIDATION_FAILED', 'Клавиши: от 1 до 20 символов из 0–9, * и #');
    const entry = this.entry(id);
    return this.turn(id, entry, () => entry.leg.callerPresses(digits), { endedIsError: true });
  }

  async hangup(id: string): Promise<ChatTurn> {
    const entry = this.entry(id);
    return this.turn(id, entry, () => entry.leg.callerHangsUp());
  }

  /** Ends every chat (shutdown): queued callers stay in the queue, the records are closed. */
  async closeAll(): Promise<void> {
    const all = [...this.chats.values()];
    for (const e of all) {
      this.clearIdle(e);
      e.session.stop();
    }
    await Promise.allSettled(all.map((e) => e.done));
  }

  private live(entry: ChatEntry): boolean {
    return entry.result === null && !entry.leg.ended && !entry.session.dialog?.ended;
  }

  /** One act of the operator, in turn with the citizen's; resolves once the bot is done with it. */
  private operatorAct(id: string, entry: ChatEntry, act: () => void): Promise<void> {
    const run = async (): Promise<void> => {
      await entry.session.started();
      if (!this.live(entry)) return;
      this.armIdle(id, entry);
      act();
      const settled = entry.done.then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([entry.session.whenWaiting(), settled]);
    };
    const next = entry.busy.then(run, run);
    entry.busy = next.catch(() => undefined);
    return next;
  }

  private changed(id: string): void {
    for (const l of this.changeListeners) {
      try {
        l(id);
      } catch (err) {
        this.deps.log.error({ err, callId: id }, 'chat change listener failed');
      }
    }
  }

  private entry(id: string): ChatEntry {
    const entry = this.chats.get(id);
    if (!entry) throw new OtklikError('NOT_FOUND', 'Сеанс чата не найден или уже завершён');
    return entry;
  }

  /**
   * Runs one caller action and collects the bot's reply; turns of one chat never interleave. A message or
   * key to a chat that has ended is an error (CHAT_ENDED), not dropped; leaving an ended chat is a no-op.
   */
  private turn(
    id: string,
    entry: ChatEntry,
    act: () => void,
    opts: { endedIsError?: boolean } = {},
  ): Promise<ChatTurn> {
    const run = async (): Promise<ChatTurn> => {
      if (entry.result || entry.leg.ended) {
        if (opts.endedIsError) throw chatEnded(id);
        return this.snapshot(id, entry);
      }
      this.armIdle(id, entry);
      act();
      const settled = entry.done.then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([entry.session.whenWaiting(), settled]);
      if (entry.leg.ended || entry.session.dialog?.ended) await settled;
      // With an operator: the citizen's message is stored (as their turn) before the desk is told.
      if (entry.session.dialog?.operator && !entry.result) {
        await entry.session.dialog.flushed();
        this.changed(id);
      }
      return this.snapshot(id, entry);
    };
    const next = entry.busy.then(run, run);
    entry.busy = next.catch(() => undefined);
    return next;
  }

  private snapshot(id: string, entry: ChatEntry): ChatTurn {
    const fresh = entry.leg.messages.slice(entry.cursor);
    entry.cursor = entry.leg.messages.length;
    return {
      id,
      messages: fresh.map((m) =>
        m.who === 'operator'
          ? { who: 'operator', text: m.text, at: m.at.toISOString(), name: m.name }
          : {
              who: 'bot',
              text: m.text,
              at: m.at.toISOString(),
              ...(m.notice ? { notice: true as const } : {}),
            },
      ),
      ended: entry.leg.ended || entry.result !== null,
      outcome: entry.result?.outcome ?? null,
    };
  }

  private armIdle(id: string, entry: ChatEntry): void {
    this.clearIdle(entry);
    entry.idleTimer = setTimeout(() => {
      this.deps.log.info({ callId: id }, 'chat idle: closing as a caller hang-up');
      entry.leg.callerHangsUp();
    }, this.idleTimeoutMs);
    entry.idleTimer.unref?.();
  }

  private clearIdle(entry: ChatEntry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
  }
}
