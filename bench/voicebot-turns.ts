/**
 * Text-path turn latency of the dialog engine: from the caller's final transcript entering the pipeline to
 * the bot's first message of the reply (NLU classification, flow steps, KB look-ups of intent, handling
 * and the approved answer, and the turn records written to the store). The audio path (TTS, playback) is
 * measured by the media channel's bench.
 *   node --import tsx bench/voicebot-turns.ts [--turns 200] [--concurrent 10]
 * Runs on PostgreSQL (TEST_DATABASE_URL) and in-memory PGlite; bounded to about a minute.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../core/log.js';
import { percentile } from '../core/stats.js';
import { type Backend, openTestDb } from '../test/support/db.js';
import { TextLeg } from '../voicebot/channels/text/text-leg.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { CallSession } from '../voicebot/session.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TURNS = arg('turns', 200);
const CONCURRENT = arg('concurrent', 10);
const DEADLINE_MS = 50_000;
const started = performance.now();

const questions = [
  'как записаться к терапевту',
  'где можно поставить прививку от гриппа',
  'какие выплаты положены беженцам',
  'как записать ребёнка в детский сад',
  'мне пришла повестка что делать',
  'как пройти диспансеризацию',
  'как записаться в мфц',
  'как вызвать врача на дом',
];

/** One chat that asks `turns` questions; returns each turn's latency in ms. */
async function chat(engine: DialogKnowledge, turns: number): Promise<number[]> {
  const leg = new TextLeg({
    callId: '',
    from: '+79990000000',
    to: '122',
    startedAt: new Date(),
    channel: 'text',
  });
  const session = new CallSession(leg, {
    kb: engine.kb,
    nlu: engine.nlu,
    sql: engine.sql,
    log: silentLogger,
    mode: 'text',
    now: () => new Date('2026-11-24T11:00:00+03:00'),
  });
  const done = session.run();
  const latencies: number[] = [];
  for (let i = 0; i < turns && performance.now() - started < DEADLINE_MS; i++) {
    await session.whenWaiting();
    if (session.dialog.ended)
      throw new Error(`the chat ended after ${i} turns: ${JSON.stringify(leg.messages.at(-1))}`);
    const t0 = performance.now();
    const first = new Promise<number>((resolve) => {
      const off = leg.onBotMessage(() => {
        off();
        resolve(performance.now());
      });
    });
    leg.callerSays(questions[i % questions.length]!);
    latencies.push((await first) - t0);
  }
  await session.whenWaiting();
  leg.callerHangsUp();
  await done;
  return latencies;
}

function row(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1).padStart(7);
  return `${label.padEnd(34)} n=${String(s.length).padStart(4)}  p50=${f(percentile(s, 50))}  p95=${f(percentile(s, 95))}  p99=${f(percentile(s, 99))} ms`;
}

async function benchBackend(backend: Backend): Promise<string[]> {
  const db = await openTestDb(backend);
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-bench-nlu-'));
  const engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
  try {
    const classifier = engine.nlu();
    const nluMs: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      classifier.classify(questions[i % questions.length]!);
      nluMs.push(performance.now() - t0);
    }
    const answerMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await engine.kb.approvedAnswer('health.appointment');
      answerMs.push(performance.now() - t0);
    }
    await chat(engine, 3); // warm-up
    const single = await chat(engine, TURNS);
    const perChat = Math.max(5, Math.floor(TURNS / CONCURRENT));
    const parallel = (
      await Promise.all(Array.from({ length: CONCURRENT }, () => chat(engine, perChat)))
    ).flat();
    return [
      row(`${backend}: NLU classify`, nluMs),
      row(`${backend}: approved answer look-up`, answerMs),
      row(`${backend}: turn, 1 chat`, single),
      row(`${backend}: turn, ${CONCURRENT} chats at once`, parallel),
    ];
  } finally {
    await engine.close();
    await db.drop();
    rmSync(modelDir, { recursive: true, force: true });
  }
}

const lines: string[] = [];
for (const backend of ['postgres', 'pglite'] as const) {
  if (performance.now() - started > DEADLINE_MS / 2) {
    lines.push(`${backend}: skipped (time budget spent)`);
    continue;
  }
  lines.push(...(await benchBackend(backend)));
}
console.log(
  `voice-bot text-path turn latency (final transcript → first bot message), ${new Date().toISOString()}`,
);
for (const l of lines) console.log(l);
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
