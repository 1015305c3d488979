import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { getCall } from '../../calls/records.js';
import { silentLogger } from '../../core/log.js';
import { CallControl } from '../../telephony/call-control.js';
import { FreeswitchControl } from '../../telephony/fsmrf.js';
import { queuedCall } from '../../telephony/queue.js';
import { eventually } from '../../telephony/testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from '../../telephony/testing/fake-freeswitch.js';
import { type DeskEnv, type Json, openDeskEnv, refused, resetQueue } from '../../test/support/desk.js';
import { listAudit } from '../audit.js';
import type { DeskPhone } from './desk.js';

/**
 * The desk's acts on a live phone call, through the HTTP API on PGlite with the real CallControl over the
 * FreeSWITCH stand-in (it speaks the event socket): hold (uuid_hold on the operator's leg), hang-up (uuid_kill),
 * blind transfers (an originate and uuid_bridge of the caller to the target, the operator's leg killed) to an
 * operator with a briefing, to a queue and to an agency within its hours, and the supervisor's eavesdrop.
 */
const START = Date.parse('2026-03-02T10:00:00+03:00'); // a Monday: the agencies' offices are open
const KUZNETSOV = 'sip:kuznetsov@10.0.0.31';
const ORLOVA = 'sip:orlova@10.0.0.32';
const SUPERVISOR = 'sip:sidorova@10.0.0.40';
const dial = (uri: string) => `sofia/external/${uri.slice(4)}`;
const AGENCY_DIAL = 'sofia/gateway/carrier/+70000000001'; // health_hotline's sample number

