import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { retentionPolicy } from '../admin/jobs/retention.js';
import { type RunningWorker, startWorker } from '../admin/jobs/worker.js';
import { agencyAnswerPlugin } from '../admin/plugins/agency-answer.js';
import { callReportsPlugin } from '../admin/plugins/call-reports.js';
import { callbacksPlugin } from '../admin/plugins/callbacks.js';
import { callsPlugin } from '../admin/plugins/calls.js';
import { deskPlugin } from '../admin/plugins/desk.js';
import { inboxPlugin } from '../admin/plugins/inbox.js';
import { incidentsPlugin } from '../admin/plugins/incidents.js';
import { inquiriesPlugin } from '../admin/plugins/inquiries.js';
import { kbPlugin } from '../admin/plugins/kb.js';
import { kbAnswersPlugin, noticeKick } from '../admin/plugins/kb-answers.js';
import { kbHistoryPlugin } from '../admin/plugins/kb-history.js';
import { nluModelsPlugin } from '../admin/plugins/nlu-models.js';
import { qualityPlugin } from '../admin/plugins/quality.js';
import { recordingsPlugin } from '../admin/plugins/recordings.js';
import { reportRunsPlugin } from '../admin/plugins/report-runs.js';
import { reportsPlugin } from '../admin/plugins/reports.js';
import { studioIntentsPlugin } from '../admin/plugins/studio-intents.js';
import { studioRefsPlugin } from '../admin/plugins/studio-refs.js';
import { studioTryPlugin } from '../admin/plugins/studio-try.js';
import { usersPlugin } from '../admin/plugins/users.js';
import { engineBuild } from '../admin/report-engine.js';
import { adminArea, build, type ComponentHealth } from '../admin/server.js';
import type { TypedApp } from '../admin/typed.js';
import { addUser, countUsers } from '../admin/users.js';
import { markInterruptedCalls } from '../calls/records.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { createMetrics, type Metrics } from '../core/metrics.js';
import { configuredMailer } from '../inquiries/dispatch.js';
import type { PlaceCall } from '../inquiries/relay.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { ensureSeeded } from '../kb/seed.js';
import { createNluService, type NluService } from '../nlu/service.js';
import { type AssembledSpeechServices, createSpeechServices } from '../speech/services.js';
import { timeSpeech } from '../speech/timed.js';
import type { EngineState } from '../speech/types.js';
import { openStore } from '../store/open.js';
import type { Sql } from '../store/sql.js';
import { startDeskDispatcher } from '../telephony/acd/dispatcher.js';
import { callbackSettings, startTelephony, type TelephonyApp } from '../telephony/app.js';
import { callerPriority } from '../telephony/priority.js';
import { OperatorQueue } from '../telephony/queue.js';
import { type MediaSocket, startMediaSocket } from '../voicebot/channels/media/server.js';
import { ChatRouter } from '../voicebot/channels/text/chat-router.js';
import { ChatSessions } from '../voicebot/channels/text/chat-sessions.js';
import textChatPlugin from '../voicebot/channels/text/plugin.js';
import { runCall, type SessionDeps } from '../voicebot/session.js';
import { answerLinkOptions } from './answer-link-secret.js';
import { storeReadings } from './metrics.js';
import { allSchemas } from './schema.js';
import { readTlsMaterial } from './tls.js';

/**
 * `otklik serve`: every part in one process. Each part that fails to start (speech, Redis, telephony) is
 * logged and left out; the rest keeps serving, so a caller always reaches the menu, the queue or a message.
 */
export interface RunningServices {
  http: TypedApp;
  httpUrl: string;
  media: MediaSocket;
  /** ws://host:port or wss://host:port of the media socket. */
  mediaUrl: string;
  /** The speech engines every voice call uses, with the TTS cache; null when they did not start. */
  speech: AssembledSpeechServices | null;
  /** The process's Prometheus metrics, served at /metrics. */
  metrics: Metrics;
  stop(): Promise<void>;
}

/** How much longer than the ring time the bot waits for telephony's answer to a forward. */
const FORWARD_RESULT_MARGIN_MS = 5_000;
const NLU_RECHECK_MS = 30_000;
/** Redis down at start-up: the job worker is tried again this often, so jobs start when it comes up. */
const JOBS_RESTART_MS = 30_000;
/** A web chat without activity this long is closed; its checkpoint in Redis is kept as long. */
const CHAT_IDLE_MS = 15 * 60_000;

function engineHealth(state: EngineState): ComponentHealth {
  if (state.status === 'ready') return { status: 'ready' };
  return { status: state.status, message: state.message };
}

