/**
 * Web-chat capacity: chats started per second and the citizen's turn latency (message sent → the bot's
 * reply received) on one `otklik serve` and on two behind one address, as a load balancer without sticky
 * sessions puts them: a round-robin proxy in this process sends each HTTP request to the next node, so a
 * chat's messages alternate between the nodes.
 *
 * Each simulated citizen opens a chat, asks three questions one after another (each after the reply to the
 * last) and leaves; concurrency is ramped. The nodes are real `otklik serve` processes on one PostgreSQL
 * database and one Redis (queue prefix of this run), as deployed; what they answer is the shipped KB's
 * approved answers (NLU, flow, turn records: everything real). A citizen here does not pause to read.
 *
 *   node --import tsx bench/chat-load.ts     (writes bench/results-chat-load.md; about two minutes)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { percentile } from '../core/stats.js';
import { type ServeProcess, startServe } from '../test/support/serve.js';

const LEVELS = (process.env.CHAT_LOAD_LEVELS ?? '1,5,10,20,40,80').split(',').map(Number);
const LEVEL_MS = Number(process.env.CHAT_LOAD_LEVEL_MS ?? 10_000);
const P95_LIMIT_MS = 1_000;
const QUESTIONS = [
  'как записаться к терапевту',
  'где поставить прививку от гриппа',
  'какие выплаты положены беженцам',
  'как записать ребёнка в детский сад',
];
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const resultsFile = fileURLToPath(new URL('./results-chat-load.md', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh database on the PostgreSQL server for this run (dropped at the end). */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_chat_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Round-robin HTTP proxy: each request to the next node, as a load balancer without sticky sessions. */
async function startBalancer(targets: string[]): Promise<{ base: string; server: Server }> {
  let next = 0;
  const server = createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]!);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  // Idle keep-alive connections stay open longer than the client keeps them, so a reused one is never
  // closed under a request in flight (that race would be the proxy's error, not the nodes').
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A request that fails on the network counts as an error of the level (status 0), never ends the run. */
async function post(base: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  try {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  } catch (err) {
    networkErrors.push((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message);
    return { status: 0, json: null };
  }
}
const networkErrors: string[] = [];

interface LevelRow {
  citizens: number;
  chats: number;
  chatsPerSecond: number;
  turns: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

async function ramp(base: string): Promise<{ rows: LevelRow[]; held: number }> {
  const rows: LevelRow[] = [];
  let held = 0;
  for (const level of LEVELS) {
    const until = performance.now() + LEVEL_MS;
    const latencies: number[] = [];
    let chats = 0;
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: level }, async (_, i) => {
        while (performance.now() < until) {
          const open = await post(base, '/api/chat/sessions', {});
          const id = (open.json as { id?: string } | null)?.id;
          if (open.status !== 201 || !id) {
            errors++;
            await sleep(100);
            continue;
          }
          let ok = true;
          for (let q = 0; q < 3 && ok; q++) {
            const t = performance.now();
            const r = await post(base, `/api/chat/sessions/${id}/messages`, {
              text: QUESTIONS[(i + q) % QUESTIONS.length],
            });
            const replied = ((r.json as { messages?: unknown[] } | null)?.messages ?? []).length > 0;
            if (r.status === 200 && replied) latencies.push(performance.now() - t);
            else {
              errors++;
              ok = false;
            }
          }
          await fetch(`${base}/api/chat/sessions/${id}`, { method: 'DELETE' }).catch(() => undefined);
          if (ok) chats++;
        }
      }),
    );
    const wallS = (performance.now() - started) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    const row: LevelRow = {
      citizens: level,
      chats,
      chatsPerSecond: chats / wallS,
      turns: sorted.length,
      errors,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
    };
    rows.push(row);
    if (row.turns > 0 && row.p95 <= P95_LIMIT_MS && row.errors === 0) held = level;
    else break;
  }
  return { rows, held };
}

const db = await createDatabase();
const prefix = `bench-chat-${randomBytes(3).toString('hex')}`;
function nodeEnv(n: number): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), `otklik-bench-chat-${n}-`));
  return {
    DATABASE_URL: db.url,
    OTKLIK_DATA_DIR: dir,
    NLU_MODEL_DIR: join(dir, 'nlu'),
    OTKLIK_ADMIN_PASSWORD: 'admin-pass-122',
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'error',
  };
}

const t0 = performance.now();
// The first node seeds the store; the second starts on it.
const nodes: ServeProcess[] = [await startServe(nodeEnv(1))];
nodes.push(await startServe(nodeEnv(2)));
const setupS = (performance.now() - t0) / 1000;
const single = await ramp(nodes[0]!.base);
const balancer = await startBalancer(nodes.map((n) => n.base));
const double = await ramp(balancer.base);
balancer.server.close();
for (const n of nodes) n.child.kill('SIGTERM');
await Promise.all(nodes.map((n) => Promise.race([n.exited, sleep(10_000)])));
await db.drop();

const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(0));
const lines = [
  '# Web-chat capacity (bench/chat-load.ts)',
  '',
  `${new Date().toISOString()}; host ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; load average at the end ${loadavg()[0]!.toFixed(2)}; node ${process.version}; two \`otklik serve\` on one PostgreSQL database and Redis; setup ${setupS.toFixed(1)} s. Each citizen opens a chat, asks three questions without pausing and leaves; ${LEVEL_MS / 1000} s per level; a level holds while p95 ≤ ${P95_LIMIT_MS} ms with no error. The client and the proxy share the machine with the nodes.`,
];
for (const [name, r] of [
  ['one node', single],
  ['two nodes behind a round-robin proxy (no sticky sessions: messages alternate)', double],
] as const) {
  lines.push('', `## ${name}`, '');
  lines.push('| citizens at once | chats | chats/s | turns | errors | p50 ms | p95 ms | p99 ms |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of r.rows) {
    lines.push(
      `| ${l.citizens} | ${l.chats} | ${l.chatsPerSecond.toFixed(2)} | ${l.turns} | ${l.errors} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.p99)} |`,
    );
  }
  lines.push('', `held: **${r.held}** citizens at once`);
}
const best = (r: { rows: LevelRow[] }) => Math.max(0, ...r.rows.map((x) => x.chatsPerSecond));
lines.push(
  '',
  `Ratio two nodes / one node: chats/s at best ${(best(double) / Math.max(best(single), 1e-9)).toFixed(2)}x, citizens held ${single.held > 0 ? (double.held / single.held).toFixed(2) : '-'}x (on ${cpus().length} cores both nodes share the CPUs).`,
);
if (networkErrors.length > 0)
  lines.push(`Network errors (${networkErrors.length}): ${[...new Set(networkErrors)].join('; ')}.`);
const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
writeFileSync(resultsFile, report);
process.exit(0);
