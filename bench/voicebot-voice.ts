/**
 * Voice-channel turn latency: from the caller's final transcript reaching the media socket to the bot's
 * first audio frame (playAudio) coming out of it, through the real session: NLU, flow, KB look-ups, the
 * turn records written to the store, TTS (espeak-ng) and the paced play-out. No Russian ASR model can be
 * installed here, so the final transcript is injected over the socket (protocol extension
 * `{"type":"transcript"}`) instead of being recognized; everything after recognition is real.
 *
 * 1. One call, cached vs uncached TTS (the engine `otklik serve` builds, its TTS cache warm, vs bare
 *    espeak-ng): p50/p95/p99 side by side.
 * 2. Barge-in: a key or the caller's speech while the bot answers, until killAudio reaches the client.
 * Concurrent calls are measured in bench/voice-load.ts, at real-time pace on both sides.
 *
 *   node --import tsx bench/voicebot-voice.ts
 * Bounded to about a minute.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { percentile } from '../core/stats.js';
import { rms } from '../media/audio/pcm.js';
import { createAsrEngine } from '../speech/asr/index.js';
import { EspeakTtsEngine } from '../speech/tts/espeak.js';
import { createTtsEngine } from '../speech/tts/index.js';
import { synthesizeAll } from '../speech/tts/streaming.js';
import type { SpeechServices, TtsEngine } from '../speech/types.js';
import { createVadEngine } from '../speech/vad/index.js';
import { openTestDb } from '../test/support/db.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { startMediaSocket } from '../voicebot/channels/media/server.js';
import { openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { DEFAULT_MIN_SPEECH_MS } from '../voicebot/pipeline/audio/vad-processor.js';
import { CallSession } from '../voicebot/session.js';
import { questions } from './support/questions.js';

const PLAYOUT_SPEED = 50;
const SINGLE_TURNS = 20;
/** Budget of each single-call section (warm-up, cached, uncached). */
const SECTION_MS = 6_000;
const AT = new Date('2026-10-15T11:00:00+03:00');

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
}

const f = (x: number) => (Number.isNaN(x) ? '   -  ' : x.toFixed(1).padStart(6));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const t0 = performance.now();
const config = loadConfig({ VOSK_MODEL_PATH: process.env.VOSK_MODEL_PATH ?? '/nonexistent/vosk-model' });
const db = await openTestDb('pglite');
const modelDir = join(tmpdir(), 'otklik-bench-voice-nlu');
mkdirSync(modelDir, { recursive: true });
const engine = await openDialogKnowledge(db.sql, silentLogger, { modelDir });
const asr = createAsrEngine(config.speech, silentLogger);
const speech: SpeechServices = {
  vad: createVadEngine(),
  asr,
  tts: new EspeakTtsEngine(),
  close: async () => asr.close(),
};
/** As in `otklik serve`: espeak-ng behind the TTS cache (memory tier first, disk in a fresh folder). */
const servedTts = createTtsEngine(config.speech, silentLogger, {
  dataDir: mkdtempSync(join(tmpdir(), 'otklik-bench-voice-')),
});
let ttsForNextCall: TtsEngine = servedTts;
const sessions = new Map<string, CallSession>();

function startSession(leg: MediaLeg, speed: number): void {
  const started = performance.now();
  const tts = ttsForNextCall;
  const session = new CallSession(leg, {
    kb: engine.kb,
    nlu: engine.nlu,
    sql: db.sql,
    log: silentLogger,
    speech: { ...speech, tts },
    mode: 'voice',
    now: () => new Date(AT.getTime() + (performance.now() - started) * speed),
  });
  sessions.set(leg.meta.callId, session);
  void session.run().catch(() => undefined);
}
/** The benchmark's own sockets on loopback, with a key of this run. */
const auth = { secret: randomBytes(32).toString('base64url'), loopbackOnly: true };
const socket = await startMediaSocket({
  port: 0,
  auth,
  playout: { speed: PLAYOUT_SPEED },
  onCall: (leg) => startSession(leg, PLAYOUT_SPEED),
});
/** Real-time play-out, for barge-in by speech (the caller must talk while the bot still plays). */
const realTimeSocket = await startMediaSocket({
  port: 0,
  auth,
  onCall: (leg) => startSession(leg, 1),
});
const setupMs = performance.now() - t0;
/** The measurement budget starts after setup (PGlite start and NLU training vary with the machine's load). */
const tBench = performance.now();
let callSeq = 0;

