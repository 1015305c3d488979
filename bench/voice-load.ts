/**
 * Real-time voice load: how many simultaneous callers one bot node (and two) holds with the caller's turn
 * answered within 250 ms at p95.
 *
 * N simulated callers connect to the media socket as FreeSWITCH's mod_audio_fork does. Each sends 20 ms L16
 * frames at real-time pace, all the time: synthesized Russian speech (espeak-ng, 8 kHz) when it asks, silence
 * between turns; every frame goes through the node's Silero VAD. The bot's audio is played out at real time
 * on the caller's side, and the caller asks its next question only after the bot has finished speaking and
 * been quiet for a moment, as a person would. No Russian ASR model can be installed here, so when the
 * caller's last speech frame is sent the final transcript is injected over the socket
 * (`{"type":"transcript"}`), as an ASR would deliver it; everything after recognition is real: NLU, the flow,
 * the KB, the turn records in PostgreSQL, TTS (espeak-ng behind the cache `otklik serve` builds).
 *
 * Turn latency: the caller's last speech frame sent → the first bot audio frame received. A node is also
 * over its capacity when the bot's audio arrives late: a chunk that came after the one before it had played
 * out (a gap the caller hears inside the bot's speech; a pause of more than 1.5 s is a new turn, not a gap).
 * The bot nodes are child processes (bench/support/voice-node.ts), so their CPU time and memory are their
 * own; the load generator runs in this process and reports its own frame timing, so a late generator is
 * told apart from a late bot.
 *
 *   node --import tsx bench/voice-load.ts        (writes bench/results-voice-load.md; about 4 minutes)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { percentile } from '../core/stats.js';
import { EspeakTtsEngine } from '../speech/tts/espeak.js';
import { synthesizeAll } from '../speech/tts/streaming.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import { encodeL16 } from '../voicebot/channels/media/protocol.js';
import { questions } from './support/questions.js';

const P95_LIMIT_MS = 250;
/** A level fails when more than this share of the bot's audio chunks came late. */
const LATE_LIMIT = 0.01;
/** VOICE_LOAD_LEVELS=1,5 VOICE_LOAD_LEVEL_MS=8000 for a quick look (the results file says what ran). */
const LEVELS = (process.env.VOICE_LOAD_LEVELS ?? '1,5,10,20,30,40,50,60,80,100,120').split(',').map(Number);
const LEVEL_MS = Number(process.env.VOICE_LOAD_LEVEL_MS ?? 30_000);
/** Each configuration's ramp stops here even if it holds (the whole run stays near four minutes). */
const RAMP_BUDGET_MS = 110_000;
/** A quiet moment after the bot stops before the caller speaks. */
const THINK_MS = 400;
const GAP_MS = 40;
/** A pause longer than this between two chunks of the bot's audio is a turn boundary, not a late chunk. */
const TURN_PAUSE_MS = 1_500;
/** How long the caller listens after the first audio before the turn is counted (the rest is heard anyway). */
const JUDGED_MS = 4_000;
const FRAME_MS = 20;
const AT = '2026-10-15T11:00:00+03:00';
const resultsFile = fileURLToPath(new URL('./results-voice-load.md', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (x: number) => (Number.isNaN(x) ? '    -' : x.toFixed(0).padStart(5));

const t0 = performance.now();
const tts = new EspeakTtsEngine();
const spoken = await Promise.all(
  questions.map(async (q) => (await synthesizeAll(tts.synthesize(q, { sampleRate: 8000 }))).samples),
);
const SILENCE = encodeL16(new Int16Array(160));

let db: TestDb | null = null;
let storeNote = 'PostgreSQL (one schema shared by the nodes)';
try {
  db = await openTestDb('postgres');
} catch (err) {
  storeNote = `embedded PGlite per node: PostgreSQL unreachable (${(err as Error).message}); two nodes do not share it`;
}
const secret = randomBytes(32).toString('base64url');
const modelDir = join(tmpdir(), 'otklik-bench-voice-load-nlu');
const ttsDir = mkdtempSync(join(tmpdir(), 'otklik-bench-voice-load-tts-'));
mkdirSync(modelDir, { recursive: true });

interface BotNode {
  child: ChildProcess;
  port: number;
  stats(): Promise<{ cpuMs: number; rssBytes: number; sessions: number }>;
}

async function startNode(): Promise<BotNode> {
  const child = fork(fileURLToPath(new URL('./support/voice-node.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      BENCH_SECRET: secret,
      BENCH_MODEL_DIR: modelDir,
      BENCH_AT: AT,
      BENCH_TTS_DIR: ttsDir,
      ...(db?.schema
        ? {
            BENCH_DB_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
            BENCH_DB_SCHEMA: db.schema,
          }
        : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bot node exited with ${code} before it was ready`)));
    child.on('message', (m: { type?: string; port?: number }) => {
      if (m.type === 'ready') resolve(Number(m.port));
    });
  });
  return {
    child,
    port,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (m: { type?: string; cpuMs: number; rssBytes: number; sessions: number }) => {
          if (m.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
  };
}

/** One caller: a line that always carries 20 ms frames, speech while asking, silence otherwise. */
interface Caller {
  client: FsClient;
  speech: Int16Array | null;
  offset: number;
  /** Resolves when the current question's last frame has been sent. */
  spoke: (() => void) | null;
  /** The greeting and menu have been heard (the bot waits for the first question). */
  greeted: boolean;
}

const callers = new Set<Caller>();
const tickLateness: number[] = [];
let pumping = true;

/** Sends every caller's next frame each 20 ms, on one clock for all of them (as FreeSWITCH's media thread). */
async function pump(): Promise<void> {
  const start = performance.now();
  for (let tick = 1; pumping; tick++) {
    const due = start + tick * FRAME_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    tickLateness.push(Math.max(0, performance.now() - due));
    for (const c of callers) {
      if (c.client.closed) continue;
      if (c.speech) {
        c.client.sendRaw(encodeL16(c.speech.subarray(c.offset, c.offset + 160)));
        c.offset += 160;
        if (c.offset >= c.speech.length) {
          c.speech = null;
          c.spoke?.();
        }
      } else {
        c.client.sendRaw(SILENCE);
      }
    }
  }
}

interface TurnResult {
  latencyMs: number;
}

/** The caller asks once the bot has been quiet; the latency and whether the answer's audio had a gap. */
async function ask(caller: Caller, question: number): Promise<TurnResult | null> {
  const { client } = caller;
  await client.waitUntilQuiet(THINK_MS, 60_000);
  if (client.closed) return null;
  caller.greeted = true;
  await new Promise<void>((resolve) => {
    caller.spoke = resolve;
    caller.offset = 0;
    caller.speech = spoken[question % spoken.length]!;
  });
  caller.spoke = null;
  const endOfSpeech = performance.now();
  const firstIndex = client.events.length;
  client.sendTranscript(questions[question % questions.length]!);
  const first = await client.waitFor(
    (e) => e.type === 'playAudio' && client.events.indexOf(e) >= firstIndex,
    10_000,
  );
  if (!first || client.closed) return null;
  const latencyMs = performance.now() - endOfSpeech;
  // The answer's first seconds are judged for gaps; the caller hears the rest before asking again.
  await Promise.race([client.waitUntilQuiet(THINK_MS, 60_000), sleep(JUDGED_MS)]);
  if (process.env.VOICE_LOAD_DEBUG)
    process.stderr.write(
      `turn: ${latencyMs.toFixed(0)} ms to audio, ${((performance.now() - endOfSpeech) / 1000).toFixed(1)} s judged, closed ${client.closed}\n`,
    );
  return { latencyMs };
}

/**
 * Replays the bot's audio of one caller on its arrival times within [fromMs, toMs) (the client's clock):
 * chunks received, and chunks that came more than GAP_MS after the audio before them had played out.
 */
function lateChunks(client: FsClient, fromMs: number, toMs: number): { chunks: number; late: number } {
  let playedUntil = Number.NEGATIVE_INFINITY;
  let chunks = 0;
  let late = 0;
  for (const e of client.events) {
    if (e.type === 'killAudio') playedUntil = Number.NEGATIVE_INFINITY;
    if (e.type !== 'playAudio') continue;
    const gap = e.atMs - playedUntil;
    if (e.atMs >= fromMs && e.atMs < toMs) {
      chunks++;
      if (gap > GAP_MS && gap < TURN_PAUSE_MS) late++;
    }
    playedUntil = Math.max(playedUntil, e.atMs) + (e.samples.length * 1000) / e.sampleRate;
  }
  return { chunks, late };
}

let callSeq = 0;
/** The nodes' resident memory before each ramp's first caller, MiB. */
const baseRssMb: number[] = [];
async function connect(node: BotNode): Promise<Caller> {
  const client = await FsClient.connect({
    secret,
    url: `ws://127.0.0.1:${node.port}`,
    metadata: {
      callId: `load-${++callSeq}-${randomBytes(3).toString('hex')}`,
      from: '+79990000000',
      to: '122',
    },
  });
  const caller: Caller = { client, speech: null, offset: 0, spoke: null, greeted: false };
  callers.add(caller);
  return caller;
}

interface Level {
  calls: number;
  turns: number;
  p50: number;
  p95: number;
  p99: number;
  audioChunks: number;
  lateShare: number;
  cpuMsPerCallSecond: number;
  rssMb: number;
  nodeCpuPct: number;
}

/** Ramps the number of callers over `nodes` (callers alternate between them) until a level fails. */
async function ramp(nodes: BotNode[]): Promise<{ levels: Level[]; held: number }> {
  const baseRss = (await Promise.all(nodes.map((n) => n.stats()))).reduce((s, x) => s + x.rssBytes, 0);
  baseRssMb.push(baseRss / 1024 / 1024);
  const active: Caller[] = [];
  const loops: Promise<void>[] = [];
  const levels: Level[] = [];
  let held = 0;
  let measuring: { until: number; results: TurnResult[] } | null = null;
  const started = performance.now();
  let stop = false;

  const callLoop = async (slot: number): Promise<void> => {
    let caller = active[slot]!;
    for (let q = slot; !stop; q++) {
      const r = await ask(caller, q);
      if (r === null) {
        // The bot ended the call (its flow said goodbye): the next caller on this line dials in.
        callers.delete(caller);
        caller = await connect(nodes[slot % nodes.length]!);
        active[slot] = caller;
        continue;
      }
      if (measuring && performance.now() < measuring.until) measuring.results.push(r);
    }
  };

  for (const level of LEVELS) {
    if (performance.now() - started > RAMP_BUDGET_MS) break;
    while (active.length < level) {
      const slot = active.length;
      active.push(await connect(nodes[slot % nodes.length]!));
      loops.push(callLoop(slot));
      // Callers do not all dial in the same instant (their greetings would then play in lockstep).
      await sleep(Math.min(200, LEVEL_MS / 4 / level));
    }
    // The new callers hear the greeting and menu before the level is measured.
    const greetedBy = performance.now() + 30_000;
    while (active.some((c) => !c.greeted) && performance.now() < greetedBy) await sleep(100);
    const before = await Promise.all(nodes.map((n) => n.stats()));
    const wallStart = performance.now();
    const windowStart = new Map(active.map((c) => [c, c.client.now()]));
    measuring = { until: wallStart + LEVEL_MS, results: [] };
    await sleep(LEVEL_MS);
    const wallMs = performance.now() - wallStart;
    const after = await Promise.all(nodes.map((n) => n.stats()));
    const results = measuring.results;
    let audioChunks = 0;
    let lateCount = 0;
    for (const [c, from] of windowStart) {
      const r = lateChunks(c.client, from, from + wallMs);
      audioChunks += r.chunks;
      lateCount += r.late;
    }
    measuring = null;
    const lat = results.map((r) => r.latencyMs).sort((a, b) => a - b);
    const cpuMs = after.reduce((s, x, i) => s + x.cpuMs - before[i]!.cpuMs, 0);
    const rss = after.reduce((s, x) => s + x.rssBytes, 0);
    const row: Level = {
      calls: level,
      turns: results.length,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      audioChunks,
      lateShare: audioChunks ? lateCount / audioChunks : 0,
      cpuMsPerCallSecond: cpuMs / (level * (wallMs / 1000)),
      rssMb: rss / 1024 / 1024,
      nodeCpuPct: (cpuMs / wallMs / nodes.length) * 100,
    };
    levels.push(row);
    const ok = row.turns > 0 && row.p95 <= P95_LIMIT_MS && row.lateShare <= LATE_LIMIT;
    if (ok) held = level;
    else break;
  }
  stop = true;
  for (const c of active) {
    callers.delete(c);
    void c.client.hangup();
  }
  await Promise.race([Promise.all(loops), sleep(5_000)]);
  return { levels, held };
}

async function stopNodes(nodes: BotNode[]): Promise<void> {
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          n.child.once('exit', () => resolve());
          n.child.send({ type: 'stop' });
          setTimeout(() => {
            n.child.kill('SIGKILL');
            resolve();
          }, 5_000);
        }),
    ),
  );
}

