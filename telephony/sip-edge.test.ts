import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { getCall } from '../calls/records.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { startTelephony, type TelephonyApp } from './app.js';
import { FreeswitchControl } from './fsmrf.js';
import { recordingsOfCall } from './records.js';
import { BotSocket, eventually } from './testing/bot-socket.js';
import { carrierSdp, FakeDrachtio, type SentResponse } from './testing/fake-drachtio.js';
import { FakeFreeswitch, type FakeFreeswitchOptions } from './testing/fake-freeswitch.js';

/**
 * Calls as real SIP peers make them, through the drachtio-srf application, drachtio-fsmrf and the stand-ins
 * for drachtio-server and FreeSWITCH (SIP profile, event sockets inbound and outbound, channels with their
 * queue of work): cancels, hang-ups during the bot's speech, hold, oversized and unacceptable offers.
 */
describe('SIP edge against real peers’ behaviour (drachtio-srf, fsmrf, stand-ins)', () => {
  let db: TestDb;
  let dir: string;
  let drachtio: FakeDrachtio;
  let fs: FakeFreeswitch;
  let bot: BotSocket;
  let app: TelephonyApp;
  let logs: { level: number; msg: string }[];

  const logSink = () =>
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });

  before(async () => {
    db = await openTestDb('postgres');
    bot = new BotSocket();
    await bot.start();
  });
  after(async () => {
    await bot.stop();
    await db.drop();
  });

  /** The stand-ins' and the app's clock: recordings and call-detail records are measured on it. */
  let t = Date.parse('2026-03-02T10:00:00Z');

  async function startAll(fsOpts: Partial<FakeFreeswitchOptions> = {}, withWatchdog = true) {
    // Each of the bot's clips lasts a second on the channel, as a sentence of speech does.
    fs = new FakeFreeswitch({
      tmpDir: join(dir, `fs-${randomUUID()}`),
      playbackMs: 1000,
      now: () => t,
      ...fsOpts,
    });
    await fs.start();
    fs.attachSip(drachtio);
    const config = loadConfig(
      {},
      {
        dataDir: dir,
        'telephony.drachtioHost': '127.0.0.1',
        'telephony.drachtioPort': drachtio.port,
        'telephony.freeswitchPort': fs.port,
        'telephony.recordingsDir': join(dir, 'recordings'),
        'telephony.numbers': ['122'],
        'telephony.mediaSocketUrl': `ws://127.0.0.1:${bot.port}/call`,
      },
    );
    app = await startTelephony(config, {
      sql: db.sql,
      log: createLogger({ level: 'debug', destination: logSink() }),
      mediaSocketSecret: 'sip-edge-secret',
      now: () => new Date(t),
      ...(withWatchdog ? { drachtioWatchdog: { intervalMs: 100, timeoutMs: 300 } } : {}),
    });
    await eventually(() => drachtio.routes.includes('invite'), 'route|invite received');
  }

  /** Starts FreeSWITCH and the app again, FreeSWITCH behaving as `fsOpts` say. */
  async function restart(fsOpts: Partial<FakeFreeswitchOptions>) {
    await app.close();
    await fs.stop();
    await startAll(fsOpts, false);
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-sip-edge-'));
    logs = [];
    drachtio = new FakeDrachtio();
    await drachtio.start();
    await startAll();
  });
  afterEach(async () => {
    await app.close();
    await drachtio.stop();
    await fs.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const finalResponse = (callId: string, timeoutMs = 5000) =>
    eventually(
      () => drachtio.responses.find((r) => r.callId === callId && r.status >= 200),
      `a final response to ${callId}`,
      timeoutMs,
    );

  /** A caller calls 122 and is answered; the bot's socket gets the call. */
  async function answeredCall(sdp = carrierSdp()) {
    const known = new Set(bot.connections);
    const callId = drachtio.invite('122', '+79001234567', { sdp });
    const answer = await finalResponse(callId);
    assert.equal(answer.status, 200, answer.raw);
    const conn = await eventually(
      () => bot.connections.find((c) => !known.has(c)),
      'the bot gets the call over the audio fork',
    );
    const uuid = String(conn.metadata.uuid);
    return { callId, answer, conn, uuid };
  }

  const sdpOf = (r: SentResponse) => r.raw.slice(r.raw.indexOf('\r\n\r\n') + 4);
  const originVersion = (sdp: string) => /^o=\S+ \S+ (\d+)/m.exec(sdp)?.[1];

  it('a caller who cancels before the answer leaves no FreeSWITCH channel behind', async () => {
    let callId = '';
    fs.onInvite = () => drachtio.cancel(callId);
    callId = drachtio.invite('122', '+79001234567');
    await eventually(() => fs.channels.size > 0, 'fsmrf created an endpoint');
    await eventually(() => fs.upChannels.length === 0, 'the endpoint of the cancelled call is released');
    const control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    assert.match(await control.api('show channels'), /^0 total\.$/m, 'show channels lists none');
    control.close();
    const sent = drachtio.responses.filter((r) => r.callId === callId);
    assert.deepEqual(
      sent.map((r) => r.status),
      [487],
      'the caller got 487 for the INVITE, no answer',
    );
    assert.ok(
      !logs.some((l) => l.level >= 50),
      `a cancel is no error: ${JSON.stringify(logs.filter((l) => l.level >= 50))}`,
    );
    fs.onInvite = null;
    // The line is free: the next caller is answered.
    await answeredCall();
  });

  it('the caller’s BYE hangs the channel up at once, whatever the bot has queued to say', async () => {
    const { callId, conn, uuid } = await answeredCall();
    const clip = Buffer.from(new Int16Array(800).fill(500).buffer).toString('base64');
    for (let i = 0; i < 33; i++)
      conn.send({
        type: 'playAudio',
        data: { audioContentType: 'raw', sampleRate: 8000, audioContent: clip },
      });
    await eventually(() => fs.played.some((p) => p.uuid === uuid), 'the bot is speaking');
    await eventually(
      () => fs.forkMessages.filter((m) => m.uuid === uuid).length >= 33,
      'all 33 clips reached the line',
    );
    drachtio.bye(callId);
    // 33 one-second clips queued on the channel would hold a queued `hangup` for half a minute.
    await eventually(() => !fs.channels.get(uuid)?.up, 'FreeSWITCH hung the channel up', 2500);
    assert.ok(
      (fs.channels.get(uuid)?.maxQueued ?? 0) <= 2,
      `the bot's audio waits in the app, not on the channel (${fs.channels.get(uuid)?.maxQueued} queued)`,
    );
    assert.ok(fs.played.filter((p) => p.uuid === uuid).length <= 2, 'nothing played after the BYE');
    assert.ok(fs.commands.includes(`uuid_kill ${uuid} NORMAL_CLEARING`), 'killed, not a queued hangup app');
  });

  it('passes hold and unhold on to FreeSWITCH and answers with what it answers; the bot is told', async () => {
    const { callId, answer, conn, uuid } = await answeredCall();
    const first = sdpOf(answer);
    const hold = await drachtio.reinvite(callId, carrierSdp({ version: 2, direction: 'sendonly' }));
    assert.equal(hold.status, 200, hold.raw);
    assert.match(sdpOf(hold), /^a=recvonly/m, 'hold is answered recvonly');
    assert.notEqual(originVersion(sdpOf(hold)), originVersion(first), 'a new o= version');
    assert.match(fs.channels.get(uuid)!.remoteSdp, /^a=sendonly/m, 'FreeSWITCH saw the hold');
    await eventually(
      () => conn.texts.find((m) => m.event === 'hold' && m.held === true),
      'the bot is told the caller holds',
    );
    assert.equal(fs.channels.get(uuid)!.forkPaused, true, 'no hold music to the bot');

    const unhold = await drachtio.reinvite(callId, carrierSdp({ version: 3 }), 4);
    assert.equal(unhold.status, 200);
    assert.match(sdpOf(unhold), /^a=sendrecv/m);
    assert.notEqual(originVersion(sdpOf(unhold)), originVersion(sdpOf(hold)));
    await eventually(
      () => conn.texts.find((m) => m.event === 'hold' && m.held === false),
      'the bot is told the caller is back',
    );
    assert.equal(fs.channels.get(uuid)!.forkPaused, false);

    // A new media address (the carrier moved the call) reaches FreeSWITCH as well.
    const moved = await drachtio.reinvite(callId, carrierSdp({ version: 4, address: '10.0.0.77' }), 5);
    assert.equal(moved.status, 200);
    assert.match(fs.channels.get(uuid)!.remoteSdp, /^c=IN IP4 10\.0\.0\.77/m);
    drachtio.bye(callId);
  });

  it('refuses an SDP too large for drachtio-server with 488 and a Warning; the next call is answered', async () => {
    const attrs = Array.from({ length: 400 }, (_, i) => `a=x-padding-${i}:${'z'.repeat(20)}`).join('\r\n');
    const big = carrierSdp().replace('a=sendrecv', `${attrs}\r\na=sendrecv`);
    assert.ok(Buffer.byteLength(big) > 12_228);
    const callId = drachtio.invite('122', '+79001234567', { sdp: big });
    const refused = await finalResponse(callId);
    assert.equal(refused.status, 488);
    assert.match(refused.raw, /^Warning: 399 \S+ "SDP too large/im);
    assert.equal(drachtio.wedged, 0, 'nothing oversized reached drachtio-server');
    await answeredCall();
  });

  it('reconnects when drachtio-server stops answering, and the next call is answered', async () => {
    drachtio.wedgeAll();
    await eventually(() => drachtio.connections >= 2, 'the app noticed and reconnected', 5000);
    await eventually(() => drachtio.routes.filter((r) => r === 'invite').length >= 2, 'routes again');
    await answeredCall();
  });

  it('names the cause: 488 for no acceptable codec, malformed SDP or no m=; 415 for a body not SDP', async () => {
    const g729 = drachtio.invite('122', '+79001234567', {
      sdp: carrierSdp({ codecs: '18' }).replace('a=sendrecv', 'a=rtpmap:18 G729/8000\r\na=sendrecv'),
    });
    const malformed = drachtio.invite('122', '+79001234567', { body: 'this is not a session\r\n' });
    const noMedia = drachtio.invite('122', '+79001234567', {
      sdp: 'v=0\r\no=carrier 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n',
    });
    const notSdp = drachtio.invite('122', '+79001234567', {
      body: '<xml>hello</xml>',
      contentType: 'application/xml',
    });
    for (const id of [g729, malformed, noMedia])
      assert.equal((await finalResponse(id, 8000)).status, 488, id);
    const r415 = await finalResponse(notSdp);
    assert.equal(r415.status, 415);
    assert.match(r415.raw, /^Accept: application\/sdp$/im);
    const unknown = drachtio.invite('112', '+79001234567');
    assert.equal((await finalResponse(unknown)).status, 404);
    assert.equal(fs.upChannels.length, 0, 'no channel left by a refused call');
  });

  it('does not log a command for a channel that is gone at error level after the caller hangs up', async () => {
    await restart({ hangupEventDelayMs: 200 });
    const { conn, uuid } = await answeredCall();
    // The caller hangs up just as the bot starts to speak: the play command meets a channel that is gone.
    fs.afterForkMessage = (channel) => fs.hangup(channel);
    conn.send({
      type: 'playAudio',
      data: { audioContentType: 'raw', sampleRate: 8000, audioContent: 'AAAA' },
    });
    await eventually(() => !fs.channels.get(uuid)?.up, 'caller gone');
    await eventually(
      async () => (await getCall(db.sql, String(conn.metadata.callId)))?.sip?.endedAt,
      'the call-detail record is closed once the hang-up event came',
    );
    assert.ok(
      logs.some((l) => /audio not played: the channel is gone/.test(l.msg)),
      'said at debug level',
    );
    const errors = logs.filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], 'nothing at error level');
  });
  const closedCdr = (callId: string) =>
    eventually(async () => {
      const sip = (await getCall(db.sql, callId))?.sip;
      return sip?.endedAt ? sip : undefined;
    }, 'call-detail record closed');
  const completeRecording = (callId: string) =>
    eventually(async () => {
      const [rec] = await recordingsOfCall(db.sql, callId);
      return rec?.state === 'complete' ? rec : undefined;
    }, 'recording complete');

  /** A 37-second call in which the caller barges in on the bot three times, then hangs up. */
  async function callWithBargeIns() {
    const { callId, conn, uuid } = await answeredCall();
    const clip = Buffer.from(new Int16Array(800).fill(500).buffer).toString('base64');
    for (let i = 0; i < 3; i++) {
      t += 4000;
      const before = fs.played.length;
      conn.send({
        type: 'playAudio',
        data: { audioContentType: 'raw', sampleRate: 8000, audioContent: clip },
      });
      await eventually(() => fs.played.length > before, 'the bot speaks');
      const breaks = fs.commands.filter((c) => c.startsWith(`uuid_break ${uuid}`)).length;
      conn.send({ type: 'killAudio' });
      await eventually(
        () => fs.commands.filter((c) => c.startsWith(`uuid_break ${uuid}`)).length > breaks,
        'the caller barges in',
      );
    }
    t += 25_000;
    drachtio.bye(callId);
    return { callId: String(conn.metadata.callId), uuid };
  }

  it('records the whole call however often the caller barges in: the file is as long as the CDR', async () => {
    const { callId, uuid } = await callWithBargeIns();
    const cdr = await closedCdr(callId);
    assert.equal(cdr.durationMs, 37_000);
    const rec = await completeRecording(callId);
    assert.ok(
      Math.abs((rec.durationMs ?? 0) - (cdr.durationMs ?? 0)) <= 1000,
      `recording ${rec.durationMs} ms, call ${cdr.durationMs} ms`,
    );
    assert.ok(!fs.commands.some((c) => c.startsWith(`uuid_record ${uuid} stop`)), 'never stopped mid-call');
    for (const v of ['RECORD_STEREO true', 'record_sample_rate 8000'])
      assert.ok(fs.commands.includes(`uuid_setvar ${uuid} ${v}`), v);
    assert.ok(!logs.some((l) => /recording shorter/.test(l.msg)));
  });

  it('records through a hold, and a caller silent on hold for 10 minutes is not cut off', async () => {
    // FreeSWITCH's own hold handling stops reading a held leg (the recording stops with it); without it, the
    // caller's 5-minute media_timeout would hang up a phone that sends nothing while it holds.
    const { callId, answer, conn, uuid } = await answeredCall();
    t += 2000;
    const hold = await drachtio.reinvite(callId, carrierSdp({ version: 2, direction: 'inactive' }));
    assert.equal(hold.status, 200, hold.raw);
    assert.notEqual(originVersion(sdpOf(hold)), originVersion(sdpOf(answer)));
    t += 10 * 60_000;
    fs.silence(uuid, 10 * 60_000);
    assert.equal(fs.channels.get(uuid)?.hangupCause, null, 'the caller is still on the line after the hold');
    const unhold = await drachtio.reinvite(callId, carrierSdp({ version: 3 }), 4);
    assert.equal(unhold.status, 200);
    // Back from the hold, a phone that goes dead is hung up after the usual 5 minutes.
    fs.silence(uuid, 5 * 60_000);
    assert.equal(fs.channels.get(uuid)?.hangupCause, 'MEDIA_TIMEOUT');
    const cdr = await closedCdr(String(conn.metadata.callId));
    const rec = await completeRecording(String(conn.metadata.callId));
    assert.ok(
      Math.abs((rec.durationMs ?? 0) - (cdr.durationMs ?? 0)) <= 1000,
      `recording ${rec.durationMs} ms, call ${cdr.durationMs} ms`,
    );
  });

  it('says so at error level when FreeSWITCH wrote a recording shorter than the call', async () => {
    await restart({ cutRecordingsAtMs: 10_100 });
    const { callId } = await callWithBargeIns();
    await closedCdr(callId);
    const rec = await completeRecording(callId);
    assert.equal(rec.durationMs, 10_100);
    const said = await eventually(
      () => logs.find((l) => /recording shorter than the call/.test(l.msg)),
      'said',
    );
    assert.equal(said.level, 50);
  });
});
