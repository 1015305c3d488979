import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import type { CallLegEvent } from '../../../media/call-leg.js';
import { signForkMetadata } from '../../../media/fork-auth.js';
import { MAX_CALLER_TEXT_CHARS } from '../limits.js';
import { FsClient } from './fs-client.js';
import type { MediaLeg } from './media-leg.js';
import { malformedTotal } from './media-leg.js';
import { type MediaSocket, startMediaSocket } from './server.js';

/** The media socket's secret in this test (MEDIA_SOCKET_SECRET). */
const SECRET = 'media-socket-test-secret';

/** A tone, so that what the client hears is recognisably non-silent. */
function tone(ms: number, rate = 8000): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return out;
}

describe('media socket (mod_audio_fork protocol)', () => {
  let socket: MediaSocket;
  const legs: MediaLeg[] = [];
  const events = new Map<MediaLeg, CallLegEvent[]>();
  let url = '';

  before(async () => {
    socket = await startMediaSocket({
      port: 0,
      playout: { speed: 10, chunkMs: 100, leadMs: 200 },
      forwardTimeoutMs: 2000,
      auth: { secret: SECRET },
      onCall: (leg) => {
        legs.push(leg);
        const list: CallLegEvent[] = [];
        events.set(leg, list);
        leg.on((e) => list.push(e));
      },
    });
    url = `ws://127.0.0.1:${socket.port}`;
  });
  after(() => socket.close());

  async function call(metadata: Record<string, unknown>, opts: { speed?: number } = {}) {
    const before = legs.length;
    const client = await FsClient.connect({ url, secret: SECRET, metadata, speed: opts.speed ?? 10 });
    for (let i = 0; i < 200 && legs.length === before; i++) await new Promise((r) => setTimeout(r, 5));
    const leg = legs[legs.length - 1]!;
    return { client, leg, events: events.get(leg)! };
  }

  async function until(check: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  test('reads the call metadata and streams caller audio and DTMF as leg events', async () => {
    const { client, leg, events: seen } = await call({ callSid: 'abc-1', from: '+79990001122', to: '122' });
    assert.equal(leg.meta.callId, 'abc-1');
    assert.equal(leg.meta.from, '+79990001122');
    assert.equal(leg.meta.to, '122');
    assert.equal(leg.meta.channel, 'media');
    await client.sendAudio(tone(200));
    client.sendDtmf('5');
    client.sendRaw(JSON.stringify({ type: 'dtmf', data: { digit: '#' } }));
    client.sendTranscript('хочу записаться к врачу');
    await until(
      () => seen.filter((e) => e.type === 'dtmf').length === 2 && seen.some((e) => e.type === 'text'),
    );
    assert.ok(seen.some((e) => e.type === 'text' && e.text === 'хочу записаться к врачу'));
    const audio = seen.filter((e) => e.type === 'audio');
    assert.equal(
      audio.reduce((n, e) => n + (e.type === 'audio' ? e.samples.length : 0), 0),
      1600,
    );
    assert.deepEqual(
      seen.flatMap((e) => (e.type === 'dtmf' ? [e.digit] : [])),
      ['5', '#'],
    );
    await client.hangup();
  });

  test('malformed frames are counted and ignored, and the call goes on', async () => {
    // A raw connection, to send garbage before the metadata too.
    const ws = new WebSocket(url, 'audio.drachtio.org');
    await new Promise((r) => ws.once('open', r));
    const before = legs.length;
    ws.send(Buffer.alloc(320), { binary: true }); // audio before metadata
    ws.send('{not json'); // bad metadata
    ws.send(JSON.stringify(signForkMetadata({ callId: 'bad-1', sampleRate: 8000 }, SECRET)));
    await until(() => legs.length > before);
    const leg = legs[legs.length - 1]!;
    const seen = events.get(leg)!;
    ws.send(Buffer.alloc(321), { binary: true }); // odd length
    ws.send('garbage');
    ws.send(JSON.stringify({ type: 'whatever' }));
    ws.send(JSON.stringify({ event: 'dtmf', dtmf: 'Z' }));
    ws.send(Buffer.alloc(320), { binary: true });
    ws.send(JSON.stringify({ event: 'dtmf', dtmf: '7' }));
    await until(() => seen.some((e) => e.type === 'dtmf'));
    assert.equal(leg.stats.malformed.binary_before_metadata, 1);
    assert.equal(leg.stats.malformed.bad_json, 2);
    assert.equal(leg.stats.malformed.odd_length, 1);
    assert.equal(leg.stats.malformed.unknown_type, 2);
    assert.equal(malformedTotal(leg.stats), 6);
    assert.equal(leg.stats.audioFrames, 1);
    assert.equal(leg.ended, false);
    assert.ok(seen.some((e) => e.type === 'dtmf' && e.digit === '7'));
    ws.close();
    await until(() => leg.ended);
    assert.deepEqual(seen.at(-1), { type: 'hangup', reason: 'caller_hangup' });
  });

  test('a transcript longer than the chat allows is counted as malformed and does not enter the dialog', async () => {
    const { client, leg, events: seen } = await call({ callId: 'long-1' });
    client.sendTranscript('а'.repeat(MAX_CALLER_TEXT_CHARS + 1));
    client.sendTranscript('б'.repeat(MAX_CALLER_TEXT_CHARS));
    await until(() => seen.some((e) => e.type === 'text'));
    const texts = seen.flatMap((e) => (e.type === 'text' ? [e.text] : []));
    assert.deepEqual(
      texts.map((t) => t.length),
      [MAX_CALLER_TEXT_CHARS],
    );
    assert.equal(leg.stats.malformed.too_long, 1);
    await client.hangup();
  });

  test('bot audio is played in chunks and killAudio stops the rest', async () => {
    const { client, leg } = await call({ callId: 'play-1' }, { speed: 4 });
    const done = leg.playAudio(tone(3000), 8000, { id: 'u1' });
    await until(() => client.heardMs() > 300);
    await leg.stopAudio();
    await done;
    await until(() => client.count('killAudio') === 1);
    const received = client.receivedAudio().length / 8;
    assert.equal(client.count('killAudio'), 1);
    assert.ok(received < 3000, `only part of the audio was sent (${received} ms)`);
    assert.ok(client.heardMs() < 3000);
    assert.ok(client.heardMs() >= 300);
    // A whole utterance plays out and reports playback_done.
    const full = leg.playAudio(tone(500), 8000, { id: 'u2' });
    await full;
    assert.ok(events.get(leg)!.some((e) => e.type === 'playback_done' && e.id === 'u2'));
    await client.hangup();
  });

  test('forward sends a transfer request and resolves from the reply or a timeout', async () => {
    const { client, leg } = await call({ callId: 'fwd-1' });
    assert.deepEqual(await leg.forward('+74951234567'), { status: 'answered' });
    assert.ok(client.events.some((e) => e.type === 'transfer' && e.target === '+74951234567'));
    await client.hangup();
    await until(() => leg.ended);
    assert.deepEqual(events.get(leg)!.at(-1), { type: 'hangup', reason: 'transferred' });

    const silent = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId: 'fwd-2' },
      transferReply: 'none',
    });
    await until(() => legs.at(-1)?.meta.callId === 'fwd-2');
    const result = await legs.at(-1)!.forward('+74950000000', { timeoutMs: 100 });
    assert.equal(result.status, 'failed');
    await silent.hangup();
  });

  /** Connects as anyone could and sends one metadata frame; resolves with how the socket ended. */
  async function rawCall(metadata: Record<string, unknown> | string, target = url) {
    const ws = new WebSocket(target, 'audio.drachtio.org');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
    return closed;
  }

  test('a connection without a valid signature is refused with 1008 and gets no call', async () => {
    const before = legs.length;
    const signed = signForkMetadata(
      { callId: 'auth-1', from: '+79990001122', direction: 'outbound' },
      SECRET,
    );
    for (const metadata of [
      // The plain WebSocket that once heard an agency's answer.
      { flowId: 'inquiry-answer', inquiryId: 7 },
      signForkMetadata({ callId: 'auth-2' }, 'another-secret-of-some-length'),
      { ...signed, flowId: 'inquiry-answer', inquiryId: 7 },
      { ...signed, signature: `${signed.signature}x` },
      { ...signed, signature: '' },
    ]) {
      assert.deepEqual(
        await rawCall(metadata),
        { code: 1008, reason: 'unauthenticated' },
        JSON.stringify(metadata),
      );
    }
    assert.equal(legs.length, before, 'no call reached the bot');
  });

  test('a flow id counts in the signed metadata: the flow telephony chose for the call', async () => {
    // An inbound call's flow is the one the KB lists for the dialled number (telephony signs it).
    const inbound = await call({ callId: 'flow-in', to: '117', flowId: 'line-117' });
    assert.equal(inbound.leg.meta.extra?.flowId, 'line-117');
    assert.equal(inbound.leg.meta.extra?.signature, undefined, 'the signature is not kept in the record');
    await inbound.client.hangup();
    const outbound = await call({
      callId: 'flow-out',
      direction: 'outbound',
      flowId: 'inquiry-answer',
      inquiryId: 7,
    });
    assert.equal(outbound.leg.meta.extra?.flowId, 'inquiry-answer');
    assert.equal(outbound.leg.meta.extra?.inquiryId, 7);
    await outbound.client.hangup();
  });

  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  test('without a configured secret only loopback peers are served', {
    skip: lanAddress ? false : 'this machine has no non-loopback IPv4 address to connect from',
  }, async () => {
    const auth = { secret: 'per-process-key-of-this-test', loopbackOnly: true };
    const local: MediaLeg[] = [];
    const open = await startMediaSocket({
      host: '0.0.0.0',
      port: 0,
      auth,
      onCall: (leg) => void local.push(leg),
    });
    try {
      const signed = signForkMetadata({ callId: 'lan-1' }, auth.secret);
      assert.deepEqual(await rawCall(signed, `ws://${lanAddress}:${open.port}`), {
        code: 1008,
        reason: 'unauthenticated',
      });
      assert.equal(local.length, 0);
      const client = await FsClient.connect({
        url: `ws://127.0.0.1:${open.port}`,
        secret: auth.secret,
        metadata: { callId: 'lo-1' },
      });
      await until(() => local.length === 1);
      assert.equal(local[0]!.meta.callId, 'lo-1');
      await client.hangup();
    } finally {
      await open.close();
    }
  });

  test('the bot hanging up sends disconnect and closes the socket', async () => {
    const { client, leg } = await call({ callId: 'bye-1' });
    await leg.hangup();
    await client.whenClosed();
    assert.equal(client.count('disconnect'), 1);
    assert.equal(leg.ended, true);
  });
});
