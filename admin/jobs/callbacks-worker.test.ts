/**
 * The job worker's side of callbacks: the store, not Redis, says what is due, so a Redis restarted empty loses
 * no callback (the sweep re-creates the delayed jobs from the table); and an agency's answer three relay calls
 * did not deliver becomes an operator's callback on the desk (source 'inquiry'), once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { silentLogger } from '../../core/log.js';
import type { PlaceCall } from '../../inquiries/relay.js';
import { ensureSeeded } from '../../kb/seed.js';
import { OperatorQueue, queuedCall } from '../../telephony/queue.js';
import { eventually } from '../../telephony/testing/bot-socket.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { seedInquiry } from '../../test/support/inquiries.js';
import { type OwnRedis, startOwnRedis } from '../../test/support/redis.js';
import { startWorker } from './worker.js';

/** Monday, 16 November 2026, Moscow time (the seed region's zone): within calling hours. */
const moscow = (time: string) => new Date(`2026-11-16T${time}:00+03:00`);

describe('callbacks in the job worker', () => {
  let db: TestDb;
  let redis: OwnRedis;
  let clock = moscow('11:00');
  const now = () => clock;
  let queue: OperatorQueue;
  const closing: Array<() => Promise<void>> = [];

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    redis = await startOwnRedis();
    queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now });
  });
  after(async () => {
    for (const close of closing.reverse()) await close();
    await redis?.stop();
    await db?.drop();
  });

  async function worker(placeCall?: PlaceCall, closeGraceMs?: number) {
    const prefix = `otklik-test-${randomUUID()}`;
    const w = await startWorker({
      redisUrl: redis.url,
      sql: db.sql,
      mailer: null,
      log: silentLogger,
      sweepIntervalMs: 3_600_000,
      prefix,
      callbacks: queue.callbacks,
      now,
      ...(placeCall ? { placeCall } : {}),
      ...(closeGraceMs ? { closeGraceMs } : {}),
    });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => {});
    const jobs = new Queue('otklik-inquiries', { connection, prefix });
    jobs.on('error', () => {});
    closing.push(async () => {
      await w.close();
      await jobs.close().catch(() => {});
      connection.disconnect();
    });
    /** The delayed callback jobs (the sweep's own scheduler keeps a delayed job beside them). */
    const due = async () => (await jobs.getDelayed()).filter((j) => j.name === 'callback-due');
    const key = `${prefix}:restart-marker`;
    const marker = {
      set: () => connection.set(key, '1'),
      gone: async () => (await connection.get(key).catch(() => 'unknown')) === null,
    };
    return { w, due, marker };
  }

  it('a Redis restarted empty loses no callback: the sweep schedules it again from the table', async () => {
    const { w, due, marker } = await worker();
    const cb = await queue.callbacks.create({
      phone: '+79001112233',
      source: 'operator',
      dueAt: new Date(clock.getTime() + 3_600_000),
    });
    await w.scheduleCallback(cb);
    assert.equal((await due()).length, 1);

    // A marker key shows the restart emptied Redis (the worker may re-create the job itself as soon as it is back).
    await marker.set();
    await redis.restart();
    await eventually(async () => (await marker.gone()) === true, 'Redis empty', 20_000);
    await w.sweepNow();
    const [job] = await due();
    assert.equal(job?.name, 'callback-due');
    assert.equal(job?.data.callbackId, cb.id);
    assert.equal(job?.opts.delay, 3_600_000);

    // Past its time with Redis gone again, the sweep alone puts it in the ACD.
    await marker.set();
    await redis.restart();
    clock = new Date(clock.getTime() + 3_600_000);
    await eventually(async () => (await marker.gone()) === true, 'Redis empty', 20_000);
    await w.sweepNow();
    assert.equal((await queuedCall(db.sql, `callback:${cb.id}:1`))?.state, 'waiting');
    assert.equal((await queue.callbacks.get(cb.id))?.state, 'pending');
  });

  it('a worker stopped just after a Redis outage stops', async () => {
    // A sweep may be running when it stops: it gets 2 s, not 30.
    const { w } = await worker(undefined, 2000);
    // Down for a while, so that BullMQ's blocking connection backs off longer than the queue's: the queue is
    // back (health «ready») while the blocking one still waits to reconnect, and BullMQ's graceful close
    // waits for that connection's end forever (taskforcesh/bullmq#4656): `serve` would never stop.
    await redis.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    await eventually(async () => (await w.health()).status === 'ready', 'the worker back on Redis', 20_000);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      w.close().then(() => 'closed'),
      new Promise((r) => {
        timer = setTimeout(() => r('still closing'), 15_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'closed');
  });

  it('an answer three relay calls did not deliver becomes an operator callback on the desk, once', async () => {
    clock = moscow('11:00');
    const id = await seedInquiry(db.sql, {
      question: 'когда откроется запись к кардиологу',
      receivedAt: moscow('09:05'),
      answer: 'Запись к кардиологу открыта с понедельника в регистратуре.',
      callbackNumber: '+79004445566',
    });
    const placed: string[] = [];
    const { w } = await worker(async (req) => {
      placed.push(req.target);
      return { status: 'no_answer' };
    });
    for (const time of ['11:00', '11:30', '12:00', '12:30']) {
      clock = moscow(time);
      await w.sweepNow();
    }
    assert.equal(placed.length, 3);
    const callbacks = (await queue.callbacks.list()).filter((c) => c.source === 'inquiry');
    assert.equal(callbacks.length, 1);
    const [cb] = callbacks;
    assert.equal(cb?.id, `inquiry-${id}`);
    assert.equal(cb?.phone, '+79004445566');
    assert.equal(cb?.context.inquiryId, id);
    // Due at once: in the ACD for the next free operator.
    assert.equal((await queuedCall(db.sql, `callback:${cb!.id}:1`))?.state, 'waiting');
    clock = moscow('13:00');
    await w.sweepNow();
    assert.equal((await queue.callbacks.list()).filter((c) => c.source === 'inquiry').length, 1);
  });
});
