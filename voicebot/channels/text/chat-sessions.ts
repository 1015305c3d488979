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
    const clean = text.trim();
    if (!clean) throw new OtklikError('VALIDATION_FAILED', 'text: the message is empty');
    if (clean.length > MAX_CALLER_TEXT_CHARS)
      throw new OtklikError('VALIDATION_FAILED', `text: at most ${MAX_CALLER_TEXT_CHARS} characters`);
    const entry = this.entry(id);
    return this.turn(id, entry, () => entry.leg.callerSays(clean));
  }

  async press(id: string, digits: string): Promise<ChatTurn> {
    if (!/^[0-9*#]{1,20}$/.test(digits))
      throw new OtklikError('VALIDATION_FAILED', 'dtmf: 1-20 keys of 0-9, * and #');
    const entry = this.entry(id);
    return this.turn(id, entry, () => entry.leg.callerPresses(digits));
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
    if (!entry) throw new OtklikError('NOT_FOUND', `no chat session ${id}`);
    return entry;
  }

  /** Runs one caller action and collects the bot's reply; turns of one chat never interleave. */
  private turn(id: string, entry: ChatEntry, act: () => void): Promise<ChatTurn> {
    const run = async (): Promise<ChatTurn> => {
      if (entry.result || entry.leg.ended) return this.snapshot(id, entry);
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
