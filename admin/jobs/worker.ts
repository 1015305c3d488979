import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Sql } from '../../kb/store/sql.js';
import { dispatchInquiry, type Mailer, undispatchedInquiries } from './inquiries.js';
import { type PlaceCall, relayAnswers } from './relay.js';

/**
 * BullMQ wiring of the back-office jobs. A repeating sweep finds inquiries not yet sent to their agency and
 * queues one dispatch job each (job id = inquiry id, so a sweep never queues one twice); the sweep interval
 * (default one minute) keeps the 15-minute dispatch norm with a wide margin. With a way to place calls
 * (telephony up), the sweep also calls citizens back with their agencies' answers (relay.ts); without one,
 * answered inquiries wait for operators.
 */
export interface WorkerOptions {
  redisUrl: string;
  sql: Sql;
  mailer: Mailer | null;
  log: Logger;
  sweepIntervalMs: number;
  /** Key prefix in Redis; tests give each run its own. */
  prefix?: string;
  /** Places the callbacks that relay agencies' answers; without it no relay runs. */
  placeCall?: PlaceCall;
  /** The region's time zone for calling hours (read from the knowledge base when not given). */
  timezone?: string;
  now?: () => Date;
}

export interface RunningWorker {
  /** Runs one sweep now (the CLI and tests use it; the schedule runs it on its own). */
  sweepNow(): Promise<void>;
  close(): Promise<void>;
}

const QUEUE = 'otklik-inquiries';

/** Fails fast (instead of queueing commands forever) when Redis is not there at start-up. */
async function checkRedis(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new OtklikError(
      'UNAVAILABLE',
      `Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} is unavailable: ${(err as Error).message}`,
      {
        retryable: true,
        cause: err,
      },
    );
  } finally {
    probe.disconnect();
  }
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  await checkRedis(opts.redisUrl);
  const redis = () => new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const queueConnection = redis();
  const workerConnection = redis();
  for (const conn of [queueConnection, workerConnection]) {
    conn.on('error', (err) =>
      opts.log.warn({ err: err.message }, 'redis connection problem; jobs wait for it'),
    );
  }
  const prefix = opts.prefix ?? 'otklik';
  const queue = new Queue(QUEUE, { connection: queueConnection, prefix });
  const deps = { sql: opts.sql, mailer: opts.mailer, log: opts.log };

  // One relay run at a time in this process: a run waits on each call it places, and a scheduled sweep may
  // start while it does (the attempt claims in relay.ts also keep other processes from calling twice).
  // A sweep that finds a run under way waits for it rather than returning early, so that sweepNow() means
  // "relayed what was due".
  let relaying: Promise<unknown> | null = null;
  const relay = async () => {
    const placeCall = opts.placeCall;
    if (!placeCall) return;
    if (relaying) {
      await relaying;
      return;
    }
    relaying = relayAnswers({
      sql: opts.sql,
      log: opts.log,
      placeCall,
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.timezone ? { timezone: opts.timezone } : {}),
    });
    try {
      await relaying;
    } finally {
      relaying = null;
    }
  };

  const sweep = async () => {
    for (const inquiryId of await undispatchedInquiries(opts.sql)) {
      await queue.add(
        'dispatch',
        { inquiryId },
        {
          jobId: `inquiry-${inquiryId}`,
          attempts: 8,
          backoff: { type: 'exponential', delay: 5000 },
          removeOnComplete: 1000,
          removeOnFail: 1000,
        },
      );
    }
    await relay();
  };

  const worker = new Worker(
    QUEUE,
    async (job) => {
      try {
        if (job.name === 'sweep') return await sweep();
        if (job.name === 'dispatch') return await dispatchInquiry(deps, Number(job.data.inquiryId));
        throw new UnrecoverableError(`unknown job ${job.name}`);
      } catch (err) {
        // Only failures a retry can fix are retried (mail relay down, database unavailable).
        if (isOtklikError(err) && !err.retryable) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    { connection: workerConnection, prefix, concurrency: 4 },
  );
  worker.on('failed', (job, err) =>
    opts.log.warn({ job: job?.name, id: job?.id, err: err.message }, 'job failed'),
  );
  await queue.upsertJobScheduler('sweep', { every: opts.sweepIntervalMs }, { name: 'sweep' });

  return {
    sweepNow: sweep,
    async close() {
      await worker.close();
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
