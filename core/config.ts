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
      /** ws:// URL at which FreeSWITCH reaches our media socket. */
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
  QUEUE_VIP_NUMBERS: 'telephony.vipNumbers',
  QUEUE_ANNOUNCE_INTERVAL_MS: 'telephony.queueAnnounceIntervalMs',
  FORWARD_TIMEOUT_MS: 'telephony.forwardTimeoutMs',
  CALLBACK_RETRY_MS: 'telephony.callbackRetryMs',
  CALLBACK_MAX_ATTEMPTS: 'telephony.callbackMaxAttempts',
  CALLBACK_PRIORITY: 'telephony.callbackPriority',
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