/**
 * Each answer is synthesized once before the ramps, as on a line that has been taking calls: one caller per
 * question, at once, on the first node (the nodes share the TTS cache's disk tier).
 */
async function warmUp(node: BotNode): Promise<void> {
  const warmers = await Promise.all(questions.map(() => connect(node)));
  await Promise.all(warmers.map((c, i) => ask(c, i)));
  for (const c of warmers) {
    callers.delete(c);
    await c.client.hangup();
  }
}

void pump();
const one = [await startNode()];
await warmUp(one[0]!);
const setupMs = performance.now() - t0;
const single = await ramp(one);
await stopNodes(one);
const two = [await startNode(), await startNode()];
const double = db ? await ramp(two) : null;
await stopNodes(two);
pumping = false;

const lateTicks = tickLateness.filter((ms) => ms > FRAME_MS).length;
const sortedTicks = [...tickLateness].sort((a, b) => a - b);
const lines: string[] = [];
lines.push('# Real-time voice load (bench/voice-load.ts)');
lines.push('');
lines.push(
  `${new Date().toISOString()}; host ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average at the end ${loadavg()[0]!.toFixed(2)}; node ${process.version}; store: ${storeNote}; setup and TTS warm-up ${(setupMs / 1000).toFixed(1)} s.`,
);
lines.push('');
lines.push(
  "What it is: real-time callers (20 ms L16 frames of espeak-ng Russian speech and silence, every frame through Silero VAD; the bot heard at real time). What it is not: no ASR runs — no Russian model can be installed here — the final transcript is injected at the end of the caller's speech, so an ASR's own endpointing and decoding time come on top of these figures. The load generator shares the machine with the nodes.",
);
lines.push('');
lines.push(
  `Turn latency = caller's last speech frame sent → first bot audio frame received, ms. A level holds while p95 ≤ ${P95_LIMIT_MS} ms and at most ${LATE_LIMIT * 100}% of the bot's audio chunks (100 ms each) came over ${GAP_MS} ms after the audio before them had played out; ${LEVEL_MS / 1000} s measured per level.`,
);
for (const [name, r] of [
  ['one bot node', single],
  ['two bot nodes (callers alternate; one PostgreSQL)', double],
] as const) {
  lines.push('');
  lines.push(`## ${name}`);
  lines.push('');
  if (!r) {
    lines.push('not run: the two nodes need the PostgreSQL server to share a store.');
    continue;
  }
  lines.push(
    "| callers | turns | p50 | p95 | p99 | bot audio chunks | late | CPU ms per call-second | nodes' memory, MiB | CPU per node |",
  );
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of r.levels) {
    lines.push(
      `| ${l.calls} | ${l.turns} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.p99)} | ${l.audioChunks} | ${(l.lateShare * 100).toFixed(1)}% | ${l.cpuMsPerCallSecond.toFixed(1)} | ${l.rssMb.toFixed(0)} | ${l.nodeCpuPct.toFixed(0)}% |`,
    );
  }
  lines.push('');
  const top = r.levels.find((l) => l.calls === r.held);
  const base = baseRssMb[name === 'one bot node' ? 0 : 1] ?? 0;
  lines.push(
    `held: **${r.held}** simultaneous callers${top ? `; memory per call at that level ${((top.rssMb - base) / r.held).toFixed(1)} MiB over the idle nodes' ${base.toFixed(0)} MiB` : ''}`,
  );
}
lines.push('');
lines.push(
  `Ratio two nodes / one node, callers held: ${double && single.held > 0 ? `${(double.held / single.held).toFixed(2)}x` : '-'} (on ${cpus().length} cores the two nodes share the same CPUs as one).`,
);
lines.push(
  `Load generator: ${tickLateness.length} frame ticks, lateness p50 ${percentile(sortedTicks, 50).toFixed(1)} ms, p99 ${percentile(sortedTicks, 99).toFixed(1)} ms, ${lateTicks} ticks more than one frame late.`,
);
const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
writeFileSync(resultsFile, report);
await db?.drop();
process.exit(0);
