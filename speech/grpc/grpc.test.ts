import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadConfig } from '../../core/config.js';
import { isOtklikError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { concatPcm, dbfs, silence } from '../../media/audio/pcm.js';
import { checkVoskModelDir } from '../asr/index.js';
import { createSpeechServices } from '../services.js';
import type { AsrEngine, AsrOptions, PcmAudio, SpeechServices, TtsChunk, VadEvent } from '../types.js';
import { connectSpeechClient, type SpeechClient } from './client.js';
import { PROTO_PATH, speechServiceClient } from './proto.js';
import { type SpeechServer, startSpeechServer } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));
const modelPath = process.env.VOSK_MODEL_PATH ?? join(here, 'no-such-vosk-model');
const hasModel = checkVoskModelDir(modelPath).status === 'ok';
const noModel = hasModel
  ? false
  : 'no Vosk model installed (set VOSK_MODEL_PATH): recognition text is not checked';

async function collect(chunks: AsyncIterable<TtsChunk>): Promise<TtsChunk[]> {
  const out: TtsChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting until ${what}`);
}

function frames(audio: PcmAudio, ms = 20): Int16Array[] {
  const n = (audio.sampleRate * ms) / 1000;
  const out: Int16Array[] = [];
  for (let i = 0; i < audio.samples.length; i += n) out.push(audio.samples.subarray(i, i + n));
  return out;
}

describe('speech gRPC service on loopback', () => {
  let services: SpeechServices;
  let server: SpeechServer;
  let client: SpeechClient;
  let speech16k: PcmAudio;
  let cacheDir: string;

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'otklik-grpc-tts-'));
    const config = loadConfig({}, { 'speech.voskModelPath': modelPath, 'speech.cacheDir': cacheDir });
    services = await createSpeechServices(config, silentLogger);
    server = await startSpeechServer({ services, listen: '127.0.0.1:0', log: silentLogger });
    client = await connectSpeechClient({
      url: server.address,
      log: silentLogger,
      timeoutMs: 20_000,
      healthIntervalMs: 0,
    });
    const spoken = await collect(
      services.tts.synthesize('Запишите меня к врачу, пожалуйста.', { sampleRate: 16000 }),
    );
    speech16k = concatPcm([silence(16000, 600), ...spoken.map((c) => c.audio), silence(16000, 1200)]);
  });
  after(async () => {
    await client?.close();
    await server?.close(1000);
    await services?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test('Health reports each engine state, and the client mirrors it', async () => {
    const h = await client.health();
    assert.equal(h.tts.status, 'ready');
    assert.equal(h.vad.status, 'ready');
    if (hasModel) assert.equal(h.asr.status, 'ready');
    else {
      assert.equal(h.asr.status, 'model_missing');
      assert.match(h.asr.message, /otklik models fetch vosk-model-small-ru-0\.22/);
    }
    assert.deepEqual(client.asr.state(), services.asr.state());
    assert.equal(client.tts.name, services.tts.name);
  });

  test('Synthesize streams the same espeak-ng audio as the in-process engine', async () => {
    const text = 'Здравствуйте. Вы позвонили на линию сто двадцать два.';
    const remote = await collect(client.tts.synthesize(text, { sampleRate: 8000 }));
    const local = await collect(services.tts.synthesize(text, { sampleRate: 8000 }));
    assert.ok(remote.length >= 1);
    assert.equal(remote.at(-1)!.last, true);
    assert.ok(remote.every((c) => c.audio.sampleRate === 8000));
    const audio = concatPcm(remote.map((c) => c.audio));
    assert.ok(audio.samples.length > 8000, 'more than a second of speech');
    assert.ok(dbfs(audio.samples) > -40, 'the audio is not silence');
    assert.deepEqual(audio.samples, concatPcm(local.map((c) => c.audio)).samples);
  });

  test('ListVoices lists the TTS voices', async () => {
    const voices = await client.tts.voices();
    assert.ok(voices.length > 0);
    assert.deepEqual(voices, await services.tts.voices());
  });

  test('StreamingRecognize with VAD finds the speech in synthesized audio', async () => {
    const stream = await client.vad.createStream({ sampleRate: 16000 });
    const events: VadEvent[] = [];
    for (const frame of frames(speech16k)) events.push(...(await stream.push(frame)));
    events.push(...(await stream.flush()));
    assert.equal(events[0]?.type, 'speech_start');
    assert.ok(events.some((e) => e.type === 'speech_end'));
    const start = events[0]!.atMs;
    assert.ok(start >= 300 && start <= 1200, `speech starts near 600 ms, got ${start}`);
  });

  test('StreamingRecognize for ASR without a model fails with FAILED_PRECONDITION and the fix', {
    skip: hasModel,
  }, async () => {
    await assert.rejects(
      client.asr.createStream({ sampleRate: 16000 }),
      (err) =>
        isOtklikError(err, 'MODEL_MISSING') &&
        /otklik models fetch vosk-model-small-ru-0\.22/.test(err.message),
    );
    const Raw = speechServiceClient();
    const raw = new Raw(server.address, grpc.credentials.createInsecure());
    const call = (
      raw as unknown as { StreamingRecognize(): grpc.ClientDuplexStream<object, object> }
    ).StreamingRecognize();
    call.write({ config: { sampleRate: 16000, enableAsr: true, enableVad: true } });
    const [err] = (await once(call, 'error')) as [grpc.ServiceError];
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err.details, /ASR model not found/);
    raw.close();
    await waitFor(
      'the failed stream is released',
      async () => (await client.health()).activeRecognizeStreams === 0,
    );
  });

  test('StreamingRecognize recognizes synthesized speech', { skip: noModel }, async () => {
    const stream = await client.asr.createStream({ sampleRate: 16000 });
    for (const frame of frames(speech16k, 100)) await stream.push(frame);
    const result = await stream.finish();
    stream.close();
    assert.equal(result.final, true);
    assert.ok(result.text.length > 0);
  });

  test('bad input gets INVALID_ARGUMENT with the reason', async () => {
    await assert.rejects(
      client.vad.createStream({ sampleRate: 44100 as 16000 }),
      (err) => isOtklikError(err, 'VALIDATION_FAILED') && /8000 or 16000/.test(err.message),
    );
    await assert.rejects(collect(client.tts.synthesize('   ')), (err) =>
      isOtklikError(err, 'VALIDATION_FAILED'),
    );
    const stream = await client.vad.createStream({ sampleRate: 8000 });
    await assert.rejects(stream.push(new Int8Array(3) as unknown as Int16Array), (err) =>
      isOtklikError(err, 'AUDIO_MALFORMED'),
    );
  });

  test('a sample rate outside 8000-48000 Hz is INVALID_ARGUMENT at once, for synthesis and recognition', async () => {
    const Raw = speechServiceClient();
    const raw = new Raw(server.address, grpc.credentials.createInsecure()) as unknown as {
      Synthesize(req: object): grpc.ClientReadableStream<object>;
      StreamingRecognize(): grpc.ClientDuplexStream<object, object>;
      close(): void;
    };
    try {
      for (const sampleRate of [100_000_000, 4000, 48001]) {
        const started = Date.now();
        const synth = raw.Synthesize({ text: 'Здравствуйте.', sampleRate });
        synth.on('data', () => {});
        const [err] = (await once(synth, 'error')) as [grpc.ServiceError];
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `Synthesize at ${sampleRate} Hz`);
        assert.match(err.details, /sample_rate must be 8000-48000 Hz/);
        assert.ok(Date.now() - started < 1000, `refused in ${Date.now() - started} ms`);

        const call = raw.StreamingRecognize();
        call.on('data', () => {});
        call.write({ config: { sampleRate, enableVad: false, enableAsr: true } });
        const [recErr] = (await once(call, 'error')) as [grpc.ServiceError];
        assert.equal(recErr.code, grpc.status.INVALID_ARGUMENT, `StreamingRecognize at ${sampleRate} Hz`);
        assert.match(recErr.details, /sample_rate must be 8000-48000 Hz/);
      }
      // The client library gives the same error.
      await assert.rejects(
        collect(client.tts.synthesize('Здравствуйте.', { sampleRate: 100_000_000 })),
        (err) => isOtklikError(err, 'VALIDATION_FAILED'),
      );
    } finally {
      raw.close();
    }
    await waitFor(
      'the refused streams are released',
      async () => (await client.health()).activeRecognizeStreams === 0,
    );
  });

  test('cancelling a synthesis mid-stream stops it on the server', async () => {
    const abort = new AbortController();
    const long = Array.from({ length: 30 }, (_, i) => `Это предложение номер ${i + 1} длинного ответа.`).join(
      ' ',
    );
    const cancelledBefore = server.stats().synthesesCancelled;
    const got: TtsChunk[] = [];
    for await (const chunk of client.tts.synthesize(long, { signal: abort.signal })) {
      got.push(chunk);
      abort.abort();
    }
    assert.ok(got.length >= 1 && got.length < 30, `stopped early after ${got.length} chunk(s)`);
    await waitFor(
      'the server has no synthesis running',
      async () => (await client.health()).activeSynthesizeCalls === 0,
    );
    assert.equal(
      server.stats().synthesesCancelled,
      cancelledBefore + 1,
      'the server stopped before the last sentence',
    );
  });

  test('closing a recognition stream mid-way frees it on the server', async () => {
    const stream = await client.vad.createStream({ sampleRate: 16000 });
    await stream.push(speech16k.samples.subarray(0, 3200));
    assert.equal((await client.health()).activeRecognizeStreams, 1);
    stream.close?.();
    await waitFor('the stream is released', async () => (await client.health()).activeRecognizeStreams === 0);
    await assert.rejects(stream.push(speech16k.samples.subarray(0, 320)), (err) =>
      isOtklikError(err, 'CANCELLED'),
    );
  });

  test('closing an ASR stream mid-decode frees its recognizer', { skip: noModel }, async () => {
    const stream = await client.asr.createStream({ sampleRate: 16000 });
    void stream.push(speech16k.samples).catch(() => null);
    stream.close();
    await waitFor(
      'the recognizer is freed',
      async () => (await client.health()).activeRecognizeStreams === 0,
    );
  });

  test('a client process that dies mid-stream has its stream freed', async () => {
    const child = spawn(
      process.execPath,
      [join(here, 'testing/disconnecting-client.mjs'), PROTO_PATH, server.address],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await once(child.stdout!, 'data');
    assert.equal(server.stats().recognizeStreams, 1);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await waitFor(
      'the server noticed the disconnect',
      async () => (await client.health()).activeRecognizeStreams === 0,
    );
  });

  test('a deadline that passes becomes a retryable TIMEOUT', async () => {
    const hurried = await connectSpeechClient({
      url: server.address,
      log: silentLogger,
      timeoutMs: 1,
      healthIntervalMs: 0,
    });
    await assert.rejects(
      collect(
        hurried.tts.synthesize('Это длинный текст, который не успеет прозвучать за одну миллисекунду.'),
      ),
      (err) => isOtklikError(err, 'TIMEOUT') && err.retryable,
    );
    await hurried.close();
  });

  test('an unreachable service is a failed state and a retryable UNAVAILABLE', async () => {
    const gone = await startSpeechServer({ services, listen: '127.0.0.1:0', log: silentLogger });
    const address = gone.address;
    await gone.close(100);
    const remote = await connectSpeechClient({
      url: address,
      log: silentLogger,
      timeoutMs: 2000,
      healthIntervalMs: 0,
    });
    assert.equal(remote.tts.state().status, 'failed');
    await assert.rejects(
      collect(remote.tts.synthesize('Проверка.')),
      (err) => isOtklikError(err, 'UNAVAILABLE') && err.retryable,
    );
    await remote.close();
  });

  test('StreamingRecognize carries the hints and the grammar to the server’s recognizer', async () => {
    // A recognizer that only records what each stream was opened with (no model is needed for that).
    const opened: AsrOptions[] = [];
    const recording: AsrEngine = {
      name: 'recording',
      state: () => ({ status: 'ready' }),
      async createStream(opts) {
        opened.push(opts);
        return {
          push: async () => null,
          finish: async () => ({ text: '', final: true, confidence: 0, words: [] }),
          close: () => {},
        };
      },
    };
    const server2 = await startSpeechServer({
      services: { ...services, asr: recording },
      listen: '127.0.0.1:0',
      log: silentLogger,
    });
    const remote = await connectSpeechClient({
      url: server2.address,
      log: silentLogger,
      timeoutMs: 5000,
      healthIntervalMs: 0,
    });
    try {
      const open = await remote.asr.createStream({ sampleRate: 8000, hints: ['заречный район'] });
      open.close();
      const closed = await remote.asr.createStream({ sampleRate: 8000, grammar: ['да', 'нет'] });
      closed.close();
      assert.deepEqual(
        opened.map((o) => [o.hints, o.grammar]),
        [
          [['заречный район'], undefined],
          [[], ['да', 'нет']],
        ],
      );
    } finally {
      await remote.close();
      await server2.close(100);
    }
  });
});
