import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/log.js';
import { encodeWav } from '../media/audio/wav.js';
import type { CallLegEvent } from '../media/call-leg.js';
import { CallControl } from '../telephony/call-control.js';
import { FreeswitchControl } from '../telephony/fsmrf.js';
import { OperatorQueue } from '../telephony/queue.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { FakeFreeswitch } from '../telephony/testing/fake-freeswitch.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { openTestDb, type TestDb } from './support/db.js';

/**
 * Telephony and the voice bot's media socket together: the adapter forks a call (through the ESL stand-in
 * for FreeSWITCH, whose mod_audio_fork side is a real WebSocket client) to the voice bot's real media
 * socket, and the bot's MediaLeg sees the caller, speaks, hears keys and forwards the call.
 */
/** MEDIA_SOCKET_SECRET, shared by telephony and the voice bot's media socket. */
const SECRET = 'media-socket-test-secret';

describe('telephony ↔ voice bot media socket', () => {
  let db: TestDb;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let media: MediaSocket;
  let calls: CallControl;
  let queue: OperatorQueue;
  let dir: string;
  const legs: MediaLeg[] = [];
  const apology = () => join(dir, 'technical_fallback.wav');

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-telmedia-'));
    writeFileSync(apology(), encodeWav({ samples: new Int16Array(800), sampleRate: 8000 }));
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    media = await startMediaSocket({
      port: 0,
      auth: { secret: SECRET },
      onCall: (leg) => {
        legs.push(leg);
      },
      playout: { speed: 20 },
    });
    queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    calls = new CallControl({
      sql: db.sql,
      instanceId: 'telephony-media-test',
      control,
      queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: `ws://127.0.0.1:${media.port}/`,
      mediaSocketSecret: SECRET,
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      prompts: { technical_fallback: apology() },
    });
  });
  after(async () => {
    calls.release();
    control.close();
    await media.close();
    await fs.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call() {
    const uuid = fs.addChannel();
    const callId = randomUUID();
    await calls.handleInbound(uuid, {
      callId,
      from: '+79001234567',
      to: '122',
      startedAt: new Date(),
      channel: 'sip',
    });
    const leg = await eventually(() => legs.find((l) => l.meta.callId === callId), 'the bot gets the call');
    const events: CallLegEvent[] = [];
    leg.on((e) => events.push(e));
    return { uuid, callId, leg, events };
  }

  it('gives the bot the caller’s number, the caller’s keys and audio, and plays the bot’s speech', async () => {
    const { uuid, leg, events } = await call();
    assert.equal(leg.meta.from, '+79001234567');
    assert.equal(leg.meta.to, '122');
    assert.equal(leg.sampleRate, 8000);

    fs.dtmf(uuid, '2');
    const key = await eventually(() => events.find((e) => e.type === 'dtmf'), 'the bot hears the key');
    assert.deepEqual(key, { type: 'dtmf', digit: '2', durationMs: 200 });

    fs.sendForkAudio(uuid, new Int16Array(160).fill(1234));
    const audio = await eventually(() => events.find((e) => e.type === 'audio'), 'the bot hears the caller');
    assert.equal(audio.type === 'audio' && audio.samples[0], 1234);

    const speech = new Int16Array(4000).map((_, i) => Math.round(Math.sin(i / 3) * 8000));
    await leg.playAudio(speech, 8000, { id: 'greeting' });
    const files = await eventually(() => {
      const f = fs.played.filter((p) => p.uuid === uuid && p.file.endsWith('.r8'));
      return f.length > 0 && f;
    }, 'FreeSWITCH plays the bot’s audio');
    const heard = Buffer.concat(fs.played.filter((p) => p.uuid === uuid).map((p) => readFileSync(p.file)));
    assert.ok(files.length >= 1);
    assert.equal(heard.readInt16LE(2), speech[1]);
    fs.hangup(uuid);
    await eventually(() => leg.ended, 'the bot sees the hang-up');
  });

  it('forwards at the bot’s request: busy comes back, an answer bridges and ends the bot’s leg as transferred', async () => {
    const { uuid, leg, events } = await call();
    fs.dialOutcomes.set('sofia/gateway/carrier/+74951230000', 'USER_BUSY');
    assert.deepEqual(await leg.forward('+74951230000', { timeoutMs: 5000 }), { status: 'busy' });
    fs.dialOutcomes.set('sofia/gateway/carrier/+74951230000', 'answer');
    assert.deepEqual(await leg.forward('+74951230000', { timeoutMs: 5000 }), { status: 'answered' });
    const end = await eventually(() => events.find((e) => e.type === 'hangup'), 'the bot leg ends');
    assert.deepEqual(end, { type: 'hangup', reason: 'transferred' });
    assert.ok(fs.channels.get(uuid)!.bridgedTo, 'the caller talks to the agency');
    fs.hangup(uuid);
  });

  it('a fork telephony did not sign with the shared secret is refused, and the caller waits for an operator', async () => {
    const unsigned = new CallControl({
      sql: db.sql,
      instanceId: 'telephony-media-test',
      control,
      queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: `ws://127.0.0.1:${media.port}/`,
      mediaSocketSecret: 'not-the-media-socket-secret',
      forwardTimeoutMs: 20_000,
      prompts: { technical_fallback: apology() },
    });
    try {
      const uuid = fs.addChannel();
      const callId = randomUUID();
      await unsigned.handleInbound(uuid, {
        callId,
        from: '+79001234567',
        to: '122',
        startedAt: new Date(),
        channel: 'sip',
      });
      await eventually(
        async () => (await queue.callState(callId))?.state === 'waiting',
        'the caller is queued',
      );
      await eventually(
        () => fs.played.some((p) => p.uuid === uuid && p.file === apology()),
        'the apology is played',
      );
      assert.equal(
        legs.some((l) => l.meta.callId === callId),
        false,
        'the bot never took the call',
      );
      fs.hangup(uuid);
    } finally {
      unsigned.release();
    }
  });

  it('when the voice bot goes away mid-call, the caller hears the apology and waits for an operator', async () => {
    const { uuid, callId } = await call();
    await media.close();
    await eventually(() => fs.played.some((p) => p.uuid === uuid && p.file === apology()), 'apology played');
    assert.equal((await queue.callState(callId))?.state, 'waiting');
    assert.equal(fs.channels.get(uuid)!.up, true, 'the caller is not dropped');
    fs.hangup(uuid);
    await eventually(
      async () => (await queue.callState(callId))?.state === 'abandoned',
      'abandoned on hang-up',
    );
  });
});
