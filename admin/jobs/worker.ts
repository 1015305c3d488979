import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { AnswerLinkOptions } from '../../inquiries/agency-link.js';
import { dispatchInquiry, type Mailer, undispatchedInquiries } from '../../inquiries/dispatch.js';
import { type NeedsOperator, type PlaceCall, relayAnswers } from '../../inquiries/relay.js';
import { remindAndEscalate } from '../../inquiries/reminders.js';
import type { Sql } from '../../store/sql.js';
import type { Callbacks } from '../../telephony/queue.js';
import { type AnswerNoticeDeps, mailAnswerNotices } from '../answer-notices.js';
import { mailScheduledReports } from '../report-mail.js';
import type { BuildReport } from '../report-runs.js';
import type { ComponentHealth } from '../server.js';
import { type RetentionPolicy, runRetention } from './retention.js';

/**
 * BullMQ wiring of the back-office jobs. The jobs are the inquiries part's plain async functions
 * (inquiries/dispatch.ts, inquiries/relay.ts); this file only schedules them and holds no inquiry SQL.
 * A repeating sweep finds inquiries not yet sent to their agency and queues one dispatch job each (job id =
 * inquiry id, so a sweep never queues one twice); the sweep interval (default one minute) keeps the 15-minute
 * dispatch norm with a wide margin. With a way to place calls (telephony up), the sweep also calls citizens
 * back with their agencies' answers (relayAnswers); without one, answered inquiries wait for operators.
 * Telephony's callbacks ride on the same queue: a `callback-due` job delayed to a callback's due time puts it
 * in the operator queue (telephony/acd/callbacks.ts), and the sweep puts every due one there and re-creates the
 * delayed jobs of the later ones from the table. The retention job (152-FZ, admin/jobs/retention.ts) is a
 * repeatable `retention` job on the same queue, every RETENTION_INTERVAL_MS and once at start.
 *
 * The store, not Redis, says what is still to send: a dispatch job that used up its attempts is removed, so
 * the next sweep queues that inquiry afresh and a long mail outage only delays it; a permanent rejection is
 * marked on the inquiry and never retried. Redis may lose everything (a restart without persistence): the
 * sweep's scheduler is re-created when the connection is ready again and checked on every interval.
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
  /** Tries of one dispatch job and the first backoff (doubling); the next sweep queues a new job after. */
  dispatchRetry?: { attempts: number; backoffMs: number };
  /**
   * Telephony's callbacks: a `callback-due` job (delayed to the callback's due time) puts it in the operator
   * queue; the sweep puts every due one there and re-creates the delayed jobs from the table (a Redis that
   * lost them), and an inquiry the relay could not deliver becomes an operator's callback. Without it, none.
   */
  callbacks?: Callbacks;
  /**
   * The retention job (152-FZ, admin/jobs/retention.ts): a repeatable `retention` job every `intervalMs`
   * (and once when the worker starts) removes personal data past its period. Without it, none runs here.
   */
  retention?: { policy: RetentionPolicy; intervalMs: number };
  /**
   * The mailed reports (admin/report-mail.ts): a repeatable `report-mail` job every sweep interval mails each
   * enabled schedule's previous local day or week once. Without it, none are mailed from here.
   */
  reports?: { build: BuildReport; timeZone: () => Promise<string> };
  now?: () => Date;
  /** The signed answer link in each dispatch mail (inquiries/agency-link.ts); without it, none. */
  answerLink?: AnswerLinkOptions;
  /** The sender's address (mail.from), the domain of the dispatch mail's Message-ID. */
  mailFrom?: string;
  /**
   * Reminders `beforeMs` before an agency's deadline and the escalation to `supervisorEmail` after it
   * (inquiries/reminders.ts), on each sweep; without it, none.
   */
  reminders?: { beforeMs: number; supervisorEmail?: string | undefined };
  /**
   * The answer studio's notices (admin/answer-notices.ts): on each sweep, the submits and returns not yet
   * mailed (a mail that failed when the route tried it). Without it, none from here.
   */
  answerNotices?: Omit<AnswerNoticeDeps, 'now'>;
  /** Counts each failed try of a job (otklik_job_failures_total). */
  metrics?: Pick<Metrics, 'jobFailures'>;
  /** How long `close()` waits for the running jobs before it stops without them (CLOSE_GRACE_MS). */
  closeGraceMs?: number;
}

