/**
 * The speech gRPC service over TLS with a self-signed certificate made here by openssl: the real server and
 * the real client synthesize espeak-ng speech; a client that does not trust the certificate, or that speaks
 * plaintext, gets a clear error; with a client CA the service takes only clients with a certificate it signed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../core/config.js';
import { isOtklikError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { dbfs } from '../../media/audio/pcm.js';
import { makeSelfSignedCert, type TestCert } from '../../test/support/certs.js';
import { createSpeechServices } from '../services.js';
import type { SpeechServices, TtsChunk } from '../types.js';
import { connectSpeechClient, type SpeechClientOptions } from './client.js';
import { type SpeechServer, startSpeechServer } from './server.js';

async function speak(client: SpeechServices, text: string): Promise<TtsChunk[]> {
  const out: TtsChunk[] = [];
  for await (const chunk of client.tts.synthesize(text, { sampleRate: 8000 })) out.push(chunk);
  return out;
}

async function refused(tls: SpeechClientOptions['tls'], url: string): Promise<Error> {
  const client = await connectSpeechClient({
    url,
    log: silentLogger,
    timeoutMs: 5000,
    healthIntervalMs: 0,
    ...(tls ? { tls } : {}),
  });
  try {
    await speak(client, 'Проверка.');
  } catch (err) {
    return err as Error;
  } finally {
    await client.close();
  }
  return assert.fail('the synthesis should have been refused');
}

describe('speech gRPC service over TLS', () => {
  let dir: string;
  let server: TestCert;
  let stranger: TestCert;
  let services: SpeechServices;
  let tlsServer: SpeechServer;
  let mutual: SpeechServer;
  let clientCert: TestCert;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-grpc-tls-'));
    server = makeSelfSignedCert(dir, 'speech');
    stranger = makeSelfSignedCert(dir, 'stranger');
    clientCert = makeSelfSignedCert(dir, 'bot', 'otklik-bot');
    const config = loadConfig({}, { 'speech.cacheDir': join(dir, 'tts-cache'), 'speech.tts': 'espeak' });
    services = await createSpeechServices(config, silentLogger);
    tlsServer = await startSpeechServer({
      services,
      listen: '127.0.0.1:0',
      log: silentLogger,
      tls: { cert: server.cert, key: server.key },
    });
    mutual = await startSpeechServer({
      services,
      listen: '127.0.0.1:0',
      log: silentLogger,
      tls: { cert: server.cert, key: server.key, clientCa: clientCert.cert },
    });
  });
  after(async () => {
    await tlsServer?.close(1000);
    await mutual?.close(1000);
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client trusting the CA synthesizes Russian speech (espeak-ng) and reads Health', async () => {
    for (const url of [tlsServer.address, `localhost:${tlsServer.port}`]) {
      const client = await connectSpeechClient({
        url,
        log: silentLogger,
        timeoutMs: 20_000,
        healthIntervalMs: 0,
        tls: { ca: server.cert },
      });
      try {
        assert.equal((await client.health()).tts.status, 'ready', url);
        assert.equal(client.tts.state().status, 'ready');
        const chunks = await speak(client, 'Здравствуйте, вы позвонили на линию сто двадцать два.');
        const samples = chunks.reduce((n, c) => n + c.audio.samples.length, 0);
        assert.ok(samples > 8000, `over a second of speech, got ${samples} samples`);
        assert.equal(chunks[0]!.audio.sampleRate, 8000);
        assert.ok(dbfs(chunks[0]!.audio.samples) > -40, 'not silence');
        assert.equal(chunks.at(-1)!.last, true);
      } finally {
        await client.close();
      }
    }
  });

  test('a client that does not trust the certificate gets a clear, retryable UNAVAILABLE naming TLS', async () => {
    const err = await refused({ ca: stranger.cert }, tlsServer.address);
    assert.ok(isOtklikError(err, 'UNAVAILABLE'), String(err));
    assert.match(err.message, /TLS/);
    assert.match(err.message, /certificate/i);
  });

  test('a plaintext client is refused by the TLS service', async () => {
    const err = await refused(undefined, tlsServer.address);
    assert.ok(isOtklikError(err, 'UNAVAILABLE'), String(err));
  });

  test('mutual TLS: only a client with the certificate the service trusts gets speech', async () => {
    const anonymous = await refused({ ca: server.cert }, mutual.address);
    assert.ok(isOtklikError(anonymous, 'UNAVAILABLE'), String(anonymous));
    const wrong = await refused({ ca: server.cert, cert: stranger.cert, key: stranger.key }, mutual.address);
    assert.ok(isOtklikError(wrong, 'UNAVAILABLE'), String(wrong));

    const client = await connectSpeechClient({
      url: mutual.address,
      log: silentLogger,
      timeoutMs: 20_000,
      healthIntervalMs: 0,
      tls: { ca: server.cert, cert: clientCert.cert, key: clientCert.key },
    });
    try {
      const chunks = await speak(client, 'Ваше обращение зарегистрировано.');
      assert.ok(chunks.reduce((n, c) => n + c.audio.samples.length, 0) > 4000);
    } finally {
      await client.close();
    }
  });
});
