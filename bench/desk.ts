/**
 * Desk benchmark: how long a citizen who types «оператор» in the web chat waits before the offer is on an
 * operator's desk, and how long from the desk's accept until the citizen reads «К разговору подключился
 * оператор». Everything `otklik serve` wires for it runs in this one process over HTTP and WebSockets on
 * 127.0.0.1: the citizens' chat plugin and the desk plugin sharing one ChatSessions, the shipped KB and its
 * trained NLU, the real operator queue and the serve's desk dispatcher. Each citizen is a WebSocket client
 * as /chat.html is; each operator signs in, sets presence and reads GET /api/desk/events with fetch and a
 * stream reader as the desk page does, accepts the first offer it is pushed, and closes the conversation
 * once the citizen has read that the operator joined.
 *
 * Not a load test: the chats come in waves of M (one per operator available), each wave starting when the
 * last one ended, without real-time pacing of arrivals; N chats per row, so it is bounded (well under a
 * minute per row). The time of day is fixed (a Tuesday, office hours), the latencies are this process's
 * own performance.now().
 * Run: node --import tsx bench/desk.ts   (writes bench/results-desk.md)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { deskPlugin } from '../admin/plugins/desk.js';
import { adminArea, build } from '../admin/server.js';
import { addUser } from '../admin/users.js';
import { silentLogger } from '../core/log.js';
import { percentile } from '../core/stats.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { startDeskDispatcher } from '../telephony/acd/dispatcher.js';
import { OperatorQueue } from '../telephony/queue.js';
import { clockFrom, OFFICE_HOURS } from '../test/support/chat.js';
import { type Backend, openTestDb } from '../test/support/db.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { openDialogKnowledge } from '../voicebot/dialog-knowledge.js';

// BENCH_DESK_SMOKE=1: two chats, one operator, PGlite only (a check that the script runs, not a measurement).
const smoke = process.env.BENCH_DESK_SMOKE === '1';
const CHATS = smoke ? 2 : 40;
const OPERATOR_COUNTS = smoke ? [1] : [1, 4, 8];
const PASSWORD = 'пароль-для-замера';
const WAITING = 'Оператор ответит вам в порядке очереди';
const JOINED = 'К разговору подключился оператор';
/** No chat may take longer than this: the run fails rather than hangs. */
const CHAT_LIMIT_MS = 30_000;

interface Row {
  backend: Backend;
  operators: number;
  /** «оператор» sent → the bot's queue message read by the citizen. */
  queued: number[];
  /** «оператор» sent → the offer read from the operator's event stream. */
  offered: number[];
  /** The accept request sent → the citizen reads that the operator joined. */
  joined: number[];
}

