/**
 * Voice-bot sessions behind the real media socket, on PostgreSQL with the shipped KB and the real NLU: what
 * a call record and FreeSWITCH's side of the socket show when a caller hangs up in a burst of audio before
 * the session has started, and when a session fails (its socket closes, and telephony, through the ESL
 * stand-in for FreeSWITCH, takes the caller to the operator queue or a recorded message), and who may
 * start the relay of an agency's answer (only telephony's own outbound calls).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { getCall, getTurns, listCalls } from '../calls/records.js';
import { createLogger, type Logger, silentLogger } from '../core/log.js';
import { CallControl } from '../telephony/call-control.js';
import { FreeswitchControl } from '../telephony/fsmrf.js';
import { OperatorQueue } from '../telephony/queue.js';
import { FakeFreeswitch, silentPromptFiles } from '../telephony/testing/fake-freeswitch.js';
import { FsClient } from '../voicebot/channels/media/fs-client.js';
import type { MediaLeg } from '../voicebot/channels/media/media-leg.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { type DialogKnowledge, openDialogKnowledge } from '../voicebot/dialog-knowledge.js';
import { runCall, type SessionDeps } from '../voicebot/session.js';
import { openTestDb, type TestDb } from './support/db.js';
import { seedInquiry } from './support/inquiries.js';

/** MEDIA_SOCKET_SECRET, shared by telephony and the voice bot's media socket. */
const SECRET = 'media-socket-test-secret';

/** A logger whose entries the test reads. */
function capturingLogger(): { log: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) entries.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), entries };
}

