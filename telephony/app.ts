import { join, resolve } from 'node:path';
import Srf from 'drachtio-srf';
import type { Config } from '../core/config.js';
import { OtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { KnowledgeBase } from '../kb/types.js';
import type { TtsEngine } from '../speech/types.js';
import type { Sql } from '../store/sql.js';
import { CallControl } from './call-control.js';
import { placeCallback } from './callback-call.js';
import { type DrachtioWatchdogOptions, watchDrachtio } from './drachtio-watchdog.js';
import { connectMediaServer } from './fsmrf.js';
import { callerPriority } from './priority.js';
import { type PromptFiles, preparePrompts } from './prompts.js';
import { type CallbackSettings, OperatorQueue } from './queue.js';
import { answerInvite } from './sip-inbound.js';

/**
 * The drachtio-srf application: drachtio-server hands us INVITEs for the numbers we serve; each caller is
 * answered through a FreeSWITCH endpoint (drachtio-fsmrf), and CallControl runs the call on its channel.
 * This file is only the SIP edge's frame: admission (503 while draining, 404 for numbers we do not serve:
 * neither configured in TELEPHONY_NUMBERS nor listed in the KB's numbers), the
 * queue dispatcher's clock, the drachtio-server watchdog, start and stop; sip-inbound.ts runs each caller's
 * dialogs.
 */
export interface TelephonyDeps {
  sql: Sql;
  log: Logger;
  kb?: KnowledgeBase | null;
  /** Synthesizes the messages telephony plays on its own (apology, hold); without it they are skipped. */
  tts?: TtsEngine | null;
  /** How often the operator queue is dispatched. */
  dispatchIntervalMs?: number;
  /**
   * The key the audio forks' metadata is signed with: MEDIA_SOCKET_SECRET, or in `otklik serve` without it
   * the per-process key its media socket checks. Unset, the voice bot refuses every fork.
   */
  mediaSocketSecret: string | undefined;
  /** How often the drachtio-server connection is pinged and how long an answer may take (reconnect after). */
  drachtioWatchdog?: DrachtioWatchdogOptions;
  /** The clock of call records (tests inject one). */
  now?: () => Date;
}

export interface TelephonyApp {
  readonly calls: CallControl;
  readonly queue: OperatorQueue;
  /** Stops taking calls (SIP 503), waits up to drainTimeoutMs for calls in progress, queues the rest. */
  drain(): Promise<{ finished: boolean; handedOver: string[] }>;
  close(): Promise<void>;
}

export type Admission = { accept: true } | { accept: false; status: 404 | 503; reason: string };

function digits(number: string): string {
  return number
    .replace(/^sips?:/, '')
    .replace(/@.*$/, '')
    .replace(/\D/g, '');
}

/**
 * Whether to take an INVITE: only for the numbers we serve (the configured TELEPHONY_NUMBERS, or a number
 * the KB lists with its flow: `listed`), and never while draining.
 */
export function admit(opts: {
  accepting: boolean;
  calledNumber: string;
  numbers: readonly string[];
  listed?: boolean;
}): Admission {
  if (!opts.accepting) return { accept: false, status: 503, reason: 'Service Unavailable' };
  const called = digits(opts.calledNumber);
  const served = opts.listed === true || opts.numbers.some((n) => digits(n) === called && called !== '');
  return served ? { accept: true } : { accept: false, status: 404, reason: 'Not Found' };
}

/** Every topic: an operator reached through the configured URI takes any call. */
const ALL_TOPICS = ['health', 'military', 'refugees', 'services', 'social', 'education', 'service', 'dialog'];

function connectSrf(
  srf: Srf,
  opts: { host: string; port: number; secret: string; timeoutMs: number },
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      srf.disconnect();
      reject(
        new OtklikError('UNAVAILABLE', `drachtio-server ${opts.host}:${opts.port} did not answer`, {
          retryable: true,
        }),
      );
    }, opts.timeoutMs);
    srf.on('connect', (err) => {
      clearTimeout(timer);
      if (err) {
        // drachtio-srf would keep reconnecting with the same wrong secret: stop it.
        srf.disconnect();
        reject(new OtklikError('UNAVAILABLE', `drachtio-server refused us: ${err.message}`, { cause: err }));
      } else resolvePromise();
    });
    srf.on('error', () => {
      // drachtio-srf reconnects by itself; until the first connect the timer above decides.
    });
    srf.connect({ host: opts.host, port: opts.port, secret: opts.secret });
  });
}

/** The callback settings of the configuration (spacing, attempts, ACD priority). */
export function callbackSettings(config: Config): CallbackSettings {
  const t = config.telephony;
  return { retryMs: t.callbackRetryMs, maxAttempts: t.callbackMaxAttempts, priority: t.callbackPriority };
}

