/**
 * Live web-chat sessions: each is a TextLeg with a call session on the same engine and records as calls.
 * A turn (start, a message, keys) resolves when the bot waits for the caller again or the chat ended,
 * with the bot's messages of that turn. Idle chats are closed as a caller hang-up.
 */
import { randomUUID } from 'node:crypto';
import { OtklikError } from '../../../core/errors.js';
import { type CallResult, CallSession, type SessionDeps } from '../../session.js';
import { MAX_CALLER_TEXT_CHARS } from '../limits.js';
import { TextLeg } from './text-leg.js';

export type ChatDeps = Omit<SessionDeps, 'mode' | 'channel' | 'clock'>;

export interface ChatTurn {
  id: string;
  messages: Array<{ who: 'bot'; text: string; at: string }>;
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
  /** A chat without caller activity this long is closed (default 15 minutes). */
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
    const leg = new TextLeg({
      callId: id,
      from: caller ?? '',
      to: '122',
      startedAt: new Date(),
      channel: 'text',
    });
    const session = new CallSession(leg, { ...this.deps, mode: 'text', channel: 'text' });
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
        setTimeout(() => this.chats.delete(id), this.keepFinishedMs).unref?.();
      },
      (err) => {
        this.deps.log.error({ err, callId: id }, 'chat session failed');
        this.clearIdle(entry);
        this.chats.delete(id);
      },
    );
    this.chats.set(id, entry);
    return this.turn(id, entry, () => {});
  }

  has(id: string): boolean {
    return this.chats.has(id);
  }

  leg(id: string): TextLeg {
    return this.entry(id).leg;
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
      messages: fresh.map((m) => ({ who: 'bot', text: m.text, at: m.at.toISOString() })),
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