/** The first start creates `admin` so that someone can sign in; its password goes to a file only root reads. */
async function bootstrapAdmin(sql: Sql, config: Config, log: Logger): Promise<void> {
  if ((await countUsers(sql)) > 0) return;
  const chosen = config.staff.adminPassword;
  const password = chosen ?? randomBytes(12).toString('base64url');
  await addUser(sql, { login: 'admin', name: 'Администратор', role: 'admin', password });
  if (!chosen) {
    mkdirSync(config.dataDir, { recursive: true });
    const file = join(config.dataDir, 'admin-password.txt');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    log.warn({ file }, 'created the staff user "admin"; its password is in this file');
  }
}

/** The API's version in its description (/docs/json): the package's. */
const API_VERSION = '0.1.0';

export async function startServices(config: Config, log: Logger): Promise<RunningServices> {
  // Certificates and keys are read once, before anything starts: a missing or bad file stops start-up.
  const tls = readTlsMaterial(config);
  const metrics = createMetrics({
    onReadError: (source, err) => log.warn({ err, source }, 'a metrics reading failed'),
  });
  const sql = await openStore(config, allSchemas);
  const stops: Array<() => Promise<void>> = [() => sql.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error({ err }, 'stop failed'));
  };
  try {
    log.info({ instanceId: config.instanceId }, 'starting: this process is instance %s', config.instanceId);
    if (await ensureSeeded(sql)) log.info('loaded the sample knowledge base into the empty store');
    const interrupted = await markInterruptedCalls(sql, config.instanceId);
    if (interrupted > 0)
      log.warn(
        { interrupted, instanceId: config.instanceId },
        "this instance's calls left open by its last run are marked interrupted",
      );
    await bootstrapAdmin(sql, config, log);

    const kb = createKnowledgeBase(sql);
    // The store's model registry: every node serves the active model; a KB change trains and evaluates one.
    const nlu: NluService = await createNluService({
      kb,
      modelDir: config.nlu.modelDir,
      log,
      registry: { sql },
    });
    stops.push(() => nlu.close());
    const retrain = setInterval(() => {
      nlu
        .retrainIfStale()
        .catch((err) => log.error({ err }, 'NLU retraining failed; the old model keeps serving'));
    }, NLU_RECHECK_MS);
    stops.push(async () => clearInterval(retrain));

    let speech: AssembledSpeechServices | undefined;
    try {
      speech = timeSpeech(
        await createSpeechServices(config, log, tls.speechClient ? { clientTls: tls.speechClient } : {}),
        metrics,
      );
      stops.push(() => speech!.close());
    } catch (err) {
      log.error({ err }, 'speech engines unavailable: voice calls get the keypad menu and operators');
    }

    const queue = new OperatorQueue(sql, {
      waitNormMs: config.telephony.queueWaitNormMs,
      callbacks: callbackSettings(config),
      // Emergency-adjacent reasons first, then the configured VIP numbers, then callbacks (telephony/priority.ts).
      priorityOf: callerPriority({ vipNumbers: config.telephony.vipNumbers }),
    });
    // One queue per KB topic, so that staff can give each its strategy, norm and operators.
    const topicQueues = await queue.ensureQueues(
      (await kb.topics()).map((t) => ({ id: t.id, name: t.title })),
    );
    if (topicQueues.length > 0) log.info({ queues: topicQueues }, 'created a queue for each new KB topic');
    metrics.readFrom(storeReadings({ sql, queue, ...(speech ? { ttsCache: speech.ttsCache } : {}) }));
    const sessionDeps: SessionDeps = {
      kb,
      nlu: () => nlu.classifier(),
      sql,
      log,
      // The operator queue is the sessions' hand-off (with its wait norm); it tells a web chat it is unserved
      // while no operator is signed in.
      handOff: queue,
      instanceId: config.instanceId,
      metrics,
      ...(speech ? { speech } : {}),
      ...(config.telephony.emergencyTransferUri
        ? { emergencyTransferUri: config.telephony.emergencyTransferUri }
        : {}),
    };

    const health = async (): Promise<Record<string, ComponentHealth>> => ({
      nlu: { status: 'ready', message: nlu.classifier().modelVersion },
      ...(speech
        ? {
            vad: engineHealth(speech.vad.state()),
            asr: engineHealth(speech.asr.state()),
            tts: engineHealth(speech.tts.state()),
          }
        : { speech: { status: 'failed', message: 'речевые движки не запущены' } }),
      telephony: telephony ? { status: 'ready' } : { status: 'off', message: 'DRACHTIO_HOST не задан' },
      jobs: worker
        ? await worker.health()
        : { status: 'failed', message: 'Redis недоступен: обращения не передаются уполномоченным лицам' },
      mail: mailer
        ? { status: 'ready' }
        : {
            status: 'off',
            message:
              'SMTP_URL не задан: обращения не отправляются по почте, передайте их уполномоченным лицам вручную',
          },
    });

    let telephony: TelephonyApp | undefined;
    let worker: RunningWorker | undefined;
    const mailer = configuredMailer(config.mail, log);
    // The answer studio's notices (approvers of a submitted draft, the author of a returned one).
    const answerNotices = {
      sql,
      mailer,
      log,
      ...(config.mail.publicUrl ? { baseUrl: config.mail.publicUrl } : {}),
    };
    // The agencies' answer links: signed in the dispatch mail, checked by the answer form's routes.
    const answerLink = answerLinkOptions(config, log);
    const reportBuild = engineBuild({ sql, kb, defaultNormMs: config.telephony.queueWaitNormMs });

    // The live web chats: one set, shared by the citizens' chat and the operator desk (which types into them).
    const chatSessions = new ChatSessions(sessionDeps, { idleTimeoutMs: CHAT_IDLE_MS });
    // Shared with the other nodes over Redis (the chat's owner serves it, another takes it over); without
    // Redis, in this process's memory.
    const chats = await ChatRouter.start({
      sessions: chatSessions,
      sql,
      log,
      instanceId: config.instanceId,
      redis: {
        url: config.redis.url,
        prefix: config.nodes.queuePrefix,
        leaseMs: config.nodes.chatLeaseMs,
        forwardTimeoutMs: config.nodes.chatForwardTimeoutMs,
        stateTtlMs: CHAT_IDLE_MS,
      },
    });
    stops.push(() => chats.close());
    // Chats are offered by this loop (phone calls by telephony's dispatcher, which rings or bridges them).
    const deskDispatcher = startDeskDispatcher({ queue, channel: 'text', log });
    stops.push(() => deskDispatcher.stop());
    const http = await build({
      sql,
      log,
      health,
      signIn: config.signIn,
      ...(tls.https ? { https: tls.https } : {}),
      metrics: { metrics, ...(config.metrics.token ? { token: config.metrics.token } : {}) },
      docs: { version: API_VERSION },
      plugins: [
        adminArea(kbPlugin, { sql, onSubmit: noticeKick(answerNotices, () => new Date()) }),
        adminArea(kbAnswersPlugin, { sql, log, notices: answerNotices }),
        adminArea(kbHistoryPlugin, { sql }),
        adminArea(inboxPlugin, { sql, kb, retrain: () => nlu.retrainIfStale(), log }),
        adminArea(studioIntentsPlugin, { sql }),
        // «Проверка фразы»: the serving classifier and this process's recognizer; a chat waits when staffed.
        adminArea(studioTryPlugin, {
          kb,
          nlu: () => nlu.classifier(),
          ...(speech ? { asr: speech.asr } : {}),
          handOff: queue,
          log,
        }),
        adminArea(usersPlugin, { sql }),
        adminArea(incidentsPlugin, { sql }),
        adminArea(studioRefsPlugin, { sql }),
        adminArea(nluModelsPlugin, { sql, trainer: nlu.trainer }),
        adminArea(callsPlugin, {
          sql,
          queue,
          health: async () => ({ components: await health() }),
          timeZone: kb.timezone,
        }),
        // The desk's acts on live phone calls go to this process's telephony (started below, if configured).
        adminArea(deskPlugin, {
          sql,
          queue,
          kb,
          timeZone: kb.timezone,
          chats,
          phone: () => telephony?.calls,
        }),
        adminArea(inquiriesPlugin, { sql }),
        adminArea(agencyAnswerPlugin, { sql, secret: answerLink?.secret }),
        adminArea(recordingsPlugin, { sql }),
        adminArea(reportsPlugin, { sql, timeZone: kb.timezone }),
        adminArea(qualityPlugin, { sql, timeZone: kb.timezone, topics: kb.topics }),
        // Long periods in the background, on any node (runs are rows of the store; no Redis needed).
        adminArea(reportRunsPlugin, { sql, build: reportBuild, log }),
        adminArea(callReportsPlugin, {
          sql,
          kb,
          defaultNormMs: config.telephony.queueWaitNormMs,
          feed: {
            ratePerMinute: config.reports.feedRatePerMinute,
            ...(config.reports.feedToken ? { token: config.reports.feedToken } : {}),
          },
        }),
        // A callback due later is woken by the job worker's delayed job (its sweep, when Redis was down).
        adminArea(callbacksPlugin, {
          sql,
          callbacks: queue.callbacks,
          schedule: async (cb) => worker?.scheduleCallback(cb),
          log,
        }),
        adminArea(textChatPlugin, { deps: sessionDeps, chats: chatSessions, router: chats }),
      ],
    });
    const httpUrl = await http.listen({ host: config.http.host, port: config.http.port });
    stops.push(() => http.close());

    // Without MEDIA_SOCKET_SECRET the forks are signed with a key of this process: only the telephony started
    // below knows it, and the socket serves only this host (it says so in the log).
    const mediaAuth = config.mediaSocket.secret
      ? { secret: config.mediaSocket.secret }
      : { secret: randomBytes(32).toString('base64url'), loopbackOnly: true };
    const media = await startMediaSocket({
      host: config.mediaSocket.host,
      port: config.mediaSocket.port,
      log,
      // Telephony rings a forward for FORWARD_TIMEOUT_MS; its result needs a moment more to come back.
      forwardTimeoutMs: config.telephony.forwardTimeoutMs + FORWARD_RESULT_MARGIN_MS,
      auth: mediaAuth,
      ...(tls.mediaSocket ? { tls: tls.mediaSocket } : {}),
      // A session that fails closes its socket (the media socket logs it), and telephony takes the caller on.
      onCall: (leg) => runCall(leg, sessionDeps),
    });
    stops.push(() => media.close());
    const mediaUrl = `${tls.mediaSocket ? 'wss' : 'ws'}://${config.mediaSocket.host}:${media.port}`;

    if (config.telephony.drachtioHost) {
      try {
        telephony = await startTelephony(config, {
          sql,
          log,
          kb,
          tts: speech?.tts ?? null,
          mediaSocketSecret: mediaAuth.secret,
        });
        const app = telephony;
        // The desk and telephony each hold an OperatorQueue on the one store: an accept on this node's desk
        // starts telephony's round at once (another node's accept is seen at its next tick).
        const unsubscribe = queue.onChange((e) => {
          if (e.event === 'accepted')
            void app.calls.tick().catch((err) => log.error({ err }, 'operator queue dispatch failed'));
        });
        stops.push(async () => {
          unsubscribe();
          await app.drain();
          await app.close();
        });
      } catch (err) {
        log.error({ err }, 'telephony did not start; the media socket and chat keep working');
      }
    }

    // Agencies' answers are called back to citizens through telephony (the `inquiry-answer` flow rides in the
    // call's metadata); without it nobody can be called, and operators relay the answers by hand.
    let placeCall: PlaceCall | undefined;
    if (telephony) {
      const calls = telephony.calls;
      placeCall = async (req) => {
        const placed = await calls.placeOutbound({
          target: req.target,
          // The citizen sees the line's own number calling back (config telephony.numbers, the first).
          from: config.telephony.numbers[0]!,
          flowId: req.flowId,
          metadata: req.metadata,
        });
        return { status: placed.result.status };
      };
    } else {
      log.warn('telephony is off: answered inquiries wait for operators to call the citizens back');
    }

    const startJobs = async (): Promise<boolean> => {
      try {
        const started = await startWorker({
          redisUrl: config.redis.url,
          sql,
          mailer,
          log,
          sweepIntervalMs: config.jobs.sweepIntervalMs,
          prefix: config.nodes.queuePrefix,
          callbacks: queue.callbacks,
          metrics,
          mailFrom: config.mail.from,
          reminders: { beforeMs: config.jobs.reminderBeforeMs, supervisorEmail: config.mail.supervisorEmail },
          ...(answerLink ? { answerLink } : {}),
          ...(placeCall ? { placeCall } : {}),
          retention: { policy: retentionPolicy(config.retention), intervalMs: config.retention.intervalMs },
          reports: { build: reportBuild, timeZone: kb.timezone },
          answerNotices,
        });
        worker = started;
        stops.push(() => started.close());
        return true;
      } catch (err) {
        log.error({ err }, 'the job worker did not start (Redis?); inquiries wait in the store');
        return false;
      }
    };
    if (!(await startJobs())) {
      // Inquiries are in the store: the worker starts whenever Redis comes up, without a restart of serve.
      let trying = false;
      const retry = setInterval(() => {
        if (trying) return;
        trying = true;
        startJobs()
          .then((ok) => ok && clearInterval(retry))
          .finally(() => {
            trying = false;
          });
      }, JOBS_RESTART_MS);
      retry.unref();
      stops.push(async () => clearInterval(retry));
    }

    // Stops run last-in first: a stop (SIGTERM) first hands the chats on to the other nodes, while this one
    // still answers, then telephony drains its calls.
    stops.push(() => chats.drain());
    log.info(
      {
        http: httpUrl,
        mediaSocket: mediaUrl,
        instanceId: config.instanceId,
      },
      'Otklik is up',
    );
    return { http, httpUrl, media, mediaUrl, speech: speech ?? null, metrics, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
