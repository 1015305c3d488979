import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../core/log.js';
import { dbfs } from '../../media/audio/pcm.js';
import { encodeWav, readWav } from '../../media/audio/wav.js';
import { connectSpeechClient } from '../../speech/grpc/client.js';
import { makeSelfSignedCert } from '../../test/support/certs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('otklik speech commands', () => {
  let dir: string;
  const env = () => ({
    ...process.env,
    VOSK_MODEL_PATH: join(dir, 'no-model'),
    SPEECH_URL: '',
    SPEECH_CACHE_DIR: join(dir, 'tts-cache'),
  });
  const otklik = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/otklik.js', 'speech', ...args], {
      cwd: root,
      env: env(),
      encoding: 'utf8',
      timeout: 60_000,
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-speech-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('`say` writes an 8 kHz WAV of Russian speech', () => {
    const out = join(dir, 'hello.wav');
    const r = otklik(
      'say',
      'Здравствуйте, вы позвонили на линию сто двадцать два.',
      '-o',
      out,
      '--rate',
      '8000',
    );
    assert.equal(r.status, 0, r.stderr);
    const wav = readWav(readFileSync(out));
    assert.equal(wav.sampleRate, 8000);
    assert.ok(wav.samples.length > 8000, 'over a second of audio');
    assert.ok(dbfs(wav.samples) > -40, 'not silence');
  });

  test('`transcribe` without a model exits non-zero naming the model path and the fetch command', () => {
    // A real WAV file, so the failure can only be the missing model.
    const out = join(dir, 'short.wav');
    writeFileSync(out, encodeWav({ sampleRate: 8000, samples: new Int16Array(8000) }));
    const r = otklik('transcribe', out);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /модель распознавания речи не установлена/);
    assert.ok(r.stderr.includes(join(dir, 'no-model')), r.stderr);
    assert.match(r.stderr, /otklik models fetch vosk-model-small-ru-0\.22/);
    assert.equal(r.stdout, '');
  });

  test('`speech` serves gRPC, reports engine states in its log and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/otklik.js', 'speech', '--listen', '127.0.0.1:0'], {
      cwd: root,
      env: { ...env(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /"address":"([^"]+)"/.exec(log);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${log}`)));
    });
    assert.match(log, /model_missing/);
    const client = await connectSpeechClient({
      url: address,
      log: silentLogger,
      timeoutMs: 10_000,
      healthIntervalMs: 0,
    });
    const health = await client.health();
    assert.equal(health.tts.status, 'ready');
    assert.equal(health.asr.status, 'model_missing');
    await client.close();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, log);
    assert.match(log, /speech service stopped/);
  });
  test('`speech` with SPEECH_TLS_CERT_FILE and SPEECH_TLS_KEY_FILE serves gRPC over TLS only', async () => {
    const cert = makeSelfSignedCert(dir, 'speech');
    const child = spawn(process.execPath, ['bin/otklik.js', 'speech', '--listen', '127.0.0.1:0'], {
      cwd: root,
      env: {
        ...env(),
        LOG_LEVEL: 'info',
        SPEECH_TLS_CERT_FILE: cert.certFile,
        SPEECH_TLS_KEY_FILE: cert.keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /"address":"([^"]+)","tls":true/.exec(log);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${log}`)));
    });
    try {
      const trusted = await connectSpeechClient({
        url: address,
        log: silentLogger,
        timeoutMs: 10_000,
        healthIntervalMs: 0,
        tls: { ca: cert.cert },
      });
      assert.equal((await trusted.health()).tts.status, 'ready');
      await trusted.close();
      const plain = await connectSpeechClient({
        url: address,
        log: silentLogger,
        timeoutMs: 5000,
        healthIntervalMs: 0,
      });
      await assert.rejects(plain.health(), { code: 'UNAVAILABLE' });
      await plain.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
