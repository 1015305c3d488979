import assert from 'node:assert/strict';
import { callsPlugin } from '../../admin/plugins/calls.js';
import { type DeskChats, type DeskPhone, deskPlugin } from '../../admin/plugins/desk.js';
import { type AdminArea, adminArea, build } from '../../admin/server.js';
import type { TypedApp } from '../../admin/typed.js';
import { addUser, type Role } from '../../admin/users.js';
import { addTurn, createCall } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { ensureSeeded } from '../../kb/seed.js';
import type { Sql } from '../../store/sql.js';
import { OperatorQueue } from '../../telephony/queue.js';
import { type Backend, openTestDb, type TestDb } from './db.js';

/**
 * The operator desk on a real HTTP server over a real store with the shipped KB, the real operator queue
 * and the test's own clock (waits and ring timeouts are exact; nothing sleeps for them).
 */
export const password = 'пароль-для-пульта';
export const staff: Array<{ login: string; role: Role; name: string }> = [
  { login: 'kuznetsov', role: 'operator', name: 'Кузнецов Д. А.' },
  { login: 'orlova', role: 'operator', name: 'Орлова М. И.' },
  { login: 'sidorova', role: 'supervisor', name: 'Сидорова А. В.' },
  { login: 'petrova', role: 'editor', name: 'Петрова Е. Н.' },
];
export const CALLER = '+79991234567';

// biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers field by field, as a client would
export type Json = any;

/**
 * What the desk tells the chat, recorded (the contract test looks at the desk's side; the citizen's side
 * with the real ChatSessions is test/desk-chat.test.ts). A chat in `ended` refuses messages as a finished
 * chat does.
 */
