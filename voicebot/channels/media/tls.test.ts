/**
 * The media socket over TLS (wss://), as FreeSWITCH's mod_audio_fork reaches it across a network: a
 * self-signed certificate made here by openssl; the client speaks mod_audio_fork's framing (signed metadata as
 * the first text frame, L16 audio as binary frames, DTMF as text events; the bot's speech back as playAudio).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallLegEvent } from '../../../media/call-leg.js';
import { makeSelfSignedCert, type TestCert } from '../../../test/support/certs.js';
import { FsClient } from './fs-client.js';
import type { MediaLeg } from './media-leg.js';
import { type MediaSocket, startMediaSocket } from './server.js';

const SECRET = 'media-socket-tls-test-secret';

function tone(ms: number, rate = 8000): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return out;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

describe('media socket over wss://', () => {
  let dir: string;
  let cert: TestCert;
  let socket: MediaSocket;
  const legs: Array<{ leg: MediaLeg; seen: CallLegEvent[] }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-media-tls-'));
    cert = makeSelfSignedCert(dir);
    socket = await startMediaSocket({
      port: 0,
      playout: { speed: 10, chunkMs: 100, leadMs: 200 },
      auth: { secret: SECRET },
      tls: { cert: cert.cert, key: cert.key },
      onCall: (leg) => {
        const seen: CallLegEvent[] = [];
        leg.on((e) => seen.push(e));
        legs.push({ leg, seen });
      },
    });
  });
  after(async () => {
    await socket?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('carries the call both ways: metadata, caller audio and keys in; the bot’s audio out', async () => {
    const client = await FsClient.connect({
      url: `wss://localhost:${socket.port}`,
      ca: cert.cert,
      secret: SECRET,
      speed: 10,
      metadata: { callSid: 'tls-1', from: '+79990001122', to: '122' },
    });
    await until(() => legs.length === 1);
    const { leg, seen } = legs[0]!;
    assert.equal(leg.meta.callId, 'tls-1');
    assert.equal(leg.meta.from, '+79990001122');
    await client.sendAudio(tone(200));
    client.sendDtmf('1');
    await until(() => seen.some((e) => e.type === 'dtmf'));
    const heard = seen.reduce((n, e) => n + (e.type === 'audio' ? e.samples.length : 0), 0);
    assert.equal(heard, 1600, '200 ms of 8 kHz caller audio');
    assert.deepEqual(
      seen.flatMap((e) => (e.type === 'dtmf' ? [e.digit] : [])),
      ['1'],
    );

    await leg.playAudio(tone(500), 8000, { id: 'greeting' });
    assert.ok(await client.waitFor((e) => e.type === 'playAudio', 5000), 'the caller hears the bot');
    await client.hangup();
    await until(() => socket.legs().length === 0);
    assert.equal(socket.legs().length, 0);
  });

  test('refuses plain ws:// and a client that does not trust the certificate', async () => {
    const before = legs.length;
    await assert.rejects(
      FsClient.connect({ url: `ws://127.0.0.1:${socket.port}`, secret: SECRET, metadata: { callSid: 'p' } }),
      /cannot reach the media socket/,
    );
    await assert.rejects(
      FsClient.connect({ url: `wss://127.0.0.1:${socket.port}`, secret: SECRET, metadata: { callSid: 'u' } }),
      /self[- ]signed certificate/,
    );
    assert.equal(legs.length, before, 'no call reached the bot');
  });
});