export interface RunningWorker {
  /** Runs one sweep now (the CLI and tests use it; the schedule runs it on its own). */
  sweepNow(): Promise<void>;
  /**
   * A callback created or changed (the desk): due now, it goes to the operator queue at once; due later, a
   * delayed job wakes it then. The sweep would do the same within its interval.
   */
  scheduleCallback(callback: { id: string; state: string; dueAt: Date | null }): Promise<void>;
  /** Mails the scheduled reports that are due now (the schedule runs it on its own). */
  mailReportsNow(): Promise<unknown>;
  /** Whether jobs run: Redis reachable and the sweep scheduled (for /api/health and the overview). */
  health(): Promise<ComponentHealth>;
  close(): Promise<void>;
}

const QUEUE = 'otklik-inquiries';
const SWEEP = 'sweep';
const RETENTION = 'retention';
const REPORT_MAIL = 'report-mail';
/** 8 tries 5 s, 10 s ... 640 s apart: about 11 minutes per job, then the next sweep starts another. */
export const DISPATCH_RETRY = { attempts: 8, backoffMs: 5000 } as const;
/**
 * How long a close waits for the running jobs (a relay call rings and speaks for about a minute). After it
 * the worker stops without them, and BullMQ's stalled-job check hands them to the next worker: a stop must
 * end, whatever a job does.
 */
export const CLOSE_GRACE_MS = 30_000;
/** How long /api/health waits for Redis to answer before calling it down. */
const HEALTH_PING_MS = 1000;

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

