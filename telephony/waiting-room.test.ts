import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import type { CallMetadata } from '../media/call-leg.js';
import type { HandOffContext } from '../media/handoff.js';
import { openTestDb, type TestDb } from '../test/support/db.js';
import { CallControl } from './call-control.js';
import { FreeswitchControl } from './fsmrf.js';
import { callerPriority } from './priority.js';
import { OperatorQueue } from './queue.js';
import { recordingsOfCall } from './records.js';
import { BotSocket, eventually } from './testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from './testing/fake-freeswitch.js';
import { RecordingTts } from './testing/tts-stand-in.js';

const IVANOVA = 'sip:ivanova@10.0.0.21';
const IVANOVA_DIAL = 'sofia/external/ivanova@10.0.0.21';
const SECRET = 'media-socket-test-secret';
const HOLD_MS = 20_000;

function context(callerNumber: string | null, reason = 'caller_request'): HandOffContext {
  return { reason, callerNumber, topic: null, intents: [], entities: [], transcript: [], answers: [] };
}

// The caller's side of waiting for a person, on the phone, through the FreeSWITCH stand-in (it speaks the
// event-socket protocol); PostgreSQL only, as call-control.test.ts (the queue's SQL runs on both backends there).
describe('waiting for an operator on the phone (postgres)', () => {
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
  let tts: RecordingTts;
  let prompts: ReturnType<typeof silentPromptFiles>;
  const ups: string[] = [];
  /** Where this test's FreeSWITCH commands begin (the stand-in keeps the whole file's). */
  let since = 0;

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-waiting-'));
    // Files take a while to play, as announcements do: a key pressed meanwhile must not answer an unheard offer.
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs'), playbackMs: 300 });
    await fs.start();
    bot = new BotSocket();
    botUrl = await bot.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    prompts = silentPromptFiles(dir);
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
    await db.sql.exec(
      `DELETE FROM telephony_acd_offers; DELETE FROM telephony_queue_calls; DELETE FROM telephony_callbacks;
       DELETE FROM telephony_acd_members; DELETE FROM telephony_operators; DELETE FROM telephony_acd_queues
        WHERE id <> 'default';
       UPDATE telephony_acd_queues SET overflow_after_ms = NULL, overflow_to = NULL, announce_max = NULL;`,
    );
    queue = new OperatorQueue(db.sql, {
      waitNormMs: 60_000,
      now,
      priorityOf: callerPriority({ vipNumbers: ['8 (900) 111-22-33'] }),
    });
    await queue.upsertOperator({ id: 'ivanova', name: 'Иванова', sipUri: IVANOVA, skills: [] });
    await queue.setMember('default', 'ivanova');
    fs.dialOutcomes.set(IVANOVA_DIAL, 'answer');
    tts = new RecordingTts();
    calls = makeCalls(undefined);
    since = fs.commands.length;
  });
  afterEach(() => {
    calls.release();
    for (const uuid of ups.splice(0)) fs.hangup(uuid);
  });

  function makeCalls(mediaSocketUrl: string | undefined) {
    return new CallControl({
      sql: db.sql,
      control,
      queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      promptsDir: join(dir, 'spoken'),
      mediaSocketUrl,
      mediaSocketSecret: SECRET,
      instanceId: 'telephony-test',
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      holdRepeatMs: HOLD_MS,
      prompts,
      tts,
      now,
    });
  }

  async function incoming(from = '+79005554433') {
    const uuid = fs.addChannel();
    ups.push(uuid);
    const meta: CallMetadata = { callId: randomUUID(), from, to: '122', startedAt: now(), channel: 'sip' };
    const leg = await calls.handleInbound(uuid, meta);
    return { uuid, callId: meta.callId, leg };
  }

  /** A caller queued without the bot: the hold message has started and the call's own round has run. */
  async function waitingCaller(from?: string) {
    const c = await incoming(from);
    await eventually(() => fs.played.some((p) => p.uuid === c.uuid && p.file === prompts.queue_wait), 'hold');
    await calls.tick();
    return c;
  }

  const playedTo = (uuid: string) => fs.played.filter((p) => p.uuid === uuid).map((p) => p.file);
  /** Announcements synthesized for this call (the same sentence is synthesized once and played again). */
  const spokenTo = (uuid: string) => playedTo(uuid).filter((f) => f.startsWith(join(dir, 'spoken')));
  /** Presses a key on the caller's phone and waits until call control has heard it (events are asynchronous). */
  const pressKey = async (callId: string, uuid: string, digit: string) => {
    const leg = calls.calls.get(callId)!.leg;
    const heard = new Promise<void>((resolve) => {
      const off = leg.on((e) => {
        if (e.type === 'dtmf') {
          off();
          resolve();
        }
      });
    });
    fs.dtmf(uuid, digit);
    await heard;
  };
  const dialled = (dial: string) =>
    fs.commands.slice(since).filter((c) => c.startsWith('originate') && c.includes(dial));

  async function setDesk(operatorId: string) {
    await db.sql.query('UPDATE telephony_operators SET desk = true WHERE id = $1', [operatorId]);
  }

  it('desk accept: the phone does not ring on the offer; on the accept the caller is bridged to the operator, recording goes on, the fork stops', async () => {
    calls = makeCalls(botUrl);
    const { uuid, callId } = await incoming();
    const conn = await eventually(() => bot.byCall(callId), 'bot receives the call');
    // What the voice bot's enqueue step does through the hand-off.
    assert.equal(
      await queue.enqueue({
        callId,
        channel: 'media',
        topicId: null,
        context: context('+79005554433'),
        at: now(),
      }),
      'queued',
    );
    await setDesk('ivanova');
    await queue.setPresence('ivanova', 'available');
    await calls.tick();
    assert.equal((await queue.callState(callId))?.state, 'offered');
    assert.equal((await queue.offersFor('ivanova'))[0]?.callId, callId, 'the desk shows the offer');
    assert.deepEqual(dialled(IVANOVA_DIAL), [], 'her phone does not ring for a desk offer');

    t += 5_000;
    await queue.accept(callId, 'ivanova'); // the desk's POST /api/desk/offers/:callId/accept
    await calls.tick();
    assert.equal(dialled(IVANOVA_DIAL).length, 1, 'her phone rings once she accepted');
    assert.ok(fs.channels.get(uuid)!.bridgedTo, 'the caller is bridged to her');
    assert.ok(fs.commands.some((c) => c.startsWith(`uuid_bridge ${uuid} `)));
    const [row] = await db.sql.query<{ bridged_at: Date | null }>(
      'SELECT bridged_at FROM telephony_queue_calls WHERE call_id = $1',
      [callId],
    );
    assert.equal(row!.bridged_at?.getTime(), t);
    await eventually(() => conn.closed, 'the fork is stopped once bridged');
    assert.ok(conn.texts.some((m) => m.type === 'operatorConnected'));
    assert.ok(!fs.commands.some((c) => c.startsWith(`uuid_record ${uuid} stop`)), 'recording goes on');
    await calls.tick();
    assert.equal(dialled(IVANOVA_DIAL).length, 1, 'bridged once');

    fs.hangup(uuid);
    const sip = await eventually(async () => {
      const s = (await getCall(db.sql, callId))?.sip;
      return s?.endedAt ? s : undefined;
    }, 'call closed');
    assert.equal(sip.outcome, 'operator');
    assert.deepEqual(
      sip.legs.map((l) => [l.kind, l.target, l.status]),
      [['operator', 'ivanova', 'answered']],
    );
    const [rec] = await recordingsOfCall(db.sql, callId);
    assert.deepEqual(rec!.legs, ['caller', 'bot', 'operator:ivanova']);
    await eventually(async () => (await queue.operator('ivanova'))?.state === 'wrap_up', 'wrap-up');
  });

  it('a failed bridge puts the call back at the head of its queue and the operator on break', async () => {
    fs.dialOutcomes.set(IVANOVA_DIAL, 'USER_BUSY');
    const first = await waitingCaller('+79005550001');
    t += 5_000;
    const second = await waitingCaller('+79005550002');
    await setDesk('ivanova');
    await queue.setPresence('ivanova', 'available');
    await calls.tick();
    assert.equal((await queue.callState(first.callId))?.state, 'offered', 'the longest waiting first');
    t += 3_000;
    await queue.accept(first.callId, 'ivanova');
    await calls.tick();
    assert.equal(dialled(IVANOVA_DIAL).length, 1);
    assert.equal((await queue.callState(first.callId))?.state, 'waiting');
    assert.equal((await queue.position(first.callId))?.position, 1, 'back at the head of its queue');
    assert.equal((await queue.position(second.callId))?.position, 2);
    const ivanova = await queue.operator('ivanova');
    assert.deepEqual([ivanova?.state, ivanova?.breakReason], ['break', 'phone_unreachable']);
    assert.equal(ivanova?.callsAnswered, 0, 'a call she never spoke on is not counted as answered');
    assert.equal(fs.channels.get(first.uuid)!.up, true, 'the caller is still on the line');
    assert.deepEqual(
      (await queue.events({ callId: first.callId })).map((e) => e.event),
      ['enqueued', 'offered', 'accepted', 'requeued'],
    );
    // The next operator takes the call that came back, before the later one.
    await queue.upsertOperator({ id: 'petrov', name: 'Петров', sipUri: 'sip:petrov@10.0.0.22', skills: [] });
    await queue.setMember('default', 'petrov');
    fs.dialOutcomes.set('sofia/external/petrov@10.0.0.22', 'answer');
    await queue.setPresence('petrov', 'available');
    await calls.tick();
    assert.equal((await queue.callState(first.callId))?.state, 'answered');
    assert.equal((await queue.callState(first.callId))?.operatorId, 'petrov');
    assert.equal((await queue.callState(second.callId))?.state, 'waiting');
  });

  it('at the norm the caller hears the position, the expected wait and the callback offer; key 1 registers the callback, the call ends after the confirmation', async () => {
    // The queue's recent handle time: one conversation of 40 s; Petrov is on another call (one operator working).
    await queue.upsertOperator({ id: 'petrov', name: 'Петров', sipUri: 'sip:petrov@10.0.0.22', skills: [] });
    await queue.setMember('default', 'petrov');
    await queue.setPresence('petrov', 'available');
    for (const id of ['h1', 'h2']) {
      await queue.enqueueCall({ callId: id, topicId: null });
      await queue.assignNext();
      await queue.accept(id, 'petrov');
      if (id === 'h1') {
        t += 40_000;
        await queue.closeConversation(id, 'petrov');
        t += 10_000;
        await queue.assignNext(); // wrap-up over
      }
    }
    // Two callers before ours (on other nodes: no channel here).
    await queue.enqueueCall({ callId: 'w1', topicId: null });
    await queue.enqueueCall({ callId: 'w2', topicId: null });
    t += 1_000;
    const { uuid, callId } = await waitingCaller();

    t += HOLD_MS;
    await calls.tick();
    assert.deepEqual(tts.texts, ['Вы третий в очереди. Примерное время ожидания — две минуты.']);
    assert.ok(!playedTo(uuid).includes(prompts.queue_callback_offer), 'no offer before the norm');
    await pressKey(callId, uuid, '1');
    t += 40_000;
    await calls.tick();
    assert.equal((await queue.callState(callId))?.state, 'waiting', 'key 1 means nothing before the offer');

    // The announcements play beside the dispatcher round, one after another: on a loaded machine that takes a while.
    await eventually(
      () => playedTo(uuid).includes(prompts.queue_callback_offer),
      'callback offer at the norm',
      20_000,
    );
    await eventually(
      () => spokenTo(uuid).length === 2,
      'the position again, with the offer after it',
      20_000,
    );
    fs.dtmf(uuid, '1');
    await eventually(() => !fs.channels.get(uuid)!.up, 'the call ends');
    const [cb] = await db.sql.query<{ phone: string }>(
      'SELECT phone FROM telephony_callbacks WHERE call_id = $1',
      [callId],
    );
    assert.equal(cb?.phone, '+79005554433');
    assert.equal((await queue.callState(callId))?.state, 'callback');
    assert.equal(tts.texts.at(-1), 'Мы перезвоним вам на номер +7 900 555-44-33. Оставайтесь на связи.');
    // The confirmation was played to its end before the hang-up.
    const said = fs.commands.findIndex(
      (c) => c.startsWith(`uuid_broadcast ${uuid} `) && c.includes('queue_callback_registered'),
    );
    const killed = fs.commands.indexOf(`uuid_kill ${uuid} NORMAL_CLEARING`);
    assert.ok(said >= 0 && killed > said, 'confirmation, then hang-up');
    const sip = await eventually(async () => {
      const s = (await getCall(db.sql, callId))?.sip;
      return s?.endedAt ? s : undefined;
    }, 'call closed');
    assert.equal(sip.outcome, 'callback');
  });

  it('an anonymous caller is not offered a callback and is never hung up on', async () => {
    await queue.upsertQueue({
      id: 'default',
      overflowAfterMs: 90_000,
      overflowTo: 'callback',
      announceMax: 2,
    });
    const { uuid, callId } = await waitingCaller('anonymous');
    for (let i = 0; i < 6; i++) {
      t += HOLD_MS;
      await calls.tick();
    }
    assert.ok(!playedTo(uuid).includes(prompts.queue_callback_offer));
    assert.equal(fs.channels.get(uuid)!.up, true);
    assert.equal((await queue.callState(callId))?.state, 'waiting');
    await eventually(() => spokenTo(uuid).length === 6, 'the announcements go on');
    assert.deepEqual(tts.texts, ['Вы первый в очереди.'], 'no estimate without a recent handle time or wait');
  });

  it('overflow to another queue keeps the wait; overflow to a callback registers it for a known number', async () => {
    await queue.upsertQueue({ id: 'reserve', name: 'Резерв' });
    await queue.upsertQueue({ id: 'default', overflowAfterMs: 90_000, overflowTo: 'queue:reserve' });
    const { uuid, callId } = await waitingCaller();
    const enqueuedAt = now();
    t += 89_000;
    await calls.tick();
    assert.equal((await queue.position(callId))?.queueId, 'default');
    t += 1_000;
    await calls.tick();
    await eventually(() => playedTo(uuid).includes(prompts.queue_overflow_queue), 'the caller is told');
    const pos = await queue.position(callId);
    assert.deepEqual([pos?.state, pos?.queueId, pos?.waitedMs], ['waiting', 'reserve', 90_000]);
    const [row] = await db.sql.query<{ enqueued_at: Date }>(
      'SELECT enqueued_at FROM telephony_queue_calls WHERE call_id = $1',
      [callId],
    );
    assert.equal(row!.enqueued_at.getTime(), enqueuedAt.getTime(), 'the wait goes on, not starts over');
    assert.equal(fs.channels.get(uuid)!.up, true);

    await queue.upsertQueue({ id: 'reserve', overflowAfterMs: 120_000, overflowTo: 'callback' });
    t += 30_000;
    await calls.tick();
    assert.equal((await queue.callState(callId))?.state, 'waiting', 'one overflow per call');
    const other = await waitingCaller('+79001230000');
    await db.sql.query(`UPDATE telephony_queue_calls SET queue_id = 'reserve' WHERE call_id = $1`, [
      other.callId,
    ]);
    t += 120_000;
    await calls.tick();
    await eventually(() => !fs.channels.get(other.uuid)!.up, 'told and hung up');
    assert.equal((await queue.callState(other.callId))?.state, 'callback');
    assert.equal(tts.texts.at(-1), 'Мы перезвоним вам на номер +7 900 123-00-00. Оставайтесь на связи.');
  });

  it('serves emergency-adjacent calls first, then VIP numbers, then callbacks, then the others', async () => {
    const at = now();
    await queue.enqueue({
      callId: 'plain',
      channel: 'media',
      topicId: null,
      context: context('+79007770000'),
      at,
    });
    await queue.enqueue({
      callId: 'back',
      channel: 'media',
      topicId: null,
      context: context('+79007770001', 'callback'),
      at,
    });
    await queue.enqueue({
      callId: 'vip',
      channel: 'media',
      topicId: null,
      context: context('+7 900 111-22-33'),
      at,
    });
    await queue.enqueue({
      callId: 'sos',
      channel: 'media',
      topicId: null,
      context: context(null, 'emergency'),
      at,
    });
    const positions = await Promise.all(['sos', 'vip', 'back', 'plain'].map((id) => queue.position(id)));
    assert.deepEqual(
      positions.map((p) => p?.position),
      [1, 2, 3, 4],
    );
    await queue.setPresence('ivanova', 'available');
    const [offer] = await queue.assignNext({ channel: 'phone' });
    assert.equal(offer?.callId, 'sos');
  });
});
