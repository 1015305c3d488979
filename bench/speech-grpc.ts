/**
 * Cost of running speech behind gRPC instead of in-process (node --import tsx bench/speech-grpc.ts).
 *  1. VAD per 20 ms frame: the same frames through the in-process VAD stream and through the gRPC client
 *     on loopback; the difference is what the network hop adds to every frame of a call.
 *  2. Synthesize time to first chunk: in-process TTS vs the same engine over gRPC.
 * Bounded: a fixed number of frames and syntheses, well under a minute on 2 cores.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { percentile } from '../core/stats.js';
import { concatPcm, silence } from '../media/audio/pcm.js';
import { connectSpeechClient } from '../speech/grpc/client.js';
import { startSpeechServer } from '../speech/grpc/server.js';
import { createSpeechServices } from '../speech/services.js';
import type { PcmAudio, TtsEngine, VadEngine } from '../speech/types.js';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 1500);
const SYNTHS = Number(process.env.BENCH_SYNTHS ?? 40);
const RATE = 8000;
const FRAME = (RATE * 20) / 1000;

function row(label: string, v: number[]): string {
  const f = (x: number) => x.toFixed(3).padStart(8);
  return `${label.padEnd(28)} ${f(percentile(v, 50))} ${f(percentile(v, 95))} ${f(percentile(v, 99))}  n=${v.length}`;
}

async function vadFrameTimes(vad: VadEngine, audio: PcmAudio): Promise<number[]> {
  const stream = await vad.createStream({ sampleRate: RATE });
  const times: number[] = [];
  let offset = 0;
  for (let i = 0; i < FRAMES; i++) {
    if (offset + FRAME > audio.samples.length) offset = 0;
    const frame = audio.samples.subarray(offset, offset + FRAME);
    offset += FRAME;
    const t0 = performance.now();
    await stream.push(frame);
    times.push(performance.now() - t0);
  }
  await stream.flush();
  return times;
}

let textCounter = 0;

async function firstChunkMs(tts: TtsEngine): Promise<number> {
  // A new first sentence every time: the TTS disk cache must not answer instead of the engine.
  textCounter += 1;
  const text = `Ваше обращение номер ${textCounter} принято. Оператор перезвонит вам в течение рабочего дня.`;
  const t0 = performance.now();
  let first: number | undefined;
  // Read to the end so no leftover synthesis (a cancel still travelling to the server) slows the next one.
  for await (const _chunk of tts.synthesize(text, { sampleRate: RATE })) first ??= performance.now() - t0;
  if (first === undefined) throw new Error('the TTS engine produced no audio');
  return first;
}

/** Alternates the two paths so that load on the shared machine falls on both alike. */
async function firstChunkTimes(local: TtsEngine, remote: TtsEngine): Promise<[number[], number[]]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < SYNTHS; i++) {
    a.push(await firstChunkMs(local));
    b.push(await firstChunkMs(remote));
  }
  return [a, b];
}

async function main(): Promise<void> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'otklik-bench-tts-'));
  const services = await createSpeechServices(loadConfig({}, { 'speech.cacheDir': cacheDir }), silentLogger);
  const server = await startSpeechServer({ services, listen: '127.0.0.1:0', log: silentLogger });
  const client = await connectSpeechClient({
    url: server.address,
    log: silentLogger,
    timeoutMs: 10_000,
    healthIntervalMs: 0,
  });
  try {
    const chunks = [];
    for await (const c of services.tts.synthesize('Здравствуйте. Я хочу записаться к терапевту на завтра.', {
      sampleRate: RATE,
    })) {
      chunks.push(c.audio);
    }
    const audio = concatPcm([silence(RATE, 500), ...chunks, silence(RATE, 500)]);
    // Warm both paths (model load, connection set-up) before measuring.
    await vadFrameTimes(services.vad, audio);
    await vadFrameTimes(client.vad, audio);
    const localVad = await vadFrameTimes(services.vad, audio);
    const remoteVad = await vadFrameTimes(client.vad, audio);
    await firstChunkMs(client.tts);
    const [localTts, remoteTts] = await firstChunkTimes(services.tts, client.tts);

    const lines: string[] = [];
    const out = (line: string) => {
      lines.push(line);
      console.log(line);
    };
    out(`speech gRPC overhead (ms; ${FRAMES} frames of 20 ms at ${RATE} Hz, ${SYNTHS} syntheses)`);
    out(`${''.padEnd(28)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'p99'.padStart(8)}`);
    out(row('VAD frame, in-process', localVad));
    out(row('VAD frame, gRPC loopback', remoteVad));
    out(
      `VAD gRPC overhead per frame: p50 +${(percentile(remoteVad, 50) - percentile(localVad, 50)).toFixed(3)} ms, ` +
        `p99 +${(percentile(remoteVad, 99) - percentile(localVad, 99)).toFixed(3)} ms; ratio p50 ${(percentile(remoteVad, 50) / percentile(localVad, 50)).toFixed(2)}x`,
    );
    out(
      `real-time budget used by one stream over gRPC: ${((percentile(remoteVad, 50) / 20) * 100).toFixed(1)}% of 20 ms (p50)`,
    );
    out(row('TTS first chunk, in-process', localTts));
    out(row('TTS first chunk, gRPC', remoteTts));
    out(
      `TTS first-chunk ratio gRPC/in-process: p50 ${(percentile(remoteTts, 50) / percentile(localTts, 50)).toFixed(2)}x, ` +
        `p99 ${(percentile(remoteTts, 99) / percentile(localTts, 99)).toFixed(2)}x`,
    );
    writeResults(lines);
  } finally {
    await client.close();
    await server.close(1000);
    await services.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function writeResults(lines: string[]): void {
  const file = new URL('./results-speech-grpc.md', import.meta.url);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`;
  writeFileSync(
    file,
    [
      '# Speech over gRPC vs in-process',
      '',
      `Measured by \`node --import tsx bench/speech-grpc.ts\` on ${machine}, ${new Date().toISOString().slice(0, 10)}.`,
      'VAD: Silero on each 20 ms frame of espeak-ng speech at 8 kHz, awaited one by one as a call does; over gRPC',
      'each frame is one StreamingRecognize message answered by one response (127.0.0.1, no TLS). TTS: time from',
      'the request to the first audio chunk (first sentence) of espeak-ng, in-process vs through Synthesize.',
      '',
      '```',
      ...lines,
      '```',
      '',
      'Reading: the gRPC hop adds a fixed per-frame cost (protobuf + HTTP/2 + loopback round trip, a few tenths',
      'of a millisecond at p50); a frame still completes far inside its 20 ms real-time budget. The first',
      'synthesized audio is dominated by espeak-ng itself. In this bench client and server share one Node process',
      '(and two cores with other work), so the gRPC column also pays for the server preparing the next sentence on',
      'the same event loop before the first chunk is flushed; p95/p99 on this shared machine are noisy.',
      '',
    ].join('\n'),
  );
}

await main();