async function eventually<T>(
  check: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  what: string,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('voice-bot sessions on the media socket (PostgreSQL)', () => {
  let db: TestDb;
  let engine: DialogKnowledge;
  let media: MediaSocket;
  let url: string;
  const logged = capturingLogger();
  /** What the socket's onCall does with the next call (the test decides when the session starts). */
  let onCall: (leg: MediaLeg, deps: SessionDeps) => Promise<unknown> | undefined = (leg, deps) =>
    runCall(leg, deps);

  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let calls: CallControl;
  let queue: OperatorQueue;
  let prompts: ReturnType<typeof silentPromptFiles>;
  let dir: string;

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-media-sessions-'));
    const modelDir = join(tmpdir(), 'otklik-test-media-sessions-nlu');
    mkdirSync(modelDir, { recursive: true });
    engine = await openDialogKnowledge(db.sql, logged.log, { modelDir });
    const deps: SessionDeps = {
      kb: engine.kb,
      nlu: engine.nlu,
      sql: db.sql,
      handOff: new OperatorQueue(db.sql, { waitNormMs: 60_000 }),
      log: logged.log,
      now: () => new Date('2026-11-24T11:00:00+03:00'),
      instanceId: 'voicebot-2',
    };
    media = await startMediaSocket({
      port: 0,
      log: logged.log,
      auth: { secret: SECRET },
      onCall: (leg) => onCall(leg, deps),
    });
    url = `ws://127.0.0.1:${media.port}`;

    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    prompts = silentPromptFiles(dir);
    queue = new OperatorQueue(db.sql, { waitNormMs: 60_000 });
    calls = new CallControl({
      sql: db.sql,
      instanceId: 'telephony-1',
      control,
      queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: `${url}/`,
      mediaSocketSecret: SECRET,
      forwardTimeoutMs: 5_000,
      prompts,
    });
  });
  after(async () => {
    calls?.release();
    control?.close();
    await fs?.stop();
    await media?.close();
    await engine?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A call answered by telephony on the fake FreeSWITCH and forked to the bot's media socket. */
  async function telephonyCall(callId: string, from: string) {
    const uuid = fs.addChannel();
    await calls.handleInbound(uuid, { callId, from, to: '122', startedAt: new Date(), channel: 'sip' });
    return uuid;
  }

  it('a caller who hangs up after 1 500 events, before the session subscribed, gets the call record closed', async () => {
    const callId = randomUUID();
    // The session starts only after the hang-up arrived: the slowest start there can be.
    const hungUp = new Promise<MediaLeg>((resolve) => {
      onCall = (leg, deps) => {
        const session = eventually(() => leg.ended, 'the hang-up reaches the leg').then(() =>
          runCall(leg, deps),
        );
        resolve(leg);
        return session;
      };
    });
    const client = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId, from: '+79001234567', to: '122' },
    });
    for (let i = 0; i < 1500; i++) client.sendRaw(Buffer.alloc(320));
    client.sendRaw(JSON.stringify({ event: 'hangup' }));
    const leg = await hungUp;
    await eventually(() => leg.ended, 'the leg sees the hang-up');
    const call = await eventually(async () => {
      const c = await getCall(db.sql, callId);
      return c && c.status !== 'active' && c;
    }, 'the call record is closed');
    assert.equal(call.status, 'completed');
    assert.ok(
      logged.entries.some((e) => e.callId === callId && /dropped/.test(String(e.msg)) && e.level === 40),
      'the dropped audio is logged',
    );
    await client.hangup();
  });

  it('a session that fails at its start (duplicate call id, NUL in the caller number) closes its socket with 1011', async () => {
    onCall = (leg, deps) => runCall(leg, deps);
    const callId = randomUUID();
    const first = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId, from: '+79001112233', to: '122' },
    });
    await eventually(async () => (await getCall(db.sql, callId))?.status === 'active', 'the first call runs');

    const duplicate = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId, from: '+79004445566', to: '122' },
    });
    await Promise.race([duplicate.whenClosed(), new Promise((r) => setTimeout(r, 5000))]);
    assert.equal(duplicate.closeCode, 1011, 'the duplicate is closed as a failure, not left in silence');
    assert.match(duplicate.closeReason, /session failed/);
    assert.equal(duplicate.count('disconnect'), 0, 'FreeSWITCH is not asked to hang the caller up');
    assert.equal((await getCall(db.sql, callId))?.status, 'active', 'the first call is untouched');
    assert.equal(first.closed, false);

    const nul = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId: randomUUID(), from: '+7900\u0000123' },
    });
    await Promise.race([nul.whenClosed(), new Promise((r) => setTimeout(r, 5000))]);
    assert.equal(nul.closeCode, 1011);
    assert.ok(
      logged.entries.some((e) => e.level === 50 && /session failed/.test(String(e.msg))),
      'the failure is logged',
    );
    await first.hangup();
  });

  it('a phone call telephony answers and the bot talks on is one call record: SIP facts and dialog outcome', async () => {
    onCall = (leg, deps) => runCall(leg, deps);
    const callId = randomUUID();
    const uuid = await telephonyCall(callId, '+79001234567');
    await eventually(
      async () => (await getTurns(db.sql, callId)).some((t) => t.who === 'bot'),
      'the bot greets the caller',
    );
    const live = await getCall(db.sql, callId);
    assert.equal(live?.status, 'active');
    assert.equal(live?.flowId, 'default', 'the dialog is on the row telephony wrote at INVITE');
    assert.equal(live?.sip?.direction, 'inbound');
    // The call lives as long as its SIP leg: the instance holding it owns it, not the bot's instance.
    assert.equal(live?.instanceId, 'telephony-1');

    fs.hangup(uuid);
    const call = await eventually(async () => {
      const c = await getCall(db.sql, callId);
      return c?.outcome && c.sip?.endedAt && c;
    }, 'telephony and the bot both closed their side of the record');
    assert.equal(call.channel, 'sip');
    assert.equal(call.callerNumber, '+79001234567');
    assert.equal(call.status, 'completed');
    assert.equal(call.outcome, 'hangup', "the dialog's outcome: the caller left before an answer");
    assert.equal(call.sip?.channelUuid, uuid);
    assert.equal(call.sip?.endReason, 'caller_hangup');
    assert.ok(call.sip?.answeredAt, 'answered at INVITE');
    assert.equal((await listCalls(db.sql, 500)).filter((c) => c.id === callId).length, 1);
  });

  it('telephony takes the caller of a failed session to the queue with the apology, or to the recorded message', async () => {
    onCall = (leg, deps) => runCall(leg, deps);
    // A call id the bot already has an open record for: its session cannot start.
    const callId = randomUUID();
    const first = await FsClient.connect({
      url,
      secret: SECRET,
      metadata: { callId, from: '+79001112233', to: '122' },
    });
    await eventually(async () => (await getCall(db.sql, callId))?.status === 'active', 'the first call runs');
    const uuid = await telephonyCall(callId, '+79007778899');
    await eventually(
      () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback),
      'the caller hears the apology',
    );
    await eventually(
      async () => (await queue.callState(callId))?.state === 'waiting',
      'the caller waits in the queue',
    );
    assert.equal(fs.channels.get(uuid)!.up, true, 'the caller is not dropped');
    fs.hangup(uuid);
    await first.hangup();

    // NUL in the caller number: the bot's store refuses it, and so does the queue's; the caller hears the
    // recorded message instead of silence.
    const nulUuid = await telephonyCall(randomUUID(), '+7900\u0000123');
    await eventually(
      () => fs.played.some((p) => p.uuid === nulUuid && p.file === prompts.service_unavailable),
      'the caller hears the recorded message',
    );
    await eventually(() => fs.channels.get(nulUuid)?.up === false, 'the call ends after the message');
  });

  describe('the relay of an agency answer', () => {
    const answer = 'Направление на МРТ выдаёт лечащий врач поликлиники по месту прикрепления.';
    const answeredInquiry = () =>
      seedInquiry(db.sql, {
        question: 'можно ли получить направление на мрт без очереди',
        topicId: 'health',
        receivedAt: new Date('2026-11-20T10:05:00+03:00'),
        answer,
      });
    const inquiryStatus = async (id: number) =>
      (await db.sql.query<{ status: string }>('SELECT status FROM inquiries WHERE id = $1', [id]))[0]!.status;
    const flowOf = async (callId: string) => (await getCall(db.sql, callId))?.flowId;

    it('a plain WebSocket asking for inquiry-answer is refused (1008, logged) and the inquiry stays open', async () => {
      onCall = (leg, deps) => runCall(leg, deps);
      const id = await answeredInquiry();
      const ws = new WebSocket(url, 'audio.drachtio.org');
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      const heard: string[] = [];
      ws.on('message', (data) => heard.push(String(data)));
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ flowId: 'inquiry-answer', inquiryId: id }));
      assert.equal(await closed, 1008);
      assert.deepEqual(heard, [], 'nothing was said to it');
      assert.equal(await inquiryStatus(id), 'answered');
      assert.ok(
        logged.entries.some(
          (e) => e.level === 40 && /refused/.test(String(e.msg)) && e.problem === 'unsigned',
        ),
        'the refusal is logged',
      );
    });

    it('an inbound call whose metadata names inquiry-answer runs the default flow: no answer, inquiry open', async () => {
      onCall = (leg, deps) => runCall(leg, deps);
      const id = await answeredInquiry();
      const callId = randomUUID();
      // Even signed as telephony signs an inbound call, the flow id does not count.
      const client = await FsClient.connect({
        url,
        secret: SECRET,
        metadata: {
          callId,
          from: '+79990001122',
          to: '122',
          direction: 'inbound',
          flowId: 'inquiry-answer',
          inquiryId: id,
        },
      });
      await eventually(
        async () => (await getTurns(db.sql, callId)).some((t) => t.who === 'bot'),
        'the bot greets',
      );
      assert.equal(await flowOf(callId), 'default');
      await client.hangup();
      await eventually(async () => (await getCall(db.sql, callId))?.status === 'completed', 'the call ends');
      const said = (await getTurns(db.sql, callId)).filter((t) => t.who === 'bot').map((t) => t.text);
      assert.ok(!said.some((t) => t.includes(answer)), said.join('\n'));
      assert.equal(await inquiryStatus(id), 'answered', 'the inquiry is not closed');
    });

    it('telephony’s own outbound call runs inquiry-answer: the answer is said and the inquiry closed', async () => {
      onCall = (leg, deps) => runCall(leg, deps);
      const id = await answeredInquiry();
      fs.dialOutcomes.set('sofia/external/citizen@10.0.0.5', 'answer');
      const placed = await calls.placeOutbound({
        target: 'sip:citizen@10.0.0.5',
        from: '122',
        flowId: 'inquiry-answer',
        metadata: { inquiryId: id },
      });
      assert.deepEqual(placed.result, { status: 'answered' });
      await eventually(
        async () => (await inquiryStatus(id)) === 'closed',
        'the inquiry is closed by the relay',
      );
      assert.equal(await flowOf(placed.callId), 'inquiry-answer');
      const said = (await getTurns(db.sql, placed.callId)).filter((t) => t.who === 'bot').map((t) => t.text);
      assert.ok(said.some((t) => t.includes(answer)));
      if (placed.leg && !placed.leg.ended) fs.hangup(placed.leg.uuid);
    });
  });
});
