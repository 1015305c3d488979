/**
 * A callback the queue offered, end to end on real PostgreSQL and Redis: the caller who waited past the norm
 * gets a callback row; the job worker puts it back in the ACD at the caller's old place; the dispatcher offers
 * it to the operator; telephony rings the operator first, then the citizen, over the FreeSWITCH event socket
 * (the fake FreeSWITCH is the only stand-in); the citizen does not answer twice and answers the third time:
 * three attempts, spaced as configured through BullMQ delayed jobs, the outcome on the callback.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type RunningWorker, startWorker } from '../admin/jobs/worker.js';
import { getCall } from '../calls/records.js';
import { silentLogger } from '../core/log.js';
import { CallControl } from '../telephony/call-control.js';
import { placeCallback } from '../telephony/callback-call.js';
import { FreeswitchControl } from '../telephony/fsmrf.js';
import { OperatorQueue, queuedCall } from '../telephony/queue.js';
import { eventually } from '../telephony/testing/bot-socket.js';
import { FakeFreeswitch, silentPromptFiles } from '../telephony/testing/fake-freeswitch.js';
import { openTestDb, type TestDb } from './support/db.js';

const OPERATOR_URI = 'sip:ivanova@10.0.0.21';
const OPERATOR_DIAL = 'sofia/external/ivanova@10.0.0.21';
const CITIZEN = '+79001234567';
const CITIZEN_DIAL = `sofia/gateway/carrier/${CITIZEN}`;
const REDIS = 'redis://127.0.0.1:6379';
const minutes = (n: number) => n * 60_000;

describe('a callback offered by the queue, placed operator first, three attempts', () => {
  let db: TestDb;
  let fs: FakeFreeswitch;
  let control: FreeswitchControl;
  let dir: string;
  let t = Date.parse('2026-03-02T10:00:00Z');
  const now = () => new Date(t);
  let queue: OperatorQueue;
  let calls: CallControl;
  let worker: RunningWorker;
  let jobs: Queue;
  let redis: Redis;
  const prefix = `otklik-test-${randomUUID()}`;

  before(async () => {
    db = await openTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'otklik-callback-'));
    fs = new FakeFreeswitch({ tmpDir: join(dir, 'fs') });
    await fs.start();
    control = await FreeswitchControl.connect({ host: '127.0.0.1', port: fs.port, secret: 'ClueCon' });
    fs.dialOutcomes.set(OPERATOR_DIAL, 'answer');
    queue = new OperatorQueue(db.sql, {
      waitNormMs: 60_000,
      now,
      callbacks: { retryMs: [minutes(10), minutes(30)], maxAttempts: 3 },
    });
    await queue.upsertOperator({ id: 'ivanova', name: 'Иванова', sipUri: OPERATOR_URI, skills: ['health'] });
    await queue.setOperatorState('ivanova', 'offline');
    calls = new CallControl({
      sql: db.sql,
      control,
      queue,
      log: silentLogger,
      recordingsDir: join(dir, 'recordings'),
      audioDir: join(dir, 'audio'),
      mediaSocketUrl: undefined,
      mediaSocketSecret: undefined,
      instanceId: 'callback-test',
      trunk: 'sofia/gateway/carrier',
      forwardTimeoutMs: 20_000,
      prompts: silentPromptFiles(dir),
      now,
      // The test waits for each attempt to end (telephony's own wiring runs it beside the dispatcher).
      placeCallback: async (a) => {
        await placeCallback({ calls, queue, sql: db.sql, from: '122', log: silentLogger }, a);
      },
    });
    worker = await startWorker({
      redisUrl: REDIS,
      sql: db.sql,
      mailer: null,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix,
      callbacks: queue.callbacks,
      now,
    });
    redis = new Redis(REDIS, { maxRetriesPerRequest: null });
    jobs = new Queue('otklik-inquiries', { connection: redis, prefix });
  });
  after(async () => {
    calls?.release();
    await worker?.close();
    await jobs?.close();
    redis?.disconnect();
    control?.close();
    await fs?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const originates = () => fs.commands.filter((c) => c.startsWith('originate '));
  const callbackRow = async () => (await queue.callbacks.list())[0]!;

  /** The callback's delayed job: what the sweep left in Redis for its due time. */
  async function delayedJob(callbackId: string) {
    return eventually(async () => {
      const delayed = await jobs.getDelayed();
      return delayed.find((j) => j.name === 'callback-due' && j.data.callbackId === callbackId);
    }, 'the delayed callback-due job');
  }

  /** Time passes to the job's due time and BullMQ runs it (promote = its delay is over). */
  async function dueJobRuns(callbackId: string, attempt: number) {
    const job = await delayedJob(callbackId);
    t += job.opts.delay!;
    await job.promote();
    return eventually(
      () => queuedCall(db.sql, `callback:${callbackId}:${attempt}`),
      `attempt ${attempt} in the ACD`,
    );
  }

  it('keeps the place, rings the operator then the citizen, retries after 10 and 30 min, reached the third time', async () => {
    const enqueuedAt = now();
    await queue.enqueueCall({
      callId: 'call-1',
      topicId: 'health',
      context: { reason: 'no_answer', callerNumber: CITIZEN, transcript: [] },
    });
    t += 60_000;
    await queue.enqueueCall({
      callId: 'call-2',
      topicId: 'health',
      context: { callerNumber: '+79007654321' },
    });
    // Nobody took call-1 by the norm and the caller pressed 1: the queue's callback keeps their place.
    t += 61_000;
    assert.equal(await queue.requestCallback('call-1', { phone: CITIZEN, source: 'queue' }), true);
    const created = await callbackRow();
    assert.equal(created.source, 'queue');
    assert.equal(created.state, 'pending');
    assert.equal(created.callId, 'call-1');
    assert.equal(created.maxAttempts, 3);

    // The worker's sweep puts it in the ACD at the caller's original place, ahead of call-2.
    await worker.sweepNow();
    const entry = await queuedCall(db.sql, `callback:${created.id}:1`);
    assert.equal(entry?.state, 'waiting');
    assert.equal(entry?.enqueuedAt.getTime(), enqueuedAt.getTime());
    assert.equal(entry?.context.callbackId, created.id);
    assert.equal(entry?.context.phone, CITIZEN);

    // Attempt 1: the operator becomes free; the dispatcher offers the callback first; the citizen does not answer.
    fs.dialOutcomes.set(CITIZEN_DIAL, 'NO_ANSWER');
    await queue.setPresence('ivanova', 'available');
    await calls.tick();
    assert.equal((await queuedCall(db.sql, 'call-2'))?.state, 'waiting');
    await queue.abandon('call-2');
    const dials = originates();
    assert.equal(dials.length, 2);
    assert.ok(dials[0]!.includes(OPERATOR_DIAL), 'the operator is rung first');
    assert.ok(dials[1]!.includes(CITIZEN_DIAL), 'then the citizen');
    assert.ok(dials[1]!.includes('origination_caller_id_number=122'), 'the citizen sees the line');
    let cb = await callbackRow();
    assert.equal(cb.state, 'scheduled');
    assert.equal(cb.attempts, 1);
    assert.equal(cb.lastResult, 'no_answer');
    assert.equal(cb.operatorId, 'ivanova');
    assert.equal(cb.dueAt?.getTime(), t + minutes(10));
    // The operator's leg ended with the attempt: their conversation is closed (wrap-up).
    await eventually(
      async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
      'the operator in wrap-up',
    );

    // Attempt 2, ten minutes later (a BullMQ delayed job): busy this time.
    await worker.sweepNow();
    assert.equal((await delayedJob(cb.id)).opts.delay, minutes(10));
    await dueJobRuns(cb.id, 2);
    fs.dialOutcomes.set(CITIZEN_DIAL, 'USER_BUSY');
    await calls.tick();
    cb = await callbackRow();
    assert.equal(cb.attempts, 2);
    assert.equal(cb.lastResult, 'busy');
    assert.equal(cb.state, 'scheduled');
    assert.equal(cb.dueAt?.getTime(), t + minutes(30));
    await eventually(
      async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
      'the operator in wrap-up again',
    );

    // Attempt 3, thirty minutes later: the citizen answers and talks to the operator.
    await worker.sweepNow();
    assert.equal((await delayedJob(cb.id)).opts.delay, minutes(30));
    await dueJobRuns(cb.id, 3);
    fs.dialOutcomes.set(CITIZEN_DIAL, 'answer');
    await calls.tick();
    cb = await callbackRow();
    assert.equal(cb.state, 'done');
    assert.equal(cb.outcome, 'reached');
    assert.equal(cb.attempts, 3);
    assert.equal(cb.lastResult, 'answered');
    assert.equal(originates().length, 6);
    assert.equal((await queue.operator('ivanova'))?.state, 'on_call');
    assert.equal((await queuedCall(db.sql, `callback:${cb.id}:3`))?.state, 'answered');
    const bridge = fs.commands.find((c) => c.startsWith('uuid_bridge '));
    assert.ok(bridge, 'the citizen was bridged to the operator leg');

    // The conversation ends: the operator's leg hangs up, the call record says where it went.
    const operatorLeg = bridge.split(' ')[1]!;
    fs.hangup(operatorLeg);
    await eventually(
      async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
      'wrap-up after the call',
    );
    const record = await eventually(async () => {
      const rows = await db.sql.query<{ id: string }>(`SELECT id FROM calls WHERE legs @> $1::jsonb`, [
        JSON.stringify([{ kind: 'outbound', target: CITIZEN, status: 'answered' }]),
      ]);
      return rows[0] ? getCall(db.sql, rows[0].id) : undefined;
    }, 'the call record of the answered attempt');
    assert.equal(record?.sip?.direction, 'outbound');
    // The queue's figures count the caller once (the call that became a callback), not the line's attempts.
    const stats = await queue.stats();
    assert.equal(stats.offered, 2);
    assert.equal(stats.callbacks, 1);
    assert.equal(stats.abandoned, 1);
    // No further attempt is scheduled for a reached callback.
    await worker.sweepNow();
    assert.equal((await jobs.getDelayed()).filter((j) => j.name === 'callback-due').length, 0);
  });

  it('taken on the desk: the operator’s phone not answering costs no attempt, the callback waits again', async () => {
    t += minutes(5);
    fs.dialOutcomes.set(OPERATOR_DIAL, 'NO_ANSWER');
    const cb = await queue.callbacks.create({ phone: CITIZEN, source: 'caller' });
    assert.deepEqual(await queue.callbacks.enqueueDue(cb.id), [cb.id]);
    const [offer] = (await queue.assignNext()).filter((a) => a.context.callbackId === cb.id);
    assert.ok(offer, 'offered to the operator');
    await queue.accept(offer.callId, offer.operator.id); // the desk's accept
    const deps = { calls, queue, sql: db.sql, from: '122', log: silentLogger };
    const missed = await placeCallback(deps, offer, { accepted: true });
    assert.equal(missed?.state, 'pending');
    assert.equal(missed?.attempts, 0);
    assert.equal(missed?.lastResult, 'operator_unreached');
    assert.equal((await queuedCall(db.sql, offer.callId))?.state, 'waiting');

    // The next free operator (the same one, after wrap-up) takes it; this time the phone answers.
    fs.dialOutcomes.set(OPERATOR_DIAL, 'answer');
    fs.dialOutcomes.set(CITIZEN_DIAL, 'answer');
    t += 20_000;
    await calls.tick();
    const reached = await queue.callbacks.get(cb.id);
    assert.equal(reached?.state, 'done');
    assert.equal(reached?.attempts, 1);
    const operatorLeg = fs.commands
      .filter((c) => c.startsWith('uuid_bridge '))
      .at(-1)!
      .split(' ')[1]!;
    fs.hangup(operatorLeg);
    await eventually(
      async () => (await queue.operator('ivanova'))?.state === 'wrap_up',
      'wrap-up after the call',
    );
  });

  it('after the last unreached attempt the callback has failed and waits for a person on the desk', async () => {
    fs.dialOutcomes.set(CITIZEN_DIAL, 'NO_ANSWER');
    t += minutes(5);
    const cb = await queue.callbacks.create({ phone: CITIZEN, source: 'operator' });
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (attempt > 1) await dueJobRuns(cb.id, attempt);
      else await worker.sweepNow();
      t += 20_000; // past the operator's wrap-up
      await calls.tick();
      if (attempt < 3) await worker.sweepNow();
    }
    const failed = await queue.callbacks.get(cb.id);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.outcome, 'unreached');
    assert.equal(failed?.attempts, 3);
    assert.deepEqual(
      (await queue.callbacks.list({ state: 'failed' })).map((c) => c.id),
      [cb.id],
    );
    // An operator tries again: a new series of attempts, the next one in the ACD at once.
    const reopened = await queue.callbacks.edit(cb.id, { dueAt: now() });
    assert.equal(reopened.state, 'pending');
    assert.equal(reopened.maxAttempts, 6);
    assert.deepEqual(await queue.callbacks.enqueueDue(cb.id), [cb.id]);
    assert.equal((await queuedCall(db.sql, `callback:${cb.id}:4`))?.state, 'waiting');
  });
});