type WsMessage = { type: string; text?: string; id?: string };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function withLimit<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: over ${CHAT_LIMIT_MS} ms`)), CHAT_LIMIT_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function runBackend(backend: Backend): Promise<Row[]> {
  const db = await openTestDb(backend);
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-bench-desk-'));
  const engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
  const clock = clockFrom(OFFICE_HOURS);
  // No wrap-up: the operator who closes is free for the next wave at once.
  const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now: clock });
  const deps = { kb: engine.kb, nlu: engine.nlu, sql: db.sql, log: silentLogger, handOff: queue, now: clock };
  const chats = new ChatSessions(deps);
  const app = await build({
    sql: db.sql,
    log: silentLogger,
    plugins: [
      adminArea(deskPlugin, {
        sql: db.sql,
        queue,
        kb: createKnowledgeBase(db.sql),
        chats,
        timeZone: engine.kb.timezone,
        now: clock,
      }),
      adminArea(textChatPlugin, { deps, chats }),
    ],
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The serve's own dispatcher loop, at its own interval (a round at once on every enqueue).
  const dispatcher = startDeskDispatcher({ queue, channel: 'text', log: silentLogger });
  const maxOperators = Math.max(...OPERATOR_COUNTS);
  const tokens: string[] = [];
  for (let i = 0; i < maxOperators; i++) {
    await addUser(db.sql, { login: `op${i}`, role: 'operator', name: `Оператор ${i}`, password: PASSWORD });
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: `op${i}`, password: PASSWORD }),
    });
    tokens.push(((await res.json()) as { token: string }).token);
  }
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  const rows: Row[] = [];
  try {
    for (const operators of OPERATOR_COUNTS) {
      const row: Row = { backend, operators, queued: [], offered: [], joined: [] };
      const sentAt = new Map<string, number>();
      const joinedSeen = new Map<string, ReturnType<typeof deferred<void>>>();
      const acceptSentAt = new Map<string, number>();
      const joinedOf = (id: string) => {
        let d = joinedSeen.get(id);
        if (!d) {
          d = deferred<void>();
          joinedSeen.set(id, d);
        }
        return d;
      };
      const abort = new AbortController();
      const desks = tokens.slice(0, operators);
      for (const token of desks) await api(token, 'PUT', '/api/desk/presence', { state: 'available' });

      // Each operator's desk: the event stream read as the page reads it; an offer is accepted at once.
      const readers = desks.map(async (token) => {
        const res = await fetch(`${base}/api/desk/events`, {
          headers: { authorization: `Bearer ${token}` },
          signal: abort.signal,
        });
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        const seen = new Set<string>();
        let buffer = '';
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            buffer += decoder.decode(value, { stream: true });
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (!/^event: desk$/m.test(block) || data === undefined) continue;
              const at = performance.now();
              for (const offer of (JSON.parse(data) as { offers: Array<{ callId: string }> }).offers) {
                if (seen.has(offer.callId)) continue;
                seen.add(offer.callId);
                const sent = sentAt.get(offer.callId);
                if (sent !== undefined) row.offered.push(at - sent);
                void (async () => {
                  acceptSentAt.set(offer.callId, performance.now());
                  await api(token, 'POST', `/api/desk/offers/${offer.callId}/accept`);
                  await joinedOf(offer.callId).promise;
                  await api(token, 'POST', `/api/desk/conversations/${offer.callId}/close`, {
                    outcome: 'answered',
                  });
                })().catch((err: Error) => {
                  process.stderr.write(`desk: ${err.message}\n`);
                });
              }
            }
          }
        } catch (err) {
          if (!abort.signal.aborted) throw err;
        }
      });

      // One citizen: /chat.html's WebSocket, the greeting, «оператор», the wait, the operator, the end.
      const citizen = async () => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/api/chat/ws`);
        const received: WsMessage[] = [];
        const waiters = new Set<() => void>();
        ws.on('message', (data) => {
          received.push(JSON.parse(String(data)) as WsMessage);
          for (const w of waiters) w();
        });
        const waitFor = (pred: (m: WsMessage) => boolean) =>
          new Promise<WsMessage>((resolve) => {
            const check = () => {
              const found = received.find(pred);
              if (!found) return;
              waiters.delete(check);
              resolve(found);
            };
            waiters.add(check);
            check();
          });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        ws.send(JSON.stringify({ type: 'start' }));
        const id = (await waitFor((m) => m.type === 'started')).id!;
        await waitFor((m) => m.type === 'bot');
        const sent = performance.now();
        sentAt.set(id, sent);
        ws.send(JSON.stringify({ type: 'message', text: 'оператор' }));
        await waitFor((m) => m.type === 'bot' && (m.text ?? '').includes(WAITING));
        row.queued.push(performance.now() - sent);
        await waitFor((m) => m.type === 'bot' && (m.text ?? '').startsWith(JOINED));
        row.joined.push(performance.now() - acceptSentAt.get(id)!);
        joinedOf(id).resolve();
        await waitFor((m) => m.type === 'ended');
        ws.close();
      };

      for (let done = 0; done < CHATS; done += operators) {
        const wave = Math.min(operators, CHATS - done);
        await withLimit(
          Promise.all(Array.from({ length: wave }, citizen)),
          `${backend}, ${operators} operators, chats ${done + 1}–${done + wave}`,
        );
        // Every operator is free again before the next wave (the closes have been answered).
        for (let i = 0; i < 500; i++) {
          const states = await Promise.all(desks.map((_t, n) => queue.operator(`op${n}`)));
          if (states.every((o) => o?.state === 'available')) break;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      abort.abort();
      await Promise.allSettled(readers);
      for (const token of desks) await api(token, 'PUT', '/api/desk/presence', { state: 'offline' });
      rows.push(row);
    }
  } finally {
    await dispatcher.stop();
    await app.close();
    await engine.close();
    await db.drop();
    rmSync(modelDir, { recursive: true, force: true });
  }
  return rows;
}