/** What a finished retention job keeps in Redis: counts per kind, no ids. */
const summary = (r: Awaited<ReturnType<typeof runRetention>>) =>
  Object.fromEntries(r.kinds.map((k) => [k.kind, k.callIds.length]));

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
  const deps = {
    sql: opts.sql,
    mailer: opts.mailer,
    log: opts.log,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.answerLink ? { answerLink: opts.answerLink } : {}),
    ...(opts.mailFrom ? { mailFrom: opts.mailFrom } : {}),
  };
  const retry = opts.dispatchRetry ?? DISPATCH_RETRY;

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
      ...(opts.callbacks ? { onNeedsOperator: inquiryCallback } : {}),
    });
    try {
      await relaying;
    } finally {
      relaying = null;
    }
  };

  const now = opts.now ?? (() => new Date());
  /** The inquiry's answer is for an operator to read out: a callback on the desk, once per inquiry. */
  const inquiryCallback = async (inquiry: NeedsOperator) => {
    const callback = await opts.callbacks!.create({
      id: `inquiry-${inquiry.id}`,
      source: 'inquiry',
      phone: inquiry.callbackNumber,
      topicId: inquiry.topicId,
      context: { inquiryId: inquiry.id, inquiryCallId: inquiry.callId, reason: 'inquiry_answer' },
    });
    await scheduleCallback(callback);
  };
  // The job id names the due time: a callback moved to another time gets a new job, and the old one, when it
  // fires, finds the callback not yet due and does nothing.
  const scheduleCallback = async (cb: { id: string; state: string; dueAt: Date | null }) => {
    const callbacks = opts.callbacks;
    if (!callbacks || (cb.state !== 'pending' && cb.state !== 'scheduled')) return;
    const delay = cb.dueAt ? cb.dueAt.getTime() - now().getTime() : 0;
    if (delay <= 0) {
      await callbacks.enqueueDue(cb.id);
      return;
    }
    await queue.add(
      'callback-due',
      { callbackId: cb.id },
      {
        jobId: `callback-${cb.id}-${cb.dueAt!.getTime()}`,
        delay,
        attempts: retry.attempts,
        backoff: { type: 'exponential', delay: retry.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  };
  const sweepCallbacks = async () => {
    const callbacks = opts.callbacks;
    if (!callbacks) return;
    await callbacks.enqueueDue();
    for (const cb of await callbacks.scheduled()) await scheduleCallback({ ...cb, state: 'scheduled' });
  };

  const sweep = async () => {
    for (const inquiryId of await undispatchedInquiries(opts.sql)) {
      await queue.add(
        'dispatch',
        { inquiryId },
        {
          jobId: `inquiry-${inquiryId}`,
          attempts: retry.attempts,
          backoff: { type: 'exponential', delay: retry.backoffMs },
          // BullMQ ignores an add whose job id still exists: a finished job must not stay behind, or an
          // inquiry whose job gave up during an outage would never be queued again.
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    }
    if (opts.reminders)
      await remindAndEscalate({
        sql: opts.sql,
        mailer: opts.mailer,
        log: opts.log,
        now,
        beforeMs: opts.reminders.beforeMs,
        supervisorEmail: opts.reminders.supervisorEmail,
      });
    if (opts.answerNotices)
      await mailAnswerNotices({ ...opts.answerNotices, now }).catch((err) =>
        opts.log.warn({ err }, 'answer notices not mailed; the next sweep tries again'),
      );
    await relay();
    await sweepCallbacks();
  };

  const retention = async () => {
    if (!opts.retention) return undefined;
    const report = await runRetention(opts.sql, opts.retention.policy, { now: now(), source: 'worker' });
    const calls = summary(report);
    opts.log.info({ calls }, 'retention: personal data past its period removed');
    return calls;
  };

  const mailReports = async () =>
    opts.reports
      ? await mailScheduledReports({
          sql: opts.sql,
          mailer: opts.mailer,
          log: opts.log,
          build: opts.reports.build,
          timeZone: opts.reports.timeZone,
          now,
        })
      : undefined;

  const worker = new Worker(
    QUEUE,
    async (job) => {
      try {
        if (job.name === 'sweep') return await sweep();
        if (job.name === 'dispatch') return await dispatchInquiry(deps, Number(job.data.inquiryId));
        if (job.name === RETENTION) return await retention();
        if (job.name === REPORT_MAIL) return await mailReports();
        if (job.name === 'callback-due')
          return opts.callbacks ? await opts.callbacks.enqueueDue(String(job.data.callbackId)) : undefined;
        throw new UnrecoverableError(`unknown job ${job.name}`);
      } catch (err) {
        // Only failures a retry can fix are retried (mail relay down, database unavailable).
        if (isOtklikError(err) && !err.retryable) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    { connection: workerConnection, prefix, concurrency: 4 },
  );
  // The jobs this process runs, until BullMQ has recorded their end: a close waits for them itself.
  let active = 0;
  let idle: (() => void) | null = null;
  const ended = () => {
    active = Math.max(0, active - 1);
    if (active === 0) idle?.();
  };
  worker.on('active', () => {
    active++;
  });
  worker.on('completed', ended);
  worker.on('failed', (job) => {
    if (job) ended();
  });
  worker.on('failed', (job, err) => {
    opts.metrics?.jobFailures.inc({ job: job?.name ?? 'unknown' });
    const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) : true;
    opts.log.warn(
      { job: job?.name, id: job?.id, attempts: job?.attemptsMade, err: err.message },
      final && job?.name === 'dispatch'
        ? 'dispatch gave up for now; the next sweep queues it again'
        : 'job failed',
    );
  });
  // Without listeners BullMQ prints these to the console; a lost connection is already logged above.
  worker.on('error', (err) => opts.log.debug({ err: err.message }, 'job worker problem'));
  queue.on('error', (err) => opts.log.debug({ err: err.message }, 'job queue problem'));

  // The scheduler lives in Redis only. At start-up it is upserted (a changed JOBS_SWEEP_INTERVAL_MS takes
  // effect); later checks re-create it only when it is missing, as an upsert moves the next run and a check
  // on every interval must not keep postponing the sweep.
  const schedule = async () => {
    await queue.upsertJobScheduler(SWEEP, { every: opts.sweepIntervalMs }, { name: SWEEP });
    // The retention job: BullMQ runs an `every` scheduler's first job at once, so a restart never postpones it.
    if (opts.retention)
      await queue.upsertJobScheduler(
        RETENTION,
        { every: opts.retention.intervalMs },
        { name: RETENTION, opts: { removeOnComplete: 10, removeOnFail: 50 } },
      );
    if (opts.reports)
      await queue.upsertJobScheduler(
        REPORT_MAIL,
        { every: opts.sweepIntervalMs },
        { name: REPORT_MAIL, opts: { removeOnComplete: true, removeOnFail: 50 } },
      );
  };
  let checking: Promise<void> | null = null;
  let closed = false;
  const ensureSchedule = () => {
    checking ??= (async () => {
      try {
        const missing =
          !(await queue.getJobScheduler(SWEEP)) ||
          (opts.retention !== undefined && !(await queue.getJobScheduler(RETENTION))) ||
          (opts.reports !== undefined && !(await queue.getJobScheduler(REPORT_MAIL)));
        if (!missing) return;
        await schedule();
        opts.log.warn('a job schedule was missing in Redis (restarted?); scheduled it again');
      } finally {
        checking = null;
      }
    })();
    return checking;
  };
  await schedule();
  const recheck = () => {
    if (closed) return;
    ensureSchedule().catch((err) =>
      opts.log.warn({ err: (err as Error).message }, 'could not check the inquiry sweep schedule'),
    );
  };
  queueConnection.on('ready', recheck);
  const selfCheck = setInterval(recheck, opts.sweepIntervalMs);
  selfCheck.unref();

  const down = {
    status: 'failed',
    message: 'Redis недоступен: обращения не передаются уполномоченным лицам, пока он не вернётся',
  } as const;
  const health = async (): Promise<ComponentHealth> => {
    if (queueConnection.status !== 'ready') return down;
    let timer: NodeJS.Timeout | undefined;
    try {
      const scheduled = await Promise.race([
        queue.getJobScheduler(SWEEP),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Redis did not answer')), HEALTH_PING_MS);
        }),
      ]);
      if (!scheduled)
        return { status: 'degraded', message: 'расписание обхода обращений потеряно; восстанавливается' };
      return { status: 'ready' };
    } catch {
      return down;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    sweepNow: sweep,
    mailReportsNow: mailReports,
    scheduleCallback,
    health,
    async close() {
      closed = true;
      clearInterval(selfCheck);
      queueConnection.off('ready', recheck);
      if (queueConnection.status !== 'ready') {
        // Redis is gone: a graceful close would wait for it forever and `serve` would never stop. Jobs that
        // were running are taken up again by BullMQ's stalled-job check once Redis is back.
        queueConnection.disconnect();
        workerConnection.disconnect();
        await Promise.allSettled([worker.close(true), queue.close()]);
        return;
      }
      // Graceful, but bounded, and not through BullMQ's graceful close: that one waits for the blocking
      // connection's end, which a connection still reconnecting after a Redis outage never sends
      // (taskforcesh/bullmq#4656). No new job is taken, the running ones may finish within the grace, then
      // the worker closes at once (a job cut short is taken up again by BullMQ's stalled-job check).
      await worker.pause(true).catch(() => {});
      const graceMs = opts.closeGraceMs ?? CLOSE_GRACE_MS;
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        new Promise<true>((resolve) => {
          idle = () => resolve(true);
          if (active === 0) resolve(true);
        }),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!inTime)
        opts.log.warn(
          { graceMs, running: active },
          'jobs still running when the worker stopped; another worker takes them up',
        );
      await Promise.allSettled([worker.close(true), queue.close()]);
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
