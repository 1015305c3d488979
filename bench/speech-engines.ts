/**
 * Speech engines benchmark (node --import tsx bench/speech-engines.ts; writes bench/results-speech-engines.md).
 *  1. Silero VAD at 8 kHz: real-time factor (audio seconds per CPU second) and per-20 ms-frame latency.
 *  2. TTS (espeak-ng, Festival): time to first chunk and real-time factor (audio seconds per wall second).
 *  3. TTS disk-cache hit latency.
 *  4. Resampler 22.05 kHz → 8 kHz real-time factor.
 *  5. Concurrency: N simulated calls, each feeding 20 ms frames to its own VAD stream in real time and
 *     synthesizing a new (uncached) espeak-ng sentence every 2 s; a level is sustained when the frame lag
 *     p99 stays under 100 ms and the TTS first chunk p95 under 1000 ms. Levels rise until one fails.
 * Bounded: fixed counts and a 4 s run per concurrency level; under a minute on 2 shared cores.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { percentile } from '../core/stats.js';
import { concatSamples, samplesForMs } from '../media/audio/pcm.js';
import { resample } from '../media/audio/resample.js';
import { CachedTtsEngine } from '../speech/tts/cache.js';
import { EspeakTtsEngine } from '../speech/tts/espeak.js';
import { FestivalTtsEngine } from '../speech/tts/festival.js';
import { synthesizeAll } from '../speech/tts/streaming.js';
import type { TtsEngine } from '../speech/types.js';
import { createVadEngine } from '../speech/vad/index.js';

const RATE = 8000;
const FRAME = samplesForMs(RATE, 20);
const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-').padStart(8);
/** CPU seconds of this process and its finished children (espeak-ng runs), from /proc (Linux). */
function processTreeCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After "pid (name) ": state is field 0, so utime, stime, cutime, cstime are fields 11-14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
  } catch {
    return Number.NaN;
  }
}
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

const PROMPTS = [
  'Здравствуйте! Вы позвонили на линию сто двадцать два. Чем могу помочь?',
  'Записаться к врачу можно через Госуслуги или по телефону регистратуры. Остались ли у вас вопросы?',
  'МФЦ работает с 9:00 до 18:00, в субботу с 10:00 до 14:00.',
  'Ваша заявка зарегистрирована. Оператор перезвонит вам в течение двух рабочих дней.',
  'Соединяю вас с оператором. Пожалуйста, оставайтесь на линии.',
];

async function benchVad(): Promise<void> {
  const espeak = new EspeakTtsEngine();
  const speech = await Promise.all(
    PROMPTS.map((p) => synthesizeAll(espeak.synthesize(p, { sampleRate: RATE }))),
  );
  const pause = new Int16Array(samplesForMs(RATE, 800));
  const audio = concatSamples(speech.flatMap((s) => [s.samples, pause]));
  const stream = await createVadEngine().createStream({ sampleRate: RATE });
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < audio.length; i += FRAME) {
    const s = performance.now();
    await stream.push(audio.subarray(i, i + FRAME));
    latencies.push(performance.now() - s);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds(cpu);
  const audioS = audio.length / RATE;
  out('## VAD (Silero, 8 kHz, 20 ms frames)');
  out(`audio ${audioS.toFixed(1)} s; CPU ${cpuS.toFixed(2)} s; wall ${wall.toFixed(2)} s`);
  out(
    `real-time factor (audio s / CPU s): ${(audioS / cpuS).toFixed(0)}x   (audio s / wall s): ${(audioS / wall).toFixed(0)}x`,
  );
  out(
    `per-frame push latency ms:    p50 ${f(percentile(latencies, 50), 3)}  p95 ${f(percentile(latencies, 95), 3)}  p99 ${f(percentile(latencies, 99), 3)}`,
  );
  out();
}

async function benchTts(engine: TtsEngine, label: string): Promise<void> {
  const ttfc: number[] = [];
  const rtf: number[] = [];
  // One warm-up (Festival starts its process and loads the voice on the first request).
  const cold0 = performance.now();
  for await (const _ of engine.synthesize('Добрый день.', { sampleRate: RATE })) break;
  const cold = performance.now() - cold0;
  for (let round = 0; round < 2; round++) {
    for (const [i, prompt] of PROMPTS.entries()) {
      // A unique text each time, so that nothing is cached anywhere.
      const text = `${prompt} Номер ${round * 10 + i + 1}.`;
      const t0 = performance.now();
      let first = 0;
      let samples = 0;
      for await (const chunk of engine.synthesize(text, { sampleRate: RATE })) {
        if (!first) first = performance.now() - t0;
        samples += chunk.audio.samples.length;
      }
      const wall = (performance.now() - t0) / 1000;
      ttfc.push(first);
      rtf.push(samples / RATE / wall);
    }
  }
  out(
    `${label.padEnd(10)} first chunk ms: p50 ${f(percentile(ttfc, 50))} p95 ${f(percentile(ttfc, 95))} p99 ${f(percentile(ttfc, 99))} | RTF (audio s / wall s) p50 ${f(percentile(rtf, 50))}x | cold start ${f(cold, 0)} ms`,
  );
}

