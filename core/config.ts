import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OtklikError } from './errors.js';

/**
 * Configuration is parsed once at boot, from an optional file (OTKLIK_CONFIG, YAML or JSON) overlaid by
 * environment variables. A bad value stops start-up with a message naming the setting and its variable.
 * Durations are milliseconds unless the name says otherwise.
 */

/** Environment values arrive as strings: say what was given when it is not a whole number. */
const wholeNumber = (what: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    z.number({ error: (issue) => `expected ${what}, got ${JSON.stringify(issue.input)}` }).int(),
  );
const port = wholeNumber('a port number 0-65535').pipe(z.number().min(0).max(65535));
const ms = wholeNumber('a duration in milliseconds').pipe(z.number().min(0));
/** [6/7 retention] A keeping period in days (0: forever). */
const retentionDays = wholeNumber('a number of days (0: keep forever)').pipe(z.number().min(0).max(36_500));

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * The log level when LOG_LEVEL (or the file's log.level) is not set. A long-running service (`otklik serve`,
 * `worker`, `speech`) logs its work; a one-shot command prints its result on stdout and only problems on
 * stderr. The CLI picks the command default through loadConfig's `defaults`, so both live here.
 */
export const defaultLogLevel: { service: LogLevel; command: LogLevel } = { service: 'info', command: 'warn' };

/** Sign-in limits when the configuration says nothing; also the admin app's own default (admin/plugins/auth.ts). */
export const signInDefaults = { maxFailures: 5, lockoutMs: 900000 } as const;

// --- Encryption (TLS), issue [6/7]: certificate and key files (PEM), read once at boot by cli/tls.ts. ---
/** A file path; set in pairs where a certificate needs its key (both or neither, checked below). */
const pemFile = z.string().min(1).optional();
const tlsKeys = [
  'httpsCertFile',
  'httpsKeyFile',
  'mediaSocketCertFile',
  'mediaSocketKeyFile',
  'speechCertFile',
  'speechKeyFile',
  'speechClientCaFile',
  'speechCaFile',
  'speechClientCertFile',
  'speechClientKeyFile',
] as const;
const tlsPairs = [
  ['httpsCertFile', 'httpsKeyFile'],
  ['mediaSocketCertFile', 'mediaSocketKeyFile'],
  ['speechCertFile', 'speechKeyFile'],
  ['speechClientCertFile', 'speechClientKeyFile'],
] as const;
export const tlsEnvMap: Record<(typeof tlsKeys)[number], string> = {
  httpsCertFile: 'HTTPS_CERT_FILE',
  httpsKeyFile: 'HTTPS_KEY_FILE',
  mediaSocketCertFile: 'MEDIA_SOCKET_TLS_CERT_FILE',
  mediaSocketKeyFile: 'MEDIA_SOCKET_TLS_KEY_FILE',
  speechCertFile: 'SPEECH_TLS_CERT_FILE',
  speechKeyFile: 'SPEECH_TLS_KEY_FILE',
  speechClientCaFile: 'SPEECH_TLS_CLIENT_CA_FILE',
  speechCaFile: 'SPEECH_TLS_CA_FILE',
  speechClientCertFile: 'SPEECH_TLS_CLIENT_CERT_FILE',
  speechClientKeyFile: 'SPEECH_TLS_CLIENT_KEY_FILE',
};
export const tlsConfigSchema = z
  .object({
    /** HTTPS for the staff UI, the API and the web chat (its WebSocket becomes wss:// with it); unset: HTTP. */
    httpsCertFile: pemFile,
    httpsKeyFile: pemFile,
    /** The voice bot's media socket over TLS (FreeSWITCH forks to wss://…); unset: ws://. */
    mediaSocketCertFile: pemFile,
    mediaSocketKeyFile: pemFile,
    /** `otklik speech serve` over TLS; unset: plaintext gRPC (loopback or a private network only). */
    speechCertFile: pemFile,
    speechKeyFile: pemFile,
    /** On the speech service: only clients with a certificate this CA signed may connect (mutual TLS). */
    speechClientCaFile: pemFile,
    /** On the speech service's clients (SPEECH_URL): the CA that signed its certificate; set: TLS. */
    speechCaFile: pemFile,
    /** On the clients, for mutual TLS: their own certificate and key (needs speechCaFile). */
    speechClientCertFile: pemFile,
    speechClientKeyFile: pemFile,
  })
  .superRefine((tls, ctx) => {
    for (const pair of tlsPairs) {
      const [given, missing] = tls[pair[0]] ? pair : [pair[1], pair[0]];
      if (tls[given] && !tls[missing])
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: `не задан, а ${tlsEnvMap[given]} задан: нужны оба файла или ни одного / required together with ${given}`,
        });
    }
    if (tls.speechClientCertFile && !tls.speechCaFile)
      ctx.addIssue({
        code: 'custom',
        path: ['speechCaFile'],
        message: 'нужен для взаимного TLS с сервисом речи / required for mutual TLS with the speech service',
      });
  })
  .default({});
