/**
 * Telephony benchmark: operator-queue (ACD) latency. With N calls waiting and M operators, an operator
 * becomes free and `assignNext()` hands them the oldest call with their skill; we time that round (and
 * `enqueueCall`) in steady state, on PGlite and on the PostgreSQL server.
 * Bounded: a fixed number of rounds per scenario (well under a minute on a shared 2-core machine).
 * Run: node --import tsx bench/telephony.ts   (writes bench/results-telephony.md)
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { percentile } from '../core/stats.js';
import { enqueueCall, OperatorQueue } from '../telephony/queue.js';
import { type Backend, openTestDb } from '../test/support/db.js';

const ROUNDS = 60;
const TOPICS = ['health', 'military', 'refugees', 'services', 'social', 'education'];
const scenarios = [
  { calls: 10, operators: 5 },
  { calls: 100, operators: 20 },
  { calls: 500, operators: 50 },
];

interface Row {
  backend: Backend;
  calls: number;
  operators: number;
  enqueue: number[];
  assign: number[];
}

async function run(backend: Backend, calls: number, operators: number): Promise<Row> {
  const db = await openTestDb(backend);
  let t = Date.parse('2026-03-02T09:00:00Z');
  // No wrap-up: the operator who finishes is free at once, so each round measures one offer.
  const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now: () => new Date(t) });
  const row: Row = { backend, calls, operators, enqueue: [], assign: [] };
  try {
    for (let o = 0; o < operators; o++) {
      const skills = [TOPICS[o % TOPICS.length]!, TOPICS[(o + 1) % TOPICS.length]!];
      await queue.upsertOperator({ id: `op${o}`, name: `Оператор ${o}`, sipUri: `sip:op${o}@ops`, skills });
    }
    let seq = 0;
    const enqueue = async () => {
      const started = performance.now();
      await enqueueCall(
        db.sql,
        { callId: `c${seq}`, topicId: TOPICS[seq % TOPICS.length]!, context: { n: seq } },
        new Date(t),
      );
      row.enqueue.push(performance.now() - started);
      seq++;
      t += 100;
    };
    for (let i = 0; i < calls; i++) await enqueue();
    // Steady state: one operator frees up, takes the next call; a new call arrives; the queue stays at N.
    for (let r = 0; r < ROUNDS; r++) {
      const op = `op${r % operators}`;
      const state = (await queue.operator(op))!.state;
      if (state === 'on_call') await queue.releaseOperator(op);
      else await queue.setOperatorState(op, 'available');
      const started = performance.now();
      const assigned = await queue.assignNext();
      row.assign.push(performance.now() - started);
      for (const a of assigned) await queue.answered(a.callId);
      await enqueue();
    }
  } finally {
    await db.drop();
  }
  return row;
}

const fmt = (v: number) => v.toFixed(2);
const rows: Row[] = [];
const startedAt = Date.now();
for (const s of scenarios) {
  for (const backend of ['pglite', 'postgres'] as Backend[])
    rows.push(await run(backend, s.calls, s.operators));
}
const lines = [
  '| queued calls | operators | backend | assign p50 ms | p95 | p99 | enqueue p50 ms | p99 | assign p50 vs PGlite |',
  '| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of rows) {
  const a = r.assign;
  const e = r.enqueue;
  const base = rows.find((b) => b.backend === 'pglite' && b.calls === r.calls)!;
  const baseP50 = percentile(base.assign, 50);
  lines.push(
    `| ${r.calls} | ${r.operators} | ${r.backend} | ${fmt(percentile(a, 50))} | ${fmt(percentile(a, 95))} | ${fmt(percentile(a, 99))} | ${fmt(percentile(e, 50))} | ${fmt(percentile(e, 99))} | ${(percentile(a, 50) / baseP50).toFixed(2)}× |`,
  );
}
const table = lines.join('\n');
const elapsed = ((Date.now() - startedAt) / 1000).toFixed(1);
process.stdout.write(`${table}\n\n${ROUNDS} assignment rounds per row; ${elapsed} s in all\n`);
const md = `# Telephony benchmark: operator queue (ACD)

\`node --import tsx bench/telephony.ts\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs
(${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]!.toFixed(1)} at the end (shared machine).

Each row keeps N calls waiting and M operators (two topic skills each). A round frees one operator and times
\`assignNext()\`, which hands them the oldest call matching a skill (longest-idle operator first), then a new
call is enqueued so the queue stays at N. ${ROUNDS} rounds per row; the whole run took ${elapsed} s.

${table}

Reading it: assignment reads the waiting calls and available operators and makes two conditional updates in a
transaction, so its cost grows with the number of waiting calls it scans. Ratios compare with PGlite at the same
queue size. Timings on this shared 2-core machine vary with the other engineers' load.
`;
writeFileSync(new URL('./results-telephony.md', import.meta.url), md);