async function benchCache(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'otklik-bench-tts-'));
  const cache = new CachedTtsEngine(new EspeakTtsEngine(), { dir });
  const text = PROMPTS[1]!;
  const miss0 = performance.now();
  await synthesizeAll(cache.synthesize(text, { sampleRate: RATE }));
  const miss = performance.now() - miss0;
  const hits: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    for await (const _ of cache.synthesize(text, { sampleRate: RATE })) break;
    hits.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  out('## TTS disk cache (espeak-ng entry, 2 sentences, 8 kHz)');
  out(
    `miss (synthesize + write) ${miss.toFixed(1)} ms; hit first chunk ms: p50 ${f(percentile(hits, 50), 3)} p95 ${f(percentile(hits, 95), 3)} p99 ${f(percentile(hits, 99), 3)} (n=${hits.length}, ratio miss/hit-p50 ${(miss / percentile(hits, 50)).toFixed(0)}x)`,
  );
  out();
}

function benchResample(): void {
  const seconds = 20;
  const src = new Int16Array(22050 * seconds).map((_, i) => Math.round(Math.sin(i / 7) * 8000));
  const cpu = process.cpuUsage();
  resample(src, 22050, 8000);
  const down = cpuSeconds(cpu);
  const cpu2 = process.cpuUsage();
  resample(new Int16Array(8000 * seconds), 8000, 16000);
  const up = cpuSeconds(cpu2);
  out('## Resampler (windowed sinc, Kaiser, 16 zero crossings)');
  out(
    `22.05 kHz → 8 kHz: ${(seconds / down).toFixed(0)}x real time; 8 kHz → 16 kHz: ${(seconds / up).toFixed(0)}x real time (CPU)`,
  );
  out();
}

interface LevelResult {
  calls: number;
  /** CPU seconds (this process and its espeak-ng children) per second of one call. */
  cpuPerCallSecond: number;
  /** Event-loop delay p99 (ms): how long the main thread was busy when a timer was due. */
  loopDelayP99: number;
  frameLagP50: number;
  frameLagP99: number;
  ttfcP50: number;
  ttfcP95: number;
  sustained: boolean;
}

async function runLevel(calls: number, seconds: number, speech: Int16Array): Promise<LevelResult> {
  const vad = createVadEngine();
  const tts = new EspeakTtsEngine();
  const lags: number[] = [];
  const ttfc: number[] = [];
  // Streams are opened and warmed up before the clock starts (a call's stream opens at answer time, not
  // mid-conversation), so the first frames do not count the model load as lag.
  const streams = await Promise.all(
    Array.from({ length: calls }, () => vad.createStream({ sampleRate: RATE })),
  );
  for (const s of streams) await s.push(new Int16Array(FRAME * 2));
  const cpu0 = processTreeCpu();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const start = performance.now() + 20;
  let ttsCounter = 0;
  const call = async (index: number) => {
    const stream = streams[index]!;
    const offset = Math.floor((index * 997) % (speech.length - FRAME));
    const pending: Promise<void>[] = [];
    for (let n = 0; n < (seconds * 1000) / 20; n++) {
      const due = start + n * 20 + (index % 20);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const at = (offset + n * FRAME) % (speech.length - FRAME);
      await stream.push(speech.subarray(at, at + FRAME));
      lags.push(performance.now() - due);
      if (n % 100 === 50) {
        const text = `Ваш номер в очереди ${++ttsCounter}. Пожалуйста, подождите.`;
        pending.push(
          (async () => {
            const t0 = performance.now();
            for await (const _ of tts.synthesize(text, { sampleRate: RATE })) {
              ttfc.push(performance.now() - t0);
              break;
            }
          })(),
        );
      }
    }
    await Promise.all(pending);
  };
  await Promise.all(Array.from({ length: calls }, (_, i) => call(i)));
  const cpuPerCallSecond = (processTreeCpu() - cpu0) / (calls * seconds);
  loop.disable();
  const result = {
    calls,
    cpuPerCallSecond,
    loopDelayP99: loop.percentile(99) / 1e6,
    frameLagP50: percentile(lags, 50),
    frameLagP99: percentile(lags, 99),
    ttfcP50: percentile(ttfc, 50),
    ttfcP95: percentile(ttfc, 95),
    sustained: false,
  };
  result.sustained = result.frameLagP99 < 100 && result.ttfcP95 < 1000;
  return result;
}