export type TlsConfig = z.infer<typeof tlsConfigSchema>;
// --- end of encryption (TLS) ---

export const configSchema = z.object({
  dataDir: z.string().default('./data'),
  /**
   * Names this running instance on the call records it writes, so that its restart closes only its own
   * calls. Must stay the same across restarts; default: host name, HTTP port and data directory.
   */
  instanceId: z.string().min(1).max(200).optional(),
  log: z
    .object({
      level: z.enum(logLevels).default(defaultLogLevel.service),
      pii: z.enum(['masked', 'clear']).default('masked'),
    })
    .default({ level: defaultLogLevel.service, pii: 'masked' }),
  /**
   * Staff accounts. The first start creates the user `admin` with adminPassword (unset: a random one, written
   * to dataDir/admin-password.txt); `otklik admin user-add` gives the new user newUserPassword. The time zone
   * is not here: it is the knowledge base's region (kb_meta.timezone), the one source for every part.
   */
  staff: z
    .object({
      adminPassword: z.string().min(1).optional(),
      newUserPassword: z.string().min(1).optional(),
    })
    .default({}),
  /**
   * The figures feed of the regional situational centre and the ministry (GET /api/feed/figures): its API
   * token (REPORTS_FEED_TOKEN; unset: the feed answers 404) and how many requests a client may make a minute
   * (REPORTS_FEED_RATE_PER_MIN).
   */
  reports: z
    .object({
      feedToken: z.string().min(32, 'at least 32 characters').optional(),
      feedRatePerMinute: wholeNumber('requests a minute').pipe(z.number().min(1)).default(30),
    })
    .default({ feedRatePerMinute: 30 }),
  database: z
    .object({
      /** postgres://... selects a PostgreSQL server; empty means embedded PGlite under dataDir/pg. */
      url: z.string().optional(),
    })
    .default({}),
  redis: z
    .object({ url: z.string().default('redis://127.0.0.1:6379') })
    .default({ url: 'redis://127.0.0.1:6379' }),
  http: z
    .object({ host: z.string().default('127.0.0.1'), port: port.default(8122) })
    .default({ host: '127.0.0.1', port: 8122 }),
  mediaSocket: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: port.default(8123),
      /**
       * Shared with telephony, which signs each audio fork's metadata with it; unset, the socket serves only
       * loopback peers and only telephony in the same process (`otklik serve`) can reach it.
       */
      secret: z.string().min(16, 'at least 16 characters').optional(),
    })
    .default({ host: '127.0.0.1', port: 8123 }),
  speech: z
    .object({
      /** host:port of a remote `otklik speech` service; empty runs the engines in this process. */
      url: z.string().optional(),
      listen: z.string().default('127.0.0.1:50122'),
      tts: z.enum(['espeak', 'festival', 'piper']).default('espeak'),
      voice: z.string().optional(),
      piperVoicePath: z.string().optional(),
      voskModelPath: z.string().default('./models/vosk-model-small-ru-0.22'),
      /** Another build of libvosk.so; unset: the one the npm `vosk` package ships. */
      voskLibraryPath: z.string().min(1).optional(),
      cacheDir: z.string().optional(),
      /** Memory tier of the TTS cache, MiB of synthesized audio (~65 s each at 8 kHz); 0 turns it off. */
      memoryCacheMb: wholeNumber('a size in MiB').pipe(z.number().min(0)).default(32),
      requestTimeoutMs: ms.default(10000),
    })
    .default({
      listen: '127.0.0.1:50122',
      tts: 'espeak',
      voskModelPath: './models/vosk-model-small-ru-0.22',
      memoryCacheMb: 32,
      requestTimeoutMs: 10000,
    }),
  mail: z
    .object({
      /** smtp://user:pass@host:port of the relay that sends inquiries to agencies; empty keeps mail off. */
      smtpUrl: z.string().optional(),
      from: z.string().default('122@otklik.local'),
    })
    .default({ from: '122@otklik.local' }),
  jobs: z
    .object({
      /** How often the worker looks for inquiries due for dispatch and overdue answers. */
      sweepIntervalMs: ms.default(60000),
    })
    .default({ sweepIntervalMs: 60000 }),
  signIn: z
    .object({
      /** Failed sign-ins a login may have within lockoutMs; the next attempts are refused until it ends. */
      maxFailures: wholeNumber('a whole number of attempts')
        .pipe(z.number().min(1))
        .default(signInDefaults.maxFailures),
      lockoutMs: ms.default(signInDefaults.lockoutMs),
    })
    .default(signInDefaults),
  // Retention of personal data (152-FZ) [6/7 retention]: admin/jobs/retention.ts removes each kind once its
  // call (or record) is older than its period; 0 days keeps that kind forever. A call on legal hold keeps all.
  retention: z
    .object({
      /** Call recordings: the files and their rows. */
      recordingsDays: retentionDays.default(90),
      /** Voice calls' transcripts (their turns, the operator's note, the queue's copy). */
      transcriptsDays: retentionDays.default(180),
      /** Web chats' logs (their turns, the operator's note, the queue's copy). */
      chatsDays: retentionDays.default(180),
      /** Citizens' numbers on calls, queue entries, closed callbacks and finished inquiries. */
      callerNumbersDays: retentionDays.default(365),
      /** How often the worker runs the retention job (and once at its start). */
      intervalMs: ms.pipe(z.number().min(60_000, 'at least 60000 (one minute)')).default(86_400_000),
    })
    .default({
      recordingsDays: 90,
      transcriptsDays: 180,
      chatsDays: 180,
      callerNumbersDays: 365,
      intervalMs: 86_400_000,
    }),
  // [end retention]
  // --- metrics (issue [6/7], Prometheus on /metrics) ---
  metrics: z
    .object({
      /**
       * Bearer token a scraper sends for /metrics (METRICS_TOKEN); set, it is required from every peer;
       * unset, /metrics answers only peers on this host's loopback.
       */
      token: z.string().min(16, 'at least 16 characters').optional(),
    })
    .default({}),
  // --- end of metrics ---
  nlu: z.object({ modelDir: z.string().default('./models/nlu') }).default({ modelDir: './models/nlu' }),
  tls: tlsConfigSchema,
  telephony: z
    .object({
      /** drachtio-server admin socket; telephony stays off when host is empty. */
      drachtioHost: z.string().optional(),
      drachtioPort: port.default(9022),
      drachtioSecret: z.string().default('cymru'),
      freeswitchHost: z.string().default('127.0.0.1'),
      freeswitchPort: port.default(8021),
      freeswitchSecret: z.string().default('ClueCon'),
      /** The numbers the line answers; the first is the caller id of its own calls (callbacks). */
      numbers: z.array(z.string()).min(1, 'at least one number the line answers').default(['122']),
      recordingsDir: z.string().default('./data/recordings'),
      /** ws:// (or wss:// when the media socket has a certificate) URL at which FreeSWITCH reaches our media socket. */
      mediaSocketUrl: z.string().optional(),
      operatorUri: z.string().optional(),
      /** SIP URI of the emergency service a caller in danger is put through to; unset: the operator queue. */
      emergencyTransferUri: z.string().min(1).optional(),
      trunk: z.string().optional(),
      drainTimeoutMs: ms.default(300000),
      /** Operator queue: how long a call may wait for an operator with the topic's skill. */
      queueWaitNormMs: ms.default(60000),
      /**
       * Caller numbers served before other callers of the same queue (after emergency-adjacent calls):
       * QUEUE_VIP_NUMBERS, a comma list; compared by their last ten digits (+7 900…, 8 900… are one number).
       */
      vipNumbers: z.array(z.string()).default([]),
      /** How often a caller waiting without the bot hears their position and expected wait. */
      queueAnnounceIntervalMs: ms.default(20000),
      /** How long an agency's or operator's phone rings before the call falls back. */
      forwardTimeoutMs: ms.default(30000),
      /** Callbacks: the wait before each next attempt after an unreached one (the last repeats). */
      callbackRetryMs: z.array(ms).min(1, 'at least one spacing').default([600000, 1800000]),
      /** Callbacks: attempts in all before the callback fails and waits for an operator on the desk. */
      callbackMaxAttempts: wholeNumber('a whole number of attempts').pipe(z.number().min(1)).default(3),
      /** Callbacks: their priority in the operator queue (higher first): after emergencies (30) and VIP numbers (20), before other callers (0); telephony/priority.ts. */
      callbackPriority: wholeNumber('a whole number').default(10),
    })
    .default({
      drachtioPort: 9022,
      drachtioSecret: 'cymru',
      freeswitchHost: '127.0.0.1',
      freeswitchPort: 8021,
      freeswitchSecret: 'ClueCon',
      numbers: ['122'],
      recordingsDir: './data/recordings',
      drainTimeoutMs: 300000,
      queueWaitNormMs: 60000,
      vipNumbers: [],
      queueAnnounceIntervalMs: 20000,
      forwardTimeoutMs: 30000,
      callbackRetryMs: [600000, 1800000],
      callbackMaxAttempts: 3,
      callbackPriority: 10,
    }),
  // ---- Several nodes (issue [6/7]): queue prefix in Redis, web chats shared between nodes ----
  nodes: z
    .object({
      /**
       * Prefix of every BullMQ queue and chat key in Redis (QUEUE_PREFIX): two lines sharing one Redis give
       * each its own. The default is the one used before it could be set, so existing jobs are kept.
       */
      queuePrefix: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, «_», «.», «-», at most 64')
        .default('otklik'),
      /** A node holds each chat it serves for this long, renewed while it runs (CHAT_LEASE_MS). */
      chatLeaseMs: ms.pipe(z.number().min(500)).default(10000),
      /** How long a node waits for the node serving a chat to answer a message passed to it (CHAT_FORWARD_TIMEOUT_MS). */
      chatForwardTimeoutMs: ms.pipe(z.number().min(100)).default(30000),
    })
    .default({ queuePrefix: 'otklik', chatLeaseMs: 10000, chatForwardTimeoutMs: 30000 }),
});