export async function startTelephony(config: Config, deps: TelephonyDeps): Promise<TelephonyApp> {
  const t = config.telephony;
  const log = deps.log.child({ part: 'telephony' });
  if (!t.drachtioHost) {
    throw new OtklikError('CONFIG_INVALID', 'telephony needs DRACHTIO_HOST (telephony.drachtioHost)');
  }
  if (!t.mediaSocketUrl)
    log.warn('MEDIA_SOCKET_URL is not set: every call goes straight to the operator queue');
  else if (!deps.mediaSocketSecret)
    log.error(
      'MEDIA_SOCKET_SECRET is not set: the voice bot refuses unsigned audio forks, so every call goes to the ' +
        'operator queue; set the same MEDIA_SOCKET_SECRET for telephony and the voice bot',
    );

  const srf = new Srf();
  await connectSrf(srf, {
    host: t.drachtioHost,
    port: t.drachtioPort,
    secret: t.drachtioSecret,
    timeoutMs: 10_000,
  });
  let media: Awaited<ReturnType<typeof connectMediaServer>>;
  try {
    media = await connectMediaServer(srf, {
      host: t.freeswitchHost,
      port: t.freeswitchPort,
      secret: t.freeswitchSecret,
    });
  } catch (err) {
    srf.disconnect();
    throw err;
  }
  const { ms, control } = media;
  ms.on('error', (err) => log.error({ err }, 'FreeSWITCH media server error'));

  // The offer outlives the softphone's ringing (FORWARD_TIMEOUT_MS), so it never lapses while the phone rings.
  const queue = new OperatorQueue(deps.sql, {
    waitNormMs: t.queueWaitNormMs,
    ringTimeoutMs: t.forwardTimeoutMs + 5_000,
    callbacks: callbackSettings(config),
    priorityOf: callerPriority({ vipNumbers: t.vipNumbers }),
  });
  if (t.operatorUri) {
    await queue.upsertOperator({
      id: 'default',
      name: 'Операторы (общий номер)',
      sipUri: t.operatorUri,
      skills: ALL_TOPICS,
    });
    await queue.setOperatorState('default', 'available');
  }
  let prompts: PromptFiles = {};
  const promptsDir = resolve(config.dataDir, 'telephony', 'prompts');
  if (deps.tts) {
    prompts = await preparePrompts({
      dir: promptsDir,
      tts: deps.tts,
      kb: deps.kb ?? null,
      log,
    });
  }
  const calls = new CallControl({
    sql: deps.sql,
    instanceId: config.instanceId,
    control,
    queue,
    log,
    recordingsDir: resolve(t.recordingsDir),
    audioDir: resolve(config.dataDir, 'telephony', 'audio'),
    mediaSocketUrl: t.mediaSocketUrl,
    mediaSocketSecret: deps.mediaSocketSecret,
    trunk: t.trunk,
    forwardTimeoutMs: t.forwardTimeoutMs,
    prompts,
    tts: deps.tts ?? null,
    promptsDir,
    holdRepeatMs: t.queueAnnounceIntervalMs,
    kb: deps.kb ?? null,
    fallbackOperatorUri: t.operatorUri,
    ...(deps.now ? { now: deps.now } : {}),
    // A callback rings the operator, then the citizen: it runs beside the dispatcher's rounds, not inside one.
    placeCallback: async (a, opts) => {
      const placing = { calls, queue, sql: deps.sql, from: t.numbers[0]!, log };
      void placeCallback(placing, a, opts).catch((err) =>
        log.error({ err, callId: a.callId }, 'callback failed'),
      );
    },
  });

  srf.invite(async (req, res) => {
    const configured = admit({
      accepting: calls.accepting,
      calledNumber: req.calledNumber,
      numbers: t.numbers,
    });
    // A number the KB lists (with the flow it runs) is served too; the configured ones need no KB read.
    const decision =
      configured.accept || !calls.accepting
        ? configured
        : admit({
            accepting: true,
            calledNumber: req.calledNumber,
            numbers: t.numbers,
            listed: (await calls.flowForNumber(req.calledNumber)) !== null,
          });
    if (!decision.accept) {
      res.send(
        decision.status,
        decision.reason,
        decision.status === 503 ? { headers: { 'Retry-After': '60' } } : {},
      );
      return;
    }
    await answerInvite({ srf, ms, control, calls, log, now: deps.now ?? (() => new Date()) }, req, res);
  });

  const watchdog = watchDrachtio(srf, {
    ...(deps.drachtioWatchdog ?? { intervalMs: 5000, timeoutMs: 5000 }),
    log,
  });
  const timer = setInterval(() => {
    calls.tick().catch((err) => log.error({ err }, 'operator queue dispatch failed'));
  }, deps.dispatchIntervalMs ?? 1000);
  timer.unref();
  log.info({ drachtio: `${t.drachtioHost}:${t.drachtioPort}`, numbers: t.numbers }, 'telephony ready');

  return {
    calls,
    queue,
    async drain() {
      const result = await calls.drain(t.drainTimeoutMs);
      log.info(result, 'telephony drained');
      return result;
    },
    async close() {
      clearInterval(timer);
      watchdog.stop();
      calls.release();
      control.close();
      ms.disconnect();
      srf.disconnect();
    },
  };
}

/** Where the telephony part keeps its working files, for the README and operations. */
export function telephonyPaths(config: Config): { recordings: string; prompts: string; audio: string } {
  return {
    recordings: resolve(config.telephony.recordingsDir),
    prompts: join(resolve(config.dataDir), 'telephony', 'prompts'),
    audio: join(resolve(config.dataDir), 'telephony', 'audio'),
  };
}