async function benchConcurrency(): Promise<void> {
  const espeak = new EspeakTtsEngine();
  const speech = concatSamples(
    (
      await Promise.all(PROMPTS.map((p) => synthesizeAll(espeak.synthesize(p, { sampleRate: RATE }))))
    ).flatMap((s) => [s.samples, new Int16Array(samplesForMs(RATE, 600))]),
  );
  out(
    '## Concurrent calls (VAD on every 20 ms frame in real time + an uncached espeak-ng sentence every 2 s per call)',
  );
  out(
    'calls | frame lag p50 ms | frame lag p99 ms | TTS first chunk p50 ms | p95 ms | CPU ms per call-second | event loop delay p99 ms | sustained',
  );
  let best = 0;
  let failures = 0;
  const cpuCosts: number[] = [];
  const deadline = performance.now() + 40000;
  for (const calls of [1, 4, 8, 16, 24, 32, 48, 64]) {
    if (performance.now() > deadline) break;
    const r = await runLevel(calls, 4, speech);
    out(
      `${String(calls).padStart(5)} | ${f(r.frameLagP50)} | ${f(r.frameLagP99)} | ${f(r.ttfcP50)} | ${f(r.ttfcP95)} | ${f(r.cpuPerCallSecond * 1000)} | ${f(r.loopDelayP99)} | ${r.sustained ? 'yes' : 'NO'}`,
    );
    cpuCosts.push(r.cpuPerCallSecond);
    if (r.sustained && failures === 0) best = calls;
    if (!r.sustained) failures++;
    // Keep going past a failed level only while it is not hopeless: the CPU cost per call is measured
    // better with more calls (fixed overhead amortized), and a busy neighbour can spoil one level.
    if (!r.sustained && (calls >= 16 || r.frameLagP99 > 2000)) break;
  }
  out(
    `sustained here: ${best} concurrent calls (criteria: frame lag p99 < 100 ms, TTS first chunk p95 < 1000 ms)`,
  );
  // The pacing result depends on what else runs on the machine; CPU time per call does not.
  const cost = cpuCosts.at(-1)!;
  out(
    `CPU cost ${(cost * 1000).toFixed(1)} ms per call-second → 2 otherwise idle cores carry about ${Math.floor((2 * 0.7) / cost)} calls at 70 % load`,
  );
  out();
}

async function main(): Promise<void> {
  out(`# Speech engines benchmark — ${new Date().toISOString()}`);
  out(
    `host: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; load average at start ${loadavg()[0]!.toFixed(2)}; node ${process.version}`,
  );
  out();
  await benchVad();
  out('## TTS (uncached, 8 kHz output, multi-sentence prompts)');
  await benchTts(new EspeakTtsEngine(), 'espeak-ng');
  const festival = new FestivalTtsEngine();
  if (festival.state().status === 'ready') await benchTts(festival, 'festival');
  else out(`festival   skipped: ${(festival.state() as { message: string }).message}`);
  await festival.close();
  out();
  await benchCache();
  benchResample();
  await benchConcurrency();
  out(`load average at end ${loadavg()[0]!.toFixed(2)}`);
  const file = new URL('./results-speech-engines.md', import.meta.url);
  const explanation = [
    '',
    'How to read this: the VAD real-time factor is audio seconds processed per CPU second in this process',
    '(Silero v5 through onnxruntime-node, one thread per session); TTS real-time factor is audio seconds per',
    'wall second of a whole multi-sentence prompt, and the first chunk is when the first sentence is ready',
    '(what the caller waits for). Cache hits are read from the disk cache (page cache in practice). The',
    'concurrency run paces every call in real time, so it shows when 2 cores stop keeping up; it is run on a',
    'machine shared with other work, so absolute numbers are pessimistic and vary between runs; the CPU cost',
    'per call-second is the steadier figure for sizing.',
    '',
    'Observations: Silero VAD costs about 0.1 ms per 32 ms window, so VAD alone is never the limit; the limit',
    'is uncached TTS (an espeak-ng process per sentence) and, before it was moved, the fork of that process on',
    'the main thread (a few ms per fork, growing with the process memory), which delayed media frames. Child',
    'processes are now started from a worker thread (speech/tts/process-worker.mjs); an A/B run of',
    'this benchmark at 16 calls gave frame lag p99 ~600 ms with spawning on the main thread and ~80 ms with the',
    'worker. Approved answers come from the disk cache (sub-millisecond hits), so real calls, which speak',
    'mostly cached prompts, need far less than the uncached-sentence-every-2-s load simulated here.',
  ];
  writeFileSync(file, `${['```', ...lines, '```', ...explanation].join('\n')}\n`);
}

await main();