export type Config = z.infer<typeof configSchema> & { instanceId: string };

/**
 * What stays the same when the same instance restarts, and differs between instances running at once:
 * two instances on one host cannot listen on the same HTTP port, and PGlite allows one process per data dir.
 */
function defaultInstanceId(c: z.infer<typeof configSchema>): string {
  return `${hostname()}:${c.http.port}:${resolve(c.dataDir)}`;
}

/** Environment variable → config path. Documented in the README. */
export const envMap: Record<string, string> = {
  OTKLIK_DATA_DIR: 'dataDir',
  OTKLIK_INSTANCE_ID: 'instanceId',
  OTKLIK_ADMIN_PASSWORD: 'staff.adminPassword',
  OTKLIK_USER_PASSWORD: 'staff.newUserPassword',
  LOG_LEVEL: 'log.level',
  LOG_PII: 'log.pii',
  DATABASE_URL: 'database.url',
  REDIS_URL: 'redis.url',
  HTTP_HOST: 'http.host',
  HTTP_PORT: 'http.port',
  MEDIA_SOCKET_HOST: 'mediaSocket.host',
  MEDIA_SOCKET_PORT: 'mediaSocket.port',
  MEDIA_SOCKET_SECRET: 'mediaSocket.secret',
  SPEECH_URL: 'speech.url',
  SPEECH_LISTEN: 'speech.listen',
  TTS_ENGINE: 'speech.tts',
  TTS_VOICE: 'speech.voice',
  PIPER_VOICE_PATH: 'speech.piperVoicePath',
  VOSK_MODEL_PATH: 'speech.voskModelPath',
  VOSK_LIBRARY_PATH: 'speech.voskLibraryPath',
  SPEECH_CACHE_DIR: 'speech.cacheDir',
  SPEECH_MEMORY_CACHE_MB: 'speech.memoryCacheMb',
  SPEECH_TIMEOUT_MS: 'speech.requestTimeoutMs',
  NLU_MODEL_DIR: 'nlu.modelDir',
  SMTP_URL: 'mail.smtpUrl',
  MAIL_FROM: 'mail.from',
  JOBS_SWEEP_INTERVAL_MS: 'jobs.sweepIntervalMs',
  // [6/7 retention] keeping periods of personal data and the job's interval.
  RETENTION_RECORDINGS_DAYS: 'retention.recordingsDays',
  RETENTION_TRANSCRIPTS_DAYS: 'retention.transcriptsDays',
  RETENTION_CHATS_DAYS: 'retention.chatsDays',
  RETENTION_CALLER_NUMBERS_DAYS: 'retention.callerNumbersDays',
  RETENTION_INTERVAL_MS: 'retention.intervalMs',
  // [end retention]
  SIGNIN_MAX_FAILURES: 'signIn.maxFailures',
  SIGNIN_LOCKOUT_MS: 'signIn.lockoutMs',
  // metrics (issue [6/7])
  METRICS_TOKEN: 'metrics.token',
  DRACHTIO_HOST: 'telephony.drachtioHost',
  DRACHTIO_PORT: 'telephony.drachtioPort',
  DRACHTIO_SECRET: 'telephony.drachtioSecret',
  FREESWITCH_HOST: 'telephony.freeswitchHost',
  FREESWITCH_PORT: 'telephony.freeswitchPort',
  FREESWITCH_SECRET: 'telephony.freeswitchSecret',
  TELEPHONY_NUMBERS: 'telephony.numbers',
  RECORDINGS_DIR: 'telephony.recordingsDir',
  MEDIA_SOCKET_URL: 'telephony.mediaSocketUrl',
  OPERATOR_URI: 'telephony.operatorUri',
  EMERGENCY_TRANSFER_URI: 'telephony.emergencyTransferUri',
  SIP_TRUNK: 'telephony.trunk',
  DRAIN_TIMEOUT_MS: 'telephony.drainTimeoutMs',
  QUEUE_WAIT_NORM_MS: 'telephony.queueWaitNormMs',
  REPORTS_FEED_TOKEN: 'reports.feedToken',
  REPORTS_FEED_RATE_PER_MIN: 'reports.feedRatePerMinute',
  QUEUE_VIP_NUMBERS: 'telephony.vipNumbers',
  QUEUE_ANNOUNCE_INTERVAL_MS: 'telephony.queueAnnounceIntervalMs',
  FORWARD_TIMEOUT_MS: 'telephony.forwardTimeoutMs',
  CALLBACK_RETRY_MS: 'telephony.callbackRetryMs',
  CALLBACK_MAX_ATTEMPTS: 'telephony.callbackMaxAttempts',
  CALLBACK_PRIORITY: 'telephony.callbackPriority',
  ...Object.fromEntries(Object.entries(tlsEnvMap).map(([key, name]) => [name, `tls.${key}`])),
  // Several nodes (issue [6/7])
  QUEUE_PREFIX: 'nodes.queuePrefix',
  CHAT_LEASE_MS: 'nodes.chatLeaseMs',
  CHAT_FORWARD_TIMEOUT_MS: 'nodes.chatForwardTimeoutMs',
};

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function envValue(path: string, raw: string): unknown {
  return path === 'telephony.numbers' ||
    path === 'telephony.callbackRetryMs' ||
    path === 'telephony.vipNumbers'
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : raw;
}