const startedAt = Date.now();
const rows: Row[] = [];
for (const backend of (smoke ? ['pglite'] : ['pglite', 'postgres']) as Backend[])
  rows.push(...(await runBackend(backend)));
const elapsed = ((Date.now() - startedAt) / 1000).toFixed(1);

const ms = (v: number) => v.toFixed(1);
const lines = [
  '| backend | operators available (= chats at once) | chats | «оператор» → queue message p50 ms | «оператор» → offer on the desk p50 ms | p95 | p99 | max | accept → «оператор подключился» p50 ms | p95 | p99 |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of rows) {
  const o = r.offered;
  const j = r.joined;
  lines.push(
    `| ${r.backend} | ${r.operators} | ${o.length} | ${ms(percentile(r.queued, 50))} | ${ms(percentile(o, 50))} | ${ms(percentile(o, 95))} | ${ms(percentile(o, 99))} | ${ms(Math.max(...o))} | ${ms(percentile(j, 50))} | ${ms(percentile(j, 95))} | ${ms(percentile(j, 99))} |`,
  );
}
const table = lines.join('\n');
process.stdout.write(`${table}\n\n${CHATS} chats per row; ${elapsed} s in all\n`);
const md = `# Desk benchmark: a chat's «оператор» to the offer on the desk, and the accept to the citizen

\`node --import tsx bench/desk.ts\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs
(${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]!.toFixed(1)} at the end (shared machine).

What it is: one process runs what \`otklik serve\` wires for a chat handed to a person — the citizens' chat
plugin and the desk plugin on one HTTP server sharing one \`ChatSessions\`, the shipped KB with its trained
NLU, the real operator queue and the serve's desk dispatcher — on PGlite and on a PostgreSQL server. Each
citizen is a WebSocket client as \`/chat.html\` is: after the bot's greeting they type «оператор». Each
operator has signed in, set presence to available and reads \`GET /api/desk/events\` with fetch and a stream
reader as the desk page does; it accepts the first offer pushed to it, and closes the conversation once the
citizen has read that it joined. ${CHATS} chats per row, in waves of M at once (M = the operators
available), the next wave when the last one ended. The whole run took ${elapsed} s.

- «оператор» → queue message: the citizen's message sent until the bot's «${WAITING}…» is read on the
  chat's WebSocket (the NLU, the flow's hand-off step, the enqueue).
- «оператор» → offer on the desk: the same start, until the offer for that chat is read from the operator's
  event stream (the enqueue wakes the dispatcher, its round offers the chat, the offer's change pushes the
  desk's \`event: desk\`). This is the figure the issue asks for.
- accept → «оператор подключился»: \`POST /api/desk/offers/:callId/accept\` sent until the citizen reads
  «${JOINED} …» on the chat's WebSocket.

${table}

What it is not: not a load test (arrivals are not paced like real traffic, everything shares one process
and, on PGlite, one in-process database), no network between the browser, the server and the database
beyond the loopback, and no phone calls (a phone offer is pushed the same way; what telephony adds is the
bridge after the accept). Percentiles over ${CHATS} samples: p99 is the slowest chat or close to it. Timings on
this shared 2-core machine vary with the other engineers' load.
`;
if (!smoke) writeFileSync(new URL('./results-desk.md', import.meta.url), md);
