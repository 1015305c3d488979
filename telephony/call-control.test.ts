import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createCall, endCall, getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { createContentEditor } from '../kb/content-editor.js';
import { smallFixture } from '../kb/fixtures/index.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { importKb } from '../kb/transfer.js';
import type { CallMetadata } from '../media/call-leg.js';
import { isOutboundFork, verifyForkMetadata } from '../media/fork-auth.js';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
import { CallControl } from './call-control.js';
import { FreeswitchControl } from './fsmrf.js';
import { OperatorQueue } from './queue.js';
import { recordingsOfCall } from './records.js';
import { BotSocket, eventually } from './testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from './testing/fake-freeswitch.js';

const OPERATOR = 'sip:ivanova@10.0.0.21';
const AGENCY = '+74951230000';
/** The media socket's secret (MEDIA_SOCKET_SECRET) in this test. */
const SECRET = 'media-socket-test-secret';

// The queue's SQL runs on both backends in queue.test.ts; the call flow here runs on PostgreSQL (PGlite's
// start-up would double this file's time on the shared CI machine for no extra coverage).
for (const backend of backends.filter((b) => b === 'postgres')) {
  describe(`call control over the FreeSWITCH event socket (${backend})`, () => {
    let db: TestDb;
    let fs: FakeFreeswitch;
    let bot: BotSocket;
    let botUrl: string;
    let control: FreeswitchControl;
    let dir: string;
    let t: number;
    const now = () => new Date(t);
    let queue: OperatorQueue;
    let calls: CallControl;
    let prompts: ReturnType<typeof silentPromptFiles>;

    before(async () => {
      db = await openTestDb(backend);
      dir = mkdtempSync(join(tmpdir(), 'otklik-callctl-'));
      fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs'), now: () => t });
      await fs.start();
      bot = new BotSocket();
      botUrl = await bot.start();
      control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
      prompts = silentPromptFiles(dir);
      fs.dialOutcomes.set('sofia/external/ivanova@10.0.0.21', 'answer');
    });
    after(async () => {
      control.close();
      await bot.stop();
      await fs.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      t = Date.parse('2026-03-02T10:00:00Z');
      queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
      await queue.upsertOperator({ id: 'ivanova', name: 'Иванова', sipUri: OPERATOR, skills: ['health'] });
      await queue.setOperatorState('ivanova', 'offline');
      calls = makeCalls(botUrl);
    });
    afterEach(() => calls.release());

    function makeCalls(mediaSocketUrl: string | undefined) {
      return new CallControl({
        sql: db.sql,
        control,
        queue,
        log: silentLogger,
        recordingsDir: join(dir, 'recordings'),
        audioDir: join(dir, 'audio'),
        mediaSocketUrl,
        mediaSocketSecret: SECRET,
        instanceId: 'telephony-test',
        trunk: 'sofia/gateway/carrier',
        forwardTimeoutMs: 20_000,
        prompts,
        now,
      });
    }

    async function closedCdr(callId: string) {
      return eventually(async () => {
        const sip = (await getCall(db.sql, callId))?.sip;
        return sip?.endedAt ? sip : undefined;
      }, 'call-detail record closed');
    }

    async function incoming(from = '+79001234567') {
      const uuid = fs.addChannel();
      const meta: CallMetadata = { callId: randomUUID(), from, to: '122', startedAt: now(), channel: 'sip' };
      const leg = await calls.handleInbound(uuid, meta);
      return { uuid, callId: meta.callId, leg };
    }

    it('answers, records in stereo, forks audio with metadata, plays bot audio, relays DTMF, writes the CDR', async () => {
      const { uuid, callId } = await incoming();
      assert.ok(fs.commands.includes(`uuid_setvar ${uuid} RECORD_STEREO true`));
      assert.ok(
        fs.commands.some((c) => c.startsWith(`uuid_record ${uuid} start `) && c.endsWith(`${callId}.wav`)),
      );
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      assert.equal(conn.metadata.from, '+79001234567');
      assert.equal(conn.metadata.to, '122');
      assert.equal(conn.metadata.sampleRate, 8000);
      assert.ok(
        fs.commands.some((c) =>
          c.startsWith(`uuid_audio_fork ${uuid} start ${botUrl} mono 8k {"callId":"${callId}"`),
        ),
      );

      const greeting = new Int16Array(1600).fill(1000);
      conn.send({
        type: 'playAudio',
        data: {
          audioContentType: 'raw',
          sampleRate: 8000,
          audioContent: Buffer.from(greeting.buffer).toString('base64'),
        },
      });
      const played = await eventually(
        () => fs.played.find((p) => p.uuid === uuid),
        'bot audio is played to the caller',
      );
      assert.match(played.file, /\.r8$/);

      fs.dtmf(uuid, '3');
      const dtmf = await eventually(
        () => conn.texts.find((m) => m.event === 'dtmf'),
        'bot hears the key press',
      );
      assert.equal(dtmf.dtmf, '3');

      conn.send({ type: 'killAudio' });
      await eventually(() => fs.commands.includes(`uuid_break ${uuid} all`), 'barge-in stops playback');

      t += 42_000;
      fs.hangup(uuid);
      const cdr = await closedCdr(callId);
      assert.equal(cdr.durationMs, 42_000);
      assert.equal(cdr.endReason, 'caller_hangup');
      assert.equal(cdr.direction, 'inbound');
      const [rec] = await eventually(async () => {
        const recs = await recordingsOfCall(db.sql, callId);
        return recs[0]?.state === 'complete' && recs;
      }, 'recording finished');
      // The recording covers the whole call: as long as the call-detail record says.
      assert.equal(rec!.durationMs, cdr.durationMs);
      assert.match(rec!.sha256!, /^[0-9a-f]{64}$/);
      assert.deepEqual(rec!.legs, ['caller', 'bot']);
      assert.equal(calls.activeCount, 0);
    });

    it('forwards to an agency: busy and no answer come back to the bot, an answer bridges and ends the fork', async () => {
      const { uuid, callId } = await incoming();
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      const dial = `sofia/gateway/carrier/${AGENCY}`;

      fs.dialOutcomes.set(dial, 'USER_BUSY');
      conn.send({ type: 'transfer', data: { target: AGENCY } });
      const busy = await eventually(() => conn.texts.find((m) => m.type === 'transferResult'), 'busy result');
      assert.deepEqual(busy.data, { status: 'busy' });

      fs.dialOutcomes.set(dial, 'NO_ANSWER');
      conn.send({ type: 'transfer', data: { target: AGENCY } });
      const noAnswer = await eventually(
        () => conn.texts.filter((m) => m.type === 'transferResult')[1],
        'no-answer result',
      );
      assert.deepEqual(noAnswer.data, { status: 'no_answer' });
      assert.equal(conn.closed, false, 'the caller stays with the bot');

      fs.dialOutcomes.set(dial, 'answer');
      conn.send({ type: 'transfer', data: { target: AGENCY } });
      const answered = await eventually(
        () => conn.texts.filter((m) => m.type === 'transferResult')[2],
        'answer result',
      );
      assert.deepEqual(answered.data, { status: 'answered' });
      await eventually(() => conn.closed, 'the fork is stopped once bridged');
      assert.ok(fs.commands.some((c) => c.startsWith(`uuid_bridge ${uuid} `)));
      assert.ok(fs.channels.get(uuid)!.bridgedTo);

      fs.hangup(uuid);
      const cdr = await closedCdr(callId);
      assert.equal(cdr.outcome, 'forwarded');
      assert.deepEqual(
        cdr.legs.map((l) => [l.kind, l.target, l.status]),
        [
          ['agency', AGENCY, 'busy'],
          ['agency', AGENCY, 'no_answer'],
          ['agency', AGENCY, 'answered'],
        ],
      );
      const [rec] = await recordingsOfCall(db.sql, callId);
      assert.deepEqual(rec!.legs, ['caller', 'bot', `agency:${AGENCY}`]);
    });

    it('when the bot crashes mid-call, plays the apology and bridges the caller to an operator', async () => {
      const { uuid, callId } = await incoming();
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      conn.ws.terminate();
      await eventually(
        () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback),
        'the caller hears the recorded apology',
      );
      assert.equal((await queue.callState(callId))?.state, 'waiting');
      await eventually(
        () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.queue_wait),
        'hold message',
      );

      await queue.setOperatorState('ivanova', 'available');
      await calls.tick();
      assert.equal((await queue.callState(callId))?.state, 'answered');
      assert.ok(
        fs.commands.some((c) => c.startsWith(`uuid_bridge ${uuid} `)),
        'caller bridged to the operator',
      );
      assert.equal((await queue.operator('ivanova'))?.state, 'on_call');
      assert.ok(
        !fs.commands.some((c) => c.startsWith(`uuid_record ${uuid} stop`)),
        'recording goes on through the bridge',
      );

      fs.hangup(uuid);
      await eventually(
        async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
        'the operator wraps the call up',
      );
      t += 10_000;
      await calls.tick();
      assert.equal((await queue.operator('ivanova'))?.state, 'available', 'free again after the wrap-up');
      const cdr = await closedCdr(callId);
      assert.equal(cdr.outcome, 'operator');
      assert.deepEqual(
        cdr.legs.map((l) => l.kind),
        ['bot', 'operator'],
      );
      const [rec] = await recordingsOfCall(db.sql, callId);
      assert.deepEqual(rec!.legs, ['caller', 'bot', 'operator:ivanova']);
    });

    it('hangs up when the bot ends the call itself (its call record closed first)', async () => {
      const { uuid, callId } = await incoming();
      const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
      // What the voice bot writes: its dialog on the call's row, closed with the outcome before it hangs up.
      await createCall(db.sql, {
        id: callId,
        channel: 'media',
        callerNumber: '+79001234567',
        dialledNumber: '122',
        startedAt: now(),
        flowId: 'default',
        instanceId: 'voicebot-elsewhere',
      });
      await endCall(db.sql, callId, 'answered', now());
      conn.send({ type: 'disconnect' });
      conn.ws.close();
      await eventually(() => fs.commands.includes(`uuid_kill ${uuid} NORMAL_CLEARING`), 'caller hung up');
      const cdr = await closedCdr(callId);
      assert.equal(cdr.outcome, 'bot');
      // One record: the line's facts and the dialog's outcome on the same row, owned by this telephony.
      const call = await getCall(db.sql, callId);
      assert.deepEqual(
        [call?.channel, call?.outcome, call?.flowId, call?.status, call?.instanceId],
        ['sip', 'answered', 'default', 'completed', 'telephony-test'],
      );
      assert.equal(await queue.callState(callId), null, 'nobody queued');
      assert.ok(!fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback));
    });

    it('queues the caller when the media socket cannot be reached at all', async () => {
      calls = makeCalls('ws://127.0.0.1:1/unreachable');
      const { uuid, callId } = await incoming();
      await eventually(async () => (await queue.callState(callId))?.state === 'waiting', 'call queued');
      await eventually(
        () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.technical_fallback),
        'apology',
      );
      fs.hangup(uuid);
      await eventually(
        async () => (await queue.callState(callId))?.state === 'abandoned',
        'abandoned on hang-up',
      );
      assert.equal((await closedCdr(callId)).outcome, 'abandoned');
    });

    it('puts the call back in the queue when the operator does not pick up', async () => {
      calls = makeCalls(undefined);
      fs.dialOutcomes.set('sofia/external/ivanova@10.0.0.21', 'NO_ANSWER');
      try {
        const { uuid, callId } = await incoming();
        // The call's arrival starts a dispatch round of its own (with the hold music): let it run while nobody
        // is available, so that exactly one round below offers the call to her.
        await eventually(
          () => fs.played.some((p) => p.uuid === uuid && p.file === prompts.queue_wait),
          'caller on hold',
        );
        await calls.tick();
        await queue.setOperatorState('ivanova', 'available');
        await calls.tick();
        assert.equal((await queue.callState(callId))?.state, 'waiting');
        // One ring without an answer: she stays available, at the end of the line (max-no-answer: a break).
        const ivanova = await queue.operator('ivanova');
        assert.equal(ivanova?.state, 'available');
        assert.equal(ivanova?.noAnswerCount, 1);
        assert.equal(fs.channels.get(uuid)!.up, true, 'the caller is still on the line');
        fs.hangup(uuid);
      } finally {
        fs.dialOutcomes.set('sofia/external/ivanova@10.0.0.21', 'answer');
      }
    });

    it('never hangs up on a caller nobody picked up: past twice the norm the hold message goes on', async () => {
      calls = makeCalls(undefined);
      const { uuid, callId } = await incoming('+79005554433');
      await eventually(() => fs.played.some((p) => p.uuid === uuid && p.file === prompts.queue_wait), 'hold');
      t += 120_000;
      await calls.tick();
      // Without the prompts' TTS the position cannot be said: the recorded hold message stands in for it.
      await eventually(
        () => fs.played.filter((p) => p.uuid === uuid && p.file === prompts.queue_wait).length === 2,
        'the hold message again',
      );
      assert.equal(fs.channels.get(uuid)!.up, true, 'still on the line');
      assert.equal((await queue.callState(callId))?.state, 'waiting');
      fs.hangup(uuid);
      assert.equal((await closedCdr(callId)).outcome, 'abandoned');
    });

    it('places an outbound call and runs a flow on it; an unreachable number is recorded as such', async () => {
      fs.dialOutcomes.set('sofia/gateway/carrier/+79001110000', 'USER_BUSY');
      const busy = await calls.placeOutbound({ target: '+79001110000', from: '122', flowId: 'callback' });
      assert.deepEqual(busy.result, { status: 'busy' });
      assert.equal((await getCall(db.sql, busy.callId))?.sip?.outcome, 'not_reached');

      fs.dialOutcomes.set('sofia/gateway/carrier/+79001112233', 'answer');
      const ok = await calls.placeOutbound({
        target: '+79001112233',
        from: '122',
        flowId: 'inquiry_answer',
        metadata: { inquiryId: 17 },
      });
      assert.deepEqual(ok.result, { status: 'answered' });
      const conn = await eventually(() => bot.byCall(ok.callId), 'bot runs the flow');
      assert.equal(conn.metadata.flowId, 'inquiry_answer');
      assert.equal(conn.metadata.direction, 'outbound');
      assert.equal(conn.metadata.inquiryId, 17);
      // Signed with the shared secret, so the voice bot knows telephony placed this call and chose its flow.
      const verdict = verifyForkMetadata(conn.metadata, SECRET);
      assert.ok(verdict.ok && isOutboundFork(verdict.metadata), 'the outbound fork is signed');
      assert.equal(verifyForkMetadata({ ...conn.metadata, direction: 'inbound' }, SECRET).ok, false);
      assert.equal((await getCall(db.sql, ok.callId))?.sip?.direction, 'outbound');
      fs.hangup(ok.leg!.uuid);
    });

    it('drains: refuses new calls, waits for calls in progress, then hands the rest to the queue', async () => {
      const first = await incoming();
      setTimeout(() => fs.hangup(first.uuid), 30);
      const done = await calls.drain(5000);
      assert.deepEqual(done, { finished: true, handedOver: [] });
      assert.equal(calls.accepting, false);

      calls = makeCalls(botUrl);
      const second = await incoming();
      const late = await calls.drain(50);
      assert.deepEqual(late, { finished: false, handedOver: [second.callId] });
      assert.equal((await queue.callState(second.callId))?.state, 'waiting');

      // Another telephony instance takes the handed-over call by its channel uuid.
      calls.release();
      const other = makeCalls(botUrl);
      await queue.setOperatorState('ivanova', 'available');
      await other.tick();
      assert.equal((await queue.callState(second.callId))?.state, 'answered');
      assert.ok(fs.commands.some((c) => c.startsWith(`uuid_bridge ${second.uuid} `)));
      fs.hangup(second.uuid);
      await eventually(
        async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
        'the operator wraps the call up',
      );
      t += 10_000;
      await other.tick();
      assert.equal((await queue.operator('ivanova'))?.state, 'available', 'free again after the wrap-up');
      other.release();
      assert.ok(existsSync(join(dir, 'recordings')));
    });

    it('runs the flow the KB lists for the dialled number: 117 its own, an unlisted number default', async () => {
      await importKb(db.sql, [smallFixture()]);
      const content = createContentEditor(db.sql);
      await content.saveFlow('line_117', {
        title: 'Линия 117',
        steps: [{ id: 'bye', type: 'hangup', prompt: 'greeting' }],
      });
      await content.saveNumber({ number: '117', title: 'Короткий номер', flow: 'line_117' });
      const withKb = new CallControl({
        sql: db.sql,
        control,
        queue,
        log: silentLogger,
        recordingsDir: join(dir, 'recordings'),
        audioDir: join(dir, 'audio'),
        mediaSocketUrl: botUrl,
        mediaSocketSecret: SECRET,
        instanceId: 'telephony-test',
        trunk: 'sofia/gateway/carrier',
        forwardTimeoutMs: 20_000,
        prompts,
        kb: createKnowledgeBase(db.sql),
        now,
      });
      const dial = async (to: string) => {
        const uuid = fs.addChannel();
        const callId = randomUUID();
        await withKb.handleInbound(uuid, {
          callId,
          from: '+79001234567',
          to,
          startedAt: now(),
          channel: 'sip',
        });
        const conn = await eventually(() => bot.byCall(callId), `the bot gets the call to ${to}`);
        fs.hangup(uuid);
        await closedCdr(callId);
        return conn.metadata;
      };
      const to117 = await dial('sip:117@10.0.0.1');
      assert.equal(to117.flowId, 'line_117');
      // Signed: the voice bot runs the flow telephony named (voicebot/channels/media/server.ts).
      const verdict = verifyForkMetadata(to117, SECRET);
      assert.ok(verdict.ok && verdict.metadata.flowId === 'line_117');
      assert.equal((await dial('0300')).flowId, undefined, 'a configured number the KB does not list');
      assert.equal(await withKb.flowForNumber('+7 117'), null);
      withKb.release();
    });
  });
}