/**
 * Settings that are no longer read, and where their value lives now. Start-up stops on one rather than
 * silently using another value than the operator set.
 */
const retired: Record<string, { path: string; now: string }> = {
  OTKLIK_TIMEZONE: {
    path: 'timezone',
    now: "the time zone is the knowledge base's region: set `timezone:` in the KB YAML (otklik kb import)",
  },
};

function isSet(input: Record<string, unknown>, path: string): boolean {
  let node: unknown = input;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined;
}

/**
 * The configuration: `defaults` (paths as in `overrides`) apply only where neither the file nor the
 * environment sets the value; `overrides` win over both.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  defaults: Record<string, unknown> = {},
): Config {
  let input: Record<string, unknown> = {};
  const file = env.OTKLIK_CONFIG;
  if (file) {
    try {
      input = (parseYaml(readFileSync(resolve(file), 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new OtklikError(
        'CONFIG_INVALID',
        `OTKLIK_CONFIG=${file}: cannot read the file: ${(err as Error).message}`,
      );
    }
  }
  for (const [name, { path, now }] of Object.entries(retired)) {
    const where = env[name] ? name : isSet(input, path) ? `${file}: ${path}` : null;
    if (where) throw new OtklikError('CONFIG_INVALID', `${where} is no longer read: ${now}`);
  }
  for (const [name, path] of Object.entries(envMap)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(input, path, envValue(path, raw));
  }
  for (const [path, value] of Object.entries(overrides)) setPath(input, path, value);
  for (const [path, value] of Object.entries(defaults)) if (!isSet(input, path)) setPath(input, path, value);
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const byPath = Object.fromEntries(Object.entries(envMap).map(([k, v]) => [v, k]));
    const lines = parsed.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const variable = byPath[path] ? ` (${byPath[path]})` : '';
      return `  ${path}${variable}: ${issue.message}`;
    });
    throw new OtklikError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, instanceId: parsed.data.instanceId ?? defaultInstanceId(parsed.data) };
}