describe('the desk acts on a live phone call (pglite, FreeSWITCH stand-in)', () => {
  let env: DeskEnv;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let calls: CallControl;
  let dir: string;
  let phone: DeskPhone | undefined;
  let prompts: ReturnType<typeof silentPromptFiles>;
  const ups: string[] = [];

  before(async () => {
    env = await openDeskEnv('pglite', { phone: () => phone });
    dir = mkdtempSync(join(tmpdir(), 'otklik-desk-phone-'));
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    prompts = silentPromptFiles(dir);
    for (const uri of [KUZNETSOV, ORLOVA, SUPERVISOR]) fs.dialOutcomes.set(dial(uri), 'answer');
    fs.dialOutcomes.set(AGENCY_DIAL, 'answer');
  });
  after(async () => {
    control.close();
    await fs.stop();
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetQueue(env);
    env.set(START);
    calls = new CallControl({
      sql: env.db.sql,
      control,
      queue: env.queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: undefined,
      mediaSocketSecret: undefined,
      instanceId: 'desk-phone-test',
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      prompts,
      kb: null,
      now: env.now,
    });
    phone = calls;
    // Both operators with a phone, in the default queue, signed in on the desk.
    for (const [login, name, sipUri] of [
      ['kuznetsov', 'Кузнецов Д. А.', KUZNETSOV],
      ['orlova', 'Орлова М. И.', ORLOVA],
    ] as const) {
      const put = await env.api('sidorova', 'PUT', `/api/desk/operators/${login}`, {
        name,
        login,
        sipUri,
        skills: [],
        queues: [{ queueId: 'default' }],
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
    }
  });
  afterEach(() => {
    calls.release();
    for (const uuid of ups.splice(0)) fs.hangup(uuid);
  });

  const since = { n: 0 };
  const commands = () => fs.commands.slice(since.n);

  /** A caller without the bot waits in the queue; `login` accepts on the desk and is bridged. */
  async function talking(login: 'kuznetsov' | 'orlova' = 'kuznetsov') {
    assert.equal((await env.api(login, 'PUT', '/api/desk/presence', { state: 'available' })).status, 200);
    const uuid = fs.addChannel();
    ups.push(uuid);
    const callId = randomUUID();
    await calls.handleInbound(uuid, {
      callId,
      from: '+79991234567',
      to: '122',
      startedAt: env.now(),
      channel: 'sip',
    });
    await eventually(() => queuedCall(env.db.sql, callId), 'the caller is queued');
    await calls.tick();
    const offers = await env.api(login, 'GET', '/api/desk/offers');
    assert.deepEqual(
      offers.body.offers.map((o: Json) => o.callId),
      [callId],
    );
    assert.equal((await env.api(login, 'POST', `/api/desk/offers/${callId}/accept`)).status, 200);
    await calls.tick();
    const leg = fs.channels.get(uuid)!;
    assert.ok(leg.bridgedTo, 'the caller is bridged to the operator');
    since.n = fs.commands.length;
    return { uuid, callId, operatorLeg: leg.bridgedTo };
  }

  it('holds the operator’s leg and takes it back (uuid_hold / uuid_hold off), audited', async () => {
    const { callId, operatorLeg } = await talking();
    const held = await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/hold`, { on: true });
    assert.deepEqual(held, { status: 200, body: { callId, held: true } });
    assert.deepEqual(commands(), [`uuid_hold ${operatorLeg}`]);
    assert.equal(fs.channels.get(operatorLeg)!.held, true);
    const back = await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/hold`, { on: false });
    assert.equal(back.status, 200);
    assert.equal(fs.channels.get(operatorLeg)!.held, false);
    assert.deepEqual(commands().at(-1), `uuid_hold off ${operatorLeg}`);
    const audit = await listAudit(env.db.sql, { action: 'desk.hold', object: callId });
    assert.deepEqual(
      audit.map((a) => [a.login, a.object, a.details]),
      [
        ['kuznetsov', callId, { on: true }],
        ['kuznetsov', callId, { on: false }],
      ],
    );
    // Someone else's conversation: not theirs to hold; a supervisor may.
    refused(
      await env.api('orlova', 'POST', `/api/desk/conversations/${callId}/hold`, { on: true }),
      409,
      'CONFLICT',
    );
    assert.equal(
      (await env.api('sidorova', 'POST', `/api/desk/conversations/${callId}/hold`, { on: true })).status,
      200,
    );
  });

  it('transfers blind to a colleague with a briefing: their phone is bridged, the first operator’s leg hung up; the colleague hangs up and closes', async () => {
    const { uuid, callId, operatorLeg } = await talking();
    await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' });
    const briefing = 'Просит записать к неврологу, полис назвал';
    const moved = await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
      operatorId: 'orlova',
      briefing,
    });
    assert.deepEqual(moved, { status: 200, body: { callId, operatorId: 'orlova' } });
    const originate = commands().find((c) => c.startsWith('originate '))!;
    assert.match(originate, new RegExp(`${dial(ORLOVA)} &park\\(\\)$`));
    const orlovaLeg = /origination_uuid=([^,]+)/.exec(originate)![1]!;
    assert.ok(commands().includes(`uuid_bridge ${uuid} ${orlovaLeg}`));
    assert.ok(commands().includes(`uuid_kill ${operatorLeg} NORMAL_CLEARING`));
    assert.equal(fs.channels.get(uuid)!.up, true, 'the caller stays on the line');
    assert.equal(fs.channels.get(uuid)!.bridgedTo, orlovaLeg);
    assert.equal(fs.channels.get(operatorLeg)!.up, false);

    // Orlova's desk has the conversation with the briefing; Kuznetsov's is closed.
    const seen = await env.api('orlova', 'GET', `/api/desk/conversations/${callId}`);
    assert.equal(seen.body.state, 'answered');
    assert.equal(seen.body.operatorId, 'orlova');
    assert.deepEqual(
      seen.body.transfers.map((t: Json) => [t.operatorId, t.toOperator, t.briefing]),
      [['kuznetsov', 'orlova', briefing]],
    );
    const mine = await env.api('kuznetsov', 'GET', '/api/desk/me');
    assert.deepEqual(
      mine.body.conversations.filter((c: Json) => c.state === 'answered'),
      [],
    );
    assert.equal((await getCall(env.db.sql, callId))?.operator?.name, 'Орлова М. И.');

    since.n = fs.commands.length;
    const ended = await env.api('orlova', 'POST', `/api/desk/conversations/${callId}/hangup`);
    assert.deepEqual(ended, { status: 200, body: { callId, callEnded: true } });
    assert.ok(commands().includes(`uuid_kill ${uuid} NORMAL_CLEARING`));
    assert.equal(fs.channels.get(uuid)!.up, false);
    await eventually(async () => (await getCall(env.db.sql, callId))?.endedAt, 'the call record ends');
    // The conversation waits for its outcome.
    const closed = await env.api('orlova', 'POST', `/api/desk/conversations/${callId}/close`, {
      outcome: 'answered',
    });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const audit = await listAudit(env.db.sql, { action: 'desk.transfer', object: callId });
    assert.deepEqual(audit[0]?.details, {
      operatorId: 'kuznetsov',
      from: 'default',
      briefing: true,
      toOperator: 'orlova',
    });
  });

  it('a colleague who cannot take the call: refused before anyone is rung; a phone that does not answer changes nothing', async () => {
    const { uuid, callId, operatorLeg } = await talking();
    // Orlova is offline.
    refused(
      await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
        operatorId: 'orlova',
      }),
      409,
      'CONFLICT',
      /Орлова М\. И\. сейчас не может принять звонок/,
    );
    assert.deepEqual(commands(), []);
    await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' });
    fs.dialOutcomes.set(dial(ORLOVA), 'NO_ANSWER');
    try {
      refused(
        await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
          operatorId: 'orlova',
        }),
        409,
        'CONFLICT',
        /не ответил: нет ответа/,
      );
    } finally {
      fs.dialOutcomes.set(dial(ORLOVA), 'answer');
    }
    assert.equal(fs.channels.get(uuid)!.bridgedTo, operatorLeg, 'still with Kuznetsov');
    assert.equal((await queuedCall(env.db.sql, callId))?.operatorId, 'kuznetsov');
    refused(
      await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {}),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('transfers to another queue: the operator’s leg is released, the caller hears the hold message, the next accept bridges anew', async () => {
    const { uuid, callId, operatorLeg } = await talking();
    await env.api('sidorova', 'PUT', '/api/desk/queues/second', { name: 'Вторая линия' });
    await env.api('sidorova', 'PUT', '/api/desk/operators/orlova', {
      name: 'Орлова М. И.',
      login: 'orlova',
      sipUri: ORLOVA,
      skills: [],
      queues: [{ queueId: 'second' }],
    });
    const played = fs.played.length;
    const moved = await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
      queueId: 'second',
      briefing: 'Вопрос о льготах',
    });
    assert.deepEqual(moved, { status: 200, body: { callId, queueId: 'second' } });
    assert.deepEqual(
      commands().filter((c) => !c.startsWith('uuid_broadcast')),
      [`uuid_setvar ${uuid} park_after_bridge true`, `uuid_kill ${operatorLeg} NORMAL_CLEARING`],
    );
    assert.equal(fs.channels.get(uuid)!.up, true, 'the caller stays, parked');
    await eventually(
      () => fs.played.slice(played).some((p) => p.uuid === uuid && p.file === prompts.queue_wait),
      'the hold message',
    );
    assert.equal((await queuedCall(env.db.sql, callId))?.state, 'waiting');
    // Kuznetsov takes a break; Orlova takes the call from the second queue.
    await env.api('kuznetsov', 'PUT', '/api/desk/presence', { state: 'break', reason: 'обед' });
    const orlovaLeg = (await talkingAgain(callId, 'orlova')).bridgedTo;
    assert.ok(orlovaLeg && orlovaLeg !== operatorLeg, 'bridged to Orlova');
    const seen = await env.api('orlova', 'GET', `/api/desk/conversations/${callId}`);
    assert.deepEqual(
      seen.body.transfers.map((t: Json) => [t.toQueue, t.briefing]),
      [['second', 'Вопрос о льготах']],
    );
  });

  /** The transferred call offered and accepted again: the caller is bridged to the new operator. */
  async function talkingAgain(callId: string, login: 'orlova') {
    await env.api(login, 'PUT', '/api/desk/presence', { state: 'available' });
    await calls.tick();
    assert.equal((await env.api(login, 'POST', `/api/desk/offers/${callId}/accept`)).status, 200);
    await calls.tick();
    const uuid = ups.at(-1)!;
    return fs.channels.get(uuid)!;
  }

  it('transfers to an agency within its hours (its forward number through the trunk); closed, or without a number: 409', async () => {
    const { uuid, callId } = await talking();
    env.set(Date.parse('2026-03-02T22:00:00+03:00'));
    refused(
      await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
        agencyId: 'health_hotline',
      }),
      409,
      'CONFLICT',
      /сейчас не работает/,
    );
    refused(
      await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
        agencyId: 'nowhere',
      }),
      404,
      'NOT_FOUND',
    );
    env.set(START + 60_000);
    const moved = await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/transfer`, {
      agencyId: 'health_hotline',
    });
    assert.deepEqual(moved, { status: 200, body: { callId, agencyId: 'health_hotline' } });
    const originate = commands().find((c) => c.startsWith('originate '))!;
    assert.ok(originate.endsWith(`}${AGENCY_DIAL} &park()`), originate);
    const agencyLeg = /origination_uuid=([^,]+)/.exec(originate)![1]!;
    assert.equal(fs.channels.get(uuid)!.bridgedTo, agencyLeg);
    const card = await getCall(env.db.sql, callId);
    assert.equal(card?.operatorOutcome, 'forwarded');
    assert.equal((await queuedCall(env.db.sql, callId))?.closedAt?.toISOString(), env.now().toISOString());
  });

  it('a supervisor listens in: their phone is originated into eavesdrop on the caller’s channel; operators may not', async () => {
    const { uuid, callId } = await talking();
    refused(
      await env.api('kuznetsov', 'POST', `/api/desk/calls/${callId}/listen`, { sipUri: SUPERVISOR }),
      403,
      'FORBIDDEN',
    );
    const listening = await env.api('sidorova', 'POST', `/api/desk/calls/${callId}/listen`, {
      sipUri: SUPERVISOR,
    });
    assert.deepEqual(listening, { status: 200, body: { callId, listening: true } });
    const originate = commands().find((c) => c.startsWith('originate '))!;
    assert.match(originate, new RegExp(`${dial(SUPERVISOR)} &eavesdrop\\(${uuid}\\)$`));
    const leg = /origination_uuid=([^,]+)/.exec(originate)![1]!;
    assert.equal(fs.channels.get(leg)!.eavesdropOn, uuid);
    const audit = await listAudit(env.db.sql, { action: 'desk.listen', object: callId });
    assert.deepEqual(
      audit.map((a) => [a.login, a.object, a.details]),
      [['sidorova', callId, { sipUri: SUPERVISOR, status: 'answered' }]],
    );
  });

  it('without telephony on this node: 503 with the reason; a chat: 409', async () => {
    const { callId } = await talking();
    phone = undefined;
    for (const [path, body] of [
      ['hold', { on: true }],
      ['hangup', undefined],
      ['transfer', { operatorId: 'orlova' }],
    ] as const) {
      refused(
        await env.api('kuznetsov', 'POST', `/api/desk/conversations/${callId}/${path}`, body),
        503,
        'UNAVAILABLE',
        /Телефония не запущена на этом узле/,
      );
    }
    refused(
      await env.api('sidorova', 'POST', `/api/desk/calls/${callId}/listen`, { sipUri: SUPERVISOR }),
      503,
      'UNAVAILABLE',
    );
    const refusals = await listAudit(env.db.sql, { action: 'desk.hold', object: callId });
    assert.equal(refusals[0]?.details.refused, 'UNAVAILABLE');

    phone = calls;
    await env.queued('chat-1', 'text');
    await env.queue.assignNext({ channel: 'text' });
    const offered = (await env.api('orlova', 'PUT', '/api/desk/presence', { state: 'available' })).status;
    assert.equal(offered, 200);
    await env.queue.assignNext({ channel: 'text' });
    assert.equal((await env.api('orlova', 'POST', '/api/desk/offers/chat-1/accept')).status, 200);
    refused(
      await env.api('orlova', 'POST', '/api/desk/conversations/chat-1/hold', { on: true }),
      409,
      'CONFLICT',
      /Для чата недоступно/,
    );
    refused(
      await env.api('sidorova', 'POST', '/api/desk/calls/chat-1/listen', { sipUri: SUPERVISOR }),
      409,
      'CONFLICT',
      /Для чата недоступно/,
    );
  });
});
