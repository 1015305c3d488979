/**
 * Telephony benchmark: operator-queue (ACD) decision latency. With N calls waiting and M operators all on
 * calls (a peak hour), one operator finishes and the dispatcher round `assignNext()` hands them the next
 * call; we time that round (and `enqueueCall`) in steady state, on PGlite and on the PostgreSQL server, under
 * several of the queue's strategies (telephony/acd/strategies.ts).
 * Bounded: a fixed number of rounds per scenario (about a minute on a shared 2-core machine).
 * Run: node --import tsx bench/telephony.ts   (writes bench/results-telephony.md)
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { percentile } from '../core/stats.js';
import { enqueueCall, OperatorQueue, type Strategy } from '../telephony/queue.js';
import { type Backend, openTestDb } from '../test/support/db.js';

const ROUNDS = 60;
const TOPICS = ['health', 'military', 'refugees', 'services', 'social', 'education'];
const scenarios: Array<{ calls: number; operators: number; strategy: Strategy }> = [
  { calls: 10, operators: 5, strategy: 'longest-idle-agent' },
  { calls: 100, operators: 20, strategy: 'longest-idle-agent' },
  { calls: 500, operators: 50, strategy: 'longest-idle-agent' },
  { calls: 1000, operators: 500, strategy: 'longest-idle-agent' },
  { calls: 1000, operators: 500, strategy: 'round-robin' },
  { calls: 1000, operators: 500, strategy: 'agent-with-fewest-calls' },
];

interface Row {
  backend: Backend;
  calls: number;
  operators: number;
  strategy: Strategy;
  enqueue: number[];
  assign: number[];
}

async function run(backend: Backend, s: (typeof scenarios)[number]): Promise<Row> {
  const db = await openTestDb(backend);
  let t = Date.parse('2026-03-02T09:00:00Z');
  // No wrap-up: the operator who finishes is free at once, so each round measures one decision.
  const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, wrapUpMs: 0, now: () => new Date(t) });
  const row: Row = { ...s, backend, enqueue: [], assign: [] };
  try {
    for (const topic of [...TOPICS, 'default']) await queue.upsertQueue({ id: topic, strategy: s.strategy });
    for (let o = 0; o < s.operators; o++) {
      const skills = [TOPICS[o % TOPICS.length]!, TOPICS[(o + 1) % TOPICS.length]!];
      await queue.upsertOperator({ id: `op${o}`, name: `Оператор ${o}`, sipUri: `sip:op${o}@ops`, skills });
    }
    let seq = 0;
    const enqueue = async (timed: boolean) => {
      const started = performance.now();
      await enqueueCall(
        db.sql,
        { callId: `c${seq}`, topicId: TOPICS[seq % TOPICS.length]!, context: { n: seq } },
        new Date(t),
      );
      if (timed) row.enqueue.push(performance.now() - started);
      seq++;
      t += 10;
    };
    // The peak: every operator takes a call, and N more wait behind them.
    for (let i = 0; i < s.operators + s.calls; i++) await enqueue(false);
    for (let o = 0; o < s.operators; o++) await queue.setOperatorState(`op${o}`, 'available');
    for (;;) {
      const assigned = await queue.assignNext();
      if (assigned.length === 0) break;
      for (const a of assigned) await queue.accept(a.callId, a.operator.id);
    }
    // Steady state: one operator finishes and takes the next call; a new call arrives; the queue stays at N.
    for (let r = 0; r < ROUNDS; r++) {
      t += 1000;
      await queue.releaseOperator(`op${(r * 7) % s.operators}`);
      const started = performance.now();
      const assigned = await queue.assignNext();
      row.assign.push(performance.now() - started);
      for (const a of assigned) await queue.accept(a.callId, a.operator.id);
      await enqueue(true);
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
  for (const backend of ['pglite', 'postgres'] as Backend[]) rows.push(await run(backend, s));
}
const lines = [
  '| queued calls | operators (all busy) | strategy | backend | decision p50 ms | p95 | p99 | enqueue p50 ms | p99 | p50 vs PGlite |',
  '| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of rows) {
  const a = r.assign;
  const e = r.enqueue;
  const base = rows.find((b) => b.backend === 'pglite' && b.calls === r.calls && b.strategy === r.strategy)!;
  const baseP50 = percentile(base.assign, 50);
  lines.push(
    `| ${r.calls} | ${r.operators} | ${r.strategy} | ${r.backend} | ${fmt(percentile(a, 50))} | ${fmt(percentile(a, 95))} | ${fmt(percentile(a, 99))} | ${fmt(percentile(e, 50))} | ${fmt(percentile(e, 99))} | ${(percentile(a, 50) / baseP50).toFixed(2)}× |`,
  );
}
const table = lines.join('\n');
const elapsed = ((Date.now() - startedAt) / 1000).toFixed(1);
process.stdout.write(`${table}\n\n${ROUNDS} decision rounds per row; ${elapsed} s in all\n`);
const md = `# Telephony benchmark: operator queue (ACD) decisions

\`node --import tsx bench/telephony.ts\` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs
(${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]!.toFixed(1)} at the end (shared machine).

Each row is a peak hour: M operators (two topic skills each) are all on calls and N more calls wait. A round
lets one operator finish and times the dispatcher round \`assignNext()\` that ends lapsed offers and wrap-ups
and offers them the next call under the queue's strategy (the call waiting longest with their skill), then a
new call is enqueued so the queue stays at N. ${ROUNDS} rounds per row; the whole run took ${elapsed} s.

${table}

Reading it: a round reads the waiting calls in priority order and the available operators, and makes one
locking statement per offer, so its cost grows with the number of waiting calls it walks before one fits the
free operator's skills. Ratios compare with PGlite at the same queue size and strategy. Timings on this shared
2-core machine vary with the other engineers' load.
`;
writeFileSync(new URL('./results-telephony.md', import.meta.url), md);