interface Call {
  client: FsClient;
  session: CallSession;
  stop: () => void;
}

async function openCall(opts: { streamAudio: boolean }): Promise<Call> {
  const callId = `bench-${++callSeq}`;
  const client = await FsClient.connect({
    secret: auth.secret,
    url: `ws://127.0.0.1:${socket.port}`,
    speed: PLAYOUT_SPEED,
    metadata: { callId, from: '+79990000000', to: '122' },
  });
  while (!sessions.has(callId)) await sleep(2);
  const session = sessions.get(callId)!;
  let streaming = opts.streamAudio;
  const audio = (async () => {
    // The caller's line as FreeSWITCH forks it: silence (room noise) every 20 ms, in real time.
    while (streaming && !client.closed) await client.sendSilence(200, { speed: 1 });
  })();
  return {
    client,
    session,
    stop: () => {
      streaming = false;
      void audio.then(() => client.hangup());
    },
  };
}

/** Waits until the bot listens, then asks; returns ms to the first bot audio frame, or null if the call ended. */
async function turn(call: Call, question: string): Promise<number | null> {
  await call.session.whenWaiting();
  await call.client.waitUntilQuiet(20);
  if (call.client.closed || call.session.dialog.ended) return null;
  const before = call.client.count('playAudio');
  const sentAt = performance.now();
  call.client.sendTranscript(question);
  while (call.client.count('playAudio') === before) {
    if (call.client.closed || performance.now() - sentAt > 10000) return null;
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - sentAt;
}

async function singleCall(tts: TtsEngine, turns: number, budgetMs: number): Promise<number[]> {
  ttsForNextCall = tts;
  const latencies: number[] = [];
  const until = performance.now() + budgetMs;
  let call = await openCall({ streamAudio: false });
  for (let i = 0; latencies.length < turns && performance.now() < until; i++) {
    const ms = await turn(call, questions[i % questions.length]!);
    if (ms === null) {
      call.stop();
      call = await openCall({ streamAudio: false });
    } else {
      latencies.push(ms);
    }
  }
  call.stop();
  return latencies;
}

// ---- 1. one call: cached vs uncached TTS ----
await singleCall(servedTts, questions.length, SECTION_MS); // warms the cache with prompts and answers
const cached = stats(await singleCall(servedTts, SINGLE_TURNS, SECTION_MS));
const uncached = stats(await singleCall(speech.tts, SINGLE_TURNS, SECTION_MS));

// ---- 2. barge-in: a key / caller speech while the bot answers → killAudio at the client ----
const callerSpeech = (
  await synthesizeAll(speech.tts.synthesize('подождите, у меня другой вопрос', { sampleRate: 8000 }))
).samples;
/** Where the speech really begins in the synthesized audio: the first 10 ms block above -40 dBFS. */
const callerSpeechOnsetMs = (() => {
  for (let i = 0; i + 80 <= callerSpeech.length; i += 80) {
    if (rms(callerSpeech.subarray(i, i + 80)) > 327) return i / 8;
  }
  return 0;
})();

/** A key pressed while the bot answers a question (play-out 50×). */
async function keyBargeIns(count: number, budgetMs: number): Promise<number[]> {
  ttsForNextCall = servedTts;
  const latencies: number[] = [];
  const until = performance.now() + budgetMs;
  let call = await openCall({ streamAudio: false });
  for (let i = 0; latencies.length < count && performance.now() < until; i++) {
    if ((await turn(call, questions[i % questions.length]!)) === null) {
      call.stop();
      call = await openCall({ streamAudio: false });
      continue;
    }
    const kills = call.client.count('killAudio');
    const sentAt = performance.now();
    call.client.sendDtmf('5');
    while (call.client.count('killAudio') === kills && performance.now() - sentAt < 3000) await sleep(1);
    if (call.client.count('killAudio') > kills) latencies.push(performance.now() - sentAt);
  }
  call.stop();
  return latencies;
}

/** The caller speaks over the greeting, in real time: from the first speech frame sent to killAudio. */
async function speechBargeIns(count: number, budgetMs: number): Promise<number[]> {
  ttsForNextCall = servedTts;
  const latencies: number[] = [];
  const until = performance.now() + budgetMs;
  while (latencies.length < count && performance.now() < until) {
    const callId = `bench-${++callSeq}`;
    const client = await FsClient.connect({
      secret: auth.secret,
      url: `ws://127.0.0.1:${realTimeSocket.port}`,
      metadata: { callId, from: '+79990000000', to: '122' },
    });
    await client.waitFor((e) => e.type === 'playAudio', 5000);
    await client.sendSilence(300);
    const sentAt = performance.now();
    const speaking = client.sendAudio(callerSpeech);
    await client.waitFor((e) => e.type === 'killAudio', 3000);
    const kill = client.events.find((e) => e.type === 'killAudio');
    if (kill) latencies.push(performance.now() - sentAt - callerSpeechOnsetMs);
    await client.hangup();
    await speaking;
  }
  return latencies;
}
const dtmfBargeIn = stats(await keyBargeIns(10, SECTION_MS / 2));
const speechBargeIn = stats(await speechBargeIns(8, SECTION_MS));

// ---- report ----
const lines: string[] = [];
lines.push(
  `host: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; load average at end ${loadavg()[0]!.toFixed(2)}; node ${process.version}`,
);
lines.push(`setup (PGlite, seed, NLU model, engines): ${(setupMs / 1000).toFixed(1)} s`);
lines.push('');
lines.push(
  'turn latency, final transcript (injected, no ASR model) → first bot audio frame out of the socket, ms',
);
lines.push('one call     turns    p50     p95     p99');
lines.push(
  `TTS cached   ${String(cached.n).padStart(5)}  ${f(cached.p50)}  ${f(cached.p95)}  ${f(cached.p99)}`,
);
lines.push(
  `TTS uncached ${String(uncached.n).padStart(5)}  ${f(uncached.p50)}  ${f(uncached.p95)}  ${f(uncached.p99)}`,
);
lines.push(
  `ratio uncached/cached: p50 ${(uncached.p50 / cached.p50).toFixed(2)}x, p95 ${(uncached.p95 / cached.p95).toFixed(2)}x, p99 ${(uncached.p99 / cached.p99).toFixed(2)}x`,
);
lines.push('');
lines.push('barge-in while the bot answers → killAudio received by the client, ms');
lines.push('trigger                                                   n    p50     p95     p99');
lines.push(
  `key pressed                                           ${String(dtmfBargeIn.n).padStart(5)}  ${f(dtmfBargeIn.p50)}  ${f(dtmfBargeIn.p95)}  ${f(dtmfBargeIn.p99)}`,
);
lines.push(
  `speech onset (incl. the VAD's ${DEFAULT_MIN_SPEECH_MS} ms minimum speech)  ${String(speechBargeIn.n).padStart(5)}  ${f(speechBargeIn.p50)}  ${f(speechBargeIn.p95)}  ${f(speechBargeIn.p99)}`,
);
lines.push('');
lines.push(
  'concurrent calls: bench/voice-load.ts (real-time callers, real-time play-out, one and two nodes)',
);
lines.push(`measured for ${((performance.now() - tBench) / 1000).toFixed(1)} s`);
console.log(lines.join('\n'));

await sleep(300);
await socket.close();
await realTimeSocket.close();
await speech.close();
await servedTts.close();
await engine.close();
await db.drop();
process.exit(0);