export class RecordedChats implements DeskChats {
  readonly acts: Array<[string, string, string, string?]> = [];
  readonly ended = new Set<string>();
  private readonly listeners = new Set<(callId: string) => void>();
  async operatorJoined(callId: string, op: { id: string; name: string }) {
    this.acts.push(['joined', callId, op.name]);
    return !this.ended.has(callId);
  }
  async operatorSays(callId: string, op: { id: string; name: string }, text: string) {
    if (this.ended.has(callId)) throw new OtklikError('CHAT_ENDED', 'Разговор завершён');
    this.acts.push(['says', callId, op.name, text]);
  }
  async operatorClosed(callId: string, op: { id: string; name: string }) {
    this.acts.push(['closed', callId, op.name]);
  }
  onChange(listener: (callId: string) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  citizenWrote(callId: string) {
    for (const l of this.listeners) l(callId);
  }
}

export interface DeskEnv {
  db: TestDb;
  app: TypedApp;
  base: string;
  queue: OperatorQueue;
  chats: RecordedChats;
  tokens: Record<string, string>;
  /** The test's clock: `env.advance(ms)`. */
  now: () => Date;
  advance(ms: number): void;
  set(at: number): void;
  /** A JSON request as `login` (null: anonymous). */
  api(
    login: string | null,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }>;
  /** A call from CALLER with a bot conversation before the hand-off, queued in `default` (topic null). */
  queued(callId: string, channel: 'phone' | 'text', o?: { topicId?: string | null }): Promise<void>;
  close(): Promise<void>;
}

export async function openDeskEnv(
  backend: Backend,
  o: {
    waitNormMs?: number;
    phone?: () => DeskPhone | undefined;
    /** More areas on the same server, store, queue and clock (e.g. the callbacks plugin). */
    plugins?: (ctx: { sql: Sql; queue: OperatorQueue; now: () => Date }) => AdminArea[];
  } = {},
): Promise<DeskEnv> {
  const db = await openTestDb(backend);
  await ensureSeeded(db.sql);
  for (const s of staff) await addUser(db.sql, { ...s, password });
  let t = Date.parse('2026-03-02T10:00:00+03:00');
  const now = () => new Date(t);
  const queue = new OperatorQueue(db.sql, {
    waitNormMs: o.waitNormMs ?? 60_000,
    ringTimeoutMs: 20_000,
    wrapUpMs: 0,
    now,
  });
  const kb = createKnowledgeBase(db.sql);
  const chats = new RecordedChats();
  const app = await build({
    sql: db.sql,
    log: silentLogger,
    plugins: [
      adminArea(deskPlugin, {
        sql: db.sql,
        queue,
        kb,
        chats,
        timeZone: kb.timezone,
        now,
        streams: { rereadMs: 100, pingMs: 60_000 },
        ...(o.phone ? { phone: o.phone } : {}),
      }),
      adminArea(callsPlugin, { sql: db.sql, queue, health: async () => ({}), timeZone: kb.timezone, now }),
      ...(o.plugins?.({ sql: db.sql, queue, now }) ?? []),
    ],
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const tokens: Record<string, string> = {};
  for (const s of staff) {
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: s.login, password }),
    });
    tokens[s.login] = ((await res.json()) as { token: string }).token;
  }
  const api: DeskEnv['api'] = async (login, method, path, body) => {
    const headers: Record<string, string> = {};
    if (login) headers.authorization = `Bearer ${tokens[login]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const queued: DeskEnv['queued'] = async (callId, channel, opts = {}) => {
    await createCall(db.sql, {
      id: callId,
      channel: channel === 'text' ? 'text' : 'sip',
      callerNumber: CALLER,
      dialledNumber: '122',
      startedAt: now(),
    });
    await addTurn(db.sql, callId, 0, { who: 'bot', text: 'Здравствуйте! Чем помочь?', atMs: 0 });
    await addTurn(db.sql, callId, 1, {
      who: 'caller',
      text: 'Хочу записаться к врачу, позовите оператора',
      atMs: 1200,
      intent: 'health.appointment',
      confidence: 0.91,
    });
    await queue.enqueueCall({
      callId,
      topicId: opts.topicId ?? null,
      channel,
      context: {
        reason: 'caller_request',
        callerNumber: CALLER,
        topic: 'health',
        intents: [{ intent: 'health.appointment', confidence: 0.91, atMs: 1200, text: 'Хочу записаться' }],
        entities: [{ type: 'date', text: 'завтра', value: '2026-03-03' }],
        transcript: [],
        answers: [{ intent: 'health.appointment', answerVersion: 'health.appointment@v1' }],
      },
    });
  };
  return {
    db,
    app,
    base,
    queue,
    chats,
    tokens,
    now,
    advance: (ms) => {
      t += ms;
    },
    set: (at) => {
      t = at;
    },
    api,
    queued,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Clears the queue between tests: no calls, every operator offline, the default queue as shipped. */
export async function resetQueue(env: DeskEnv): Promise<void> {
  await env.db.sql.exec(`DELETE FROM telephony_queue_calls; DELETE FROM telephony_acd_events;
    DELETE FROM telephony_acd_queues WHERE id <> 'default';
    UPDATE telephony_acd_queues SET strategy = 'longest-idle-agent', rr_last_operator = NULL;
    UPDATE telephony_operators SET state = 'offline', idle_since = NULL, no_answer_count = 0;`);
  env.chats.acts.length = 0;
}

/** A server-sent event stream read with fetch, as the desk's browser reads it (the Bearer header). */
export async function openStream(env: Pick<DeskEnv, 'base' | 'tokens'>, login: string, path: string) {
  const abort = new AbortController();
  const res = await fetch(`${env.base}${path}`, {
    headers: { authorization: `Bearer ${env.tokens[login]}` },
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    /** The next event whose data passes `accept` (events before it are skipped). */
    async next(accept: (data: Json) => boolean = () => true): Promise<{ event: string; data: Json }> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) {
            const parsed = JSON.parse(data);
            if (accept(parsed)) return { event, data: parsed };
          }
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    close() {
      abort.abort();
    },
  };
}

/**
 * A refusal in the API's one error shape, as the desk contract says: the HTTP status, {error: CODE} and a
 * Russian message (or one matching `message`).
 */
export function refused(r: { status: number; body: Json }, status: number, code: string, message?: RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, code);
  assert.match(r.body.message, message ?? /[А-Яа-яЁё]/);
}
