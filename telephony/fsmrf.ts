import { createRequire } from 'node:module';
import { OtklikError } from '../core/errors.js';
import type { ForwardResult } from '../media/call-leg.js';

/**
 * A small typed wrapper over drachtio-fsmrf 4 / drachtio-modesl 1 (both untyped CommonJS).
 * - `fsCommands` builds the exact FreeSWITCH API strings the adapter sends (checked by tests).
 * - `FreeswitchControl` runs API commands on one inbound event-socket connection and routes channel events
 *   by Unique-ID. Every call is controlled by uuid through it, so the same code runs against FreeSWITCH and
 *   against the ESL test double.
 * - `connectMediaServer` connects fsmrf's MediaServer (which drachtio-srf uses to answer callers).
 */
const require = createRequire(import.meta.url);

/** The parts of a modesl Event we read. */
export interface EslEvent {
  getHeader(name: string): string | undefined;
  getBody(): string | undefined;
}

/** The parts of a modesl Connection we use. */
export interface EslConnection {
  api(command: string, cb: (res: EslEvent) => void): void;
  bgapi(command: string, args: string, cb: (res: EslEvent) => void): void;
  subscribe(events: string[], cb?: () => void): void;
  on(event: string, listener: (evt: EslEvent) => void): void;
  off?(event: string, listener: (evt: EslEvent) => void): void;
  removeListener(event: string, listener: (evt: EslEvent) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  disconnect(): void;
  connected(): boolean;
}

export interface FsEvent {
  name: string;
  subclass: string | undefined;
  uuid: string | undefined;
  header(name: string): string | undefined;
  body: string | undefined;
}

const UUID = /^[0-9A-Za-z-]{1,64}$/;
const NO_SPACE = /^[^\s]+$/;

function checkUuid(uuid: string): string {
  if (!UUID.test(uuid))
    throw new OtklikError('VALIDATION_FAILED', `bad channel uuid: ${JSON.stringify(uuid)}`);
  return uuid;
}

function checkToken(what: string, value: string): string {
  if (!NO_SPACE.test(value))
    throw new OtklikError('VALIDATION_FAILED', `${what} must not contain spaces: ${value}`);
  return value;
}

export type ForkMix = 'mono' | 'mixed' | 'stereo';

/** FreeSWITCH API command strings. One command per function; arguments are validated, never interpolated raw. */
/**
 * How long a leg may send no RTP before FreeSWITCH hangs it up (media_timeout), and while its far end holds
 * (the dialplan's media_hold_timeout; Otklik sets media_timeout to it for the hold, as FreeSWITCH's own hold
 * handling, which the dialplan turns off, would). The shipped dialplan sets the same values.
 */
export const MEDIA_TIMEOUT_MS = 300_000;
export const MEDIA_HOLD_TIMEOUT_MS = 1_800_000;

export const fsCommands = {
  /** mod_audio_fork: stream the channel's audio to a WebSocket, sending `metadata` as the first text frame. */
  audioForkStart(
    uuid: string,
    url: string,
    metadata: Record<string, unknown>,
    opts: { mix?: ForkMix; rate?: '8k' | '16k' } = {},
  ): string {
    if (!/^wss?:\/\/\S+$/.test(url))
      throw new OtklikError('VALIDATION_FAILED', `audio fork needs a ws:// or wss:// URL: ${url}`);
    // JSON.stringify escapes newlines, so the metadata cannot break the one-line ESL command.
    return `uuid_audio_fork ${checkUuid(uuid)} start ${url} ${opts.mix ?? 'mono'} ${opts.rate ?? '8k'} ${JSON.stringify(metadata)}`;
  },
  audioForkStop(uuid: string): string {
    return `uuid_audio_fork ${checkUuid(uuid)} stop`;
  },
  /**
   * mod_audio_fork splits its arguments on spaces and sends only the first token after send_text, so spaces
   * (which compact JSON has only inside strings) are written as the JSON escape \u0020.
   */
  audioForkSendText(uuid: string, message: Record<string, unknown>): string {
    return `uuid_audio_fork ${checkUuid(uuid)} send_text ${JSON.stringify(message).replace(/ /g, '\\u0020')}`;
  },
  /** Stops what is playing now and anything queued (barge-in). */
  break(uuid: string): string {
    return `uuid_break ${checkUuid(uuid)} all`;
  },
  setVar(uuid: string, name: string, value: string): string {
    return `uuid_setvar ${checkUuid(uuid)} ${checkToken('variable name', name)} ${checkToken('variable value', value)}`;
  },
  /** Session recording of the channel; with RECORD_STEREO=true the caller is left, the other side right. */
  recordStart(uuid: string, path: string): string {
    return `uuid_record ${checkUuid(uuid)} start ${checkToken('recording path', path)}`;
  },
  recordStop(uuid: string, path: string): string {
    return `uuid_record ${checkUuid(uuid)} stop ${checkToken('recording path', path)}`;
  },
  /** mod_audio_fork stops (pause) or goes on (resume) sending the caller's audio, e.g. while on hold. */
  audioForkPause(uuid: string, pause: boolean): string {
    return `uuid_audio_fork ${checkUuid(uuid)} ${pause ? 'pause' : 'resume'}`;
  },
  /** Plays a file to the caller (aleg only: the other party of a bridge does not hear bot prompts). */
  playFile(uuid: string, path: string): string {
    return `uuid_broadcast ${checkUuid(uuid)} ${checkToken('audio path', path)} aleg`;
  },
  bridge(uuid: string, otherUuid: string): string {
    return `uuid_bridge ${checkUuid(uuid)} ${checkUuid(otherUuid)}`;
  },
  /**
   * Holds the channel (a re-INVITE sendonly to its phone) and plays hold music to its bridged partner;
   * `on = false` takes it off hold. FreeSWITCH answers "+OK Success" or "-ERR Operation Failed".
   */
  hold(uuid: string, on: boolean): string {
    return on ? `uuid_hold ${checkUuid(uuid)}` : `uuid_hold off ${checkUuid(uuid)}`;
  },
  kill(uuid: string, cause = 'NORMAL_CLEARING'): string {
    return `uuid_kill ${checkUuid(uuid)} ${checkToken('hangup cause', cause)}`;
  },
  /**
   * Places a call and parks it (or, with `eavesdrop`, lets it listen to that channel: mod_dptools' eavesdrop,
   * the supervisor hears both sides); the result is "+OK <uuid>" or "-ERR <cause>".
   */
  originate(opts: {
    uuid: string;
    dialString: string;
    timeoutMs: number;
    callerIdNumber?: string;
    eavesdrop?: string;
  }): string {
    const vars = [
      `origination_uuid=${checkUuid(opts.uuid)}`,
      `originate_timeout=${Math.max(1, Math.ceil(opts.timeoutMs / 1000))}`,
      'ignore_early_media=true',
      // The agency's or operator's leg is hung up after 5 minutes without RTP (media_timeout, FreeSWITCH 1.10).
      `media_timeout=${MEDIA_TIMEOUT_MS}`,
    ];
    if (opts.callerIdNumber)
      vars.push(`origination_caller_id_number=${checkToken('caller id', opts.callerIdNumber)}`);
    const app = opts.eavesdrop ? `&eavesdrop(${checkUuid(opts.eavesdrop)})` : '&park()';
    return `originate {${vars.join(',')}}${checkToken('dial string', opts.dialString)} ${app}`;
  },
  /** Dialplan application form of session recording (used by the shipped dialplan). */
  recordSessionApp(path: string): { app: string; arg: string } {
    return { app: 'record_session', arg: checkToken('recording path', path) };
  },
  /** Dialplan application form of a bridge to a dial string. */
  bridgeApp(dialString: string): { app: string; arg: string } {
    return { app: 'bridge', arg: checkToken('dial string', dialString) };
  },
};

/**
 * Turns a forward target into a FreeSWITCH dial string: a SIP URI goes out through the `external` profile
 * (operators' softphones, agencies with SIP; `sips:` and `;transport=tls` over its TLS port), a phone number
 * through the carrier trunk's gateway.
 */
export function dialString(target: string, trunk: string | undefined): string {
  if (/^sip:/.test(target)) return `sofia/external/${target.slice(4)}`;
  // sips: must not fall back to plain SIP: the external profile's TLS transport (telephony/README.md, «Encryption»).
  if (/^sips:/.test(target)) {
    const rest = target.slice(5);
    return `sofia/external/${/;transport=/i.test(rest) ? rest : `${rest};transport=tls`}`;
  }
  const number = target.replace(/[\s()-]/g, '');
  if (!/^\+?\d{2,15}$/.test(number))
    throw new OtklikError('VALIDATION_FAILED', `not a phone number or SIP URI: ${target}`);
  if (!trunk)
    throw new OtklikError('CONFIG_INVALID', 'forwarding to a phone number needs SIP_TRUNK (telephony.trunk)');
  return `${trunk.replace(/\/$/, '')}/${number}`;
}

const BUSY_CAUSES = new Set(['USER_BUSY', 'CALL_REJECTED', 'NORMAL_CIRCUIT_CONGESTION']);
const NO_ANSWER_CAUSES = new Set([
  'NO_ANSWER',
  'NO_USER_RESPONSE',
  'ALLOTTED_TIMEOUT',
  'RECOVERY_ON_TIMER_EXPIRE',
]);

/** Reads originate's answer ("+OK <uuid>" or "-ERR <hangup cause>") as a forward result. */
export function parseOriginateResult(answer: string): ForwardResult {
  if (answer.startsWith('+OK')) return { status: 'answered' };
  const cause = /^-ERR\s+(\S+)/.exec(answer)?.[1] ?? (answer || 'no answer from FreeSWITCH');
  if (BUSY_CAUSES.has(cause)) return { status: 'busy' };
  if (NO_ANSWER_CAUSES.has(cause)) return { status: 'no_answer' };
  return { status: 'failed', reason: cause };
}

/** Events the adapter needs on its event socket. */
export const channelEvents = [
  'BACKGROUND_JOB',
  'DTMF',
  'PLAYBACK_START',
  'PLAYBACK_STOP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_BRIDGE',
  'CUSTOM',
  'mod_audio_fork::connect',
  'mod_audio_fork::connect_failed',
  'mod_audio_fork::disconnect',
  'mod_audio_fork::error',
  'mod_audio_fork::play_audio',
  'mod_audio_fork::kill_audio',
  'mod_audio_fork::transfer',
  'mod_audio_fork::json',
];

function toFsEvent(evt: EslEvent): FsEvent {
  return {
    name: evt.getHeader('Event-Name') ?? '',
    subclass: evt.getHeader('Event-Subclass'),
    uuid: evt.getHeader('Unique-ID'),
    header: (name) => evt.getHeader(name),
    body: evt.getBody(),
  };
}

export class FreeswitchControl {
  private readonly byUuid = new Map<string, Set<(e: FsEvent) => void>>();
  private readonly onAny = (evt: EslEvent) => {
    const uuid = evt.getHeader('Unique-ID');
    if (!uuid || !evt.getHeader('Event-Name')) return;
    const listeners = this.byUuid.get(uuid);
    if (!listeners) return;
    const event = toFsEvent(evt);
    for (const l of [...listeners]) l(event);
  };

  /** `owned`: this object opened the connection and closes it; otherwise (fsmrf's) it only stops listening. */
  constructor(
    private readonly conn: EslConnection,
    private readonly owned = true,
  ) {
    conn.on('esl::event::**', this.onAny);
    conn.subscribe(channelEvents);
  }

  /** Opens its own inbound event-socket connection (auth with the secret). */
  static connect(opts: {
    host: string;
    port: number;
    secret: string;
    timeoutMs?: number;
  }): Promise<FreeswitchControl> {
    const esl = require('drachtio-modesl') as { Connection: new (...args: unknown[]) => EslConnection };
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(
          new OtklikError(
            'UNAVAILABLE',
            `FreeSWITCH event socket ${opts.host}:${opts.port}: ${(err as Error).message}`,
            {
              retryable: true,
              cause: err,
            },
          ),
        );
      };
      const timer = setTimeout(() => {
        conn.disconnect();
        fail(new Error('no answer'));
      }, opts.timeoutMs ?? 5000);
      const conn = new esl.Connection(opts.host, opts.port, opts.secret, () => {
        clearTimeout(timer);
        conn.removeListener('error', fail);
        resolve(new FreeswitchControl(conn));
      });
      conn.on('error', fail);
      conn.on('esl::event::auth::fail', () => {
        conn.disconnect();
        fail(new Error('authentication failed (check FREESWITCH_SECRET)'));
      });
    });
  }

  get connected(): boolean {
    return this.conn.connected();
  }

  /** Runs an API command; a "-ERR …" answer becomes an ENGINE_FAILED error. */
  api(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (!this.conn.connected()) {
        reject(
          new OtklikError('UNAVAILABLE', 'FreeSWITCH event socket is not connected', { retryable: true }),
        );
        return;
      }
      this.conn.api(command, (res) => {
        const body = (res.getBody() ?? '').trim();
        if (body.startsWith('-')) {
          reject(
            new OtklikError(
              'ENGINE_FAILED',
              `FreeSWITCH: ${command.split(' ')[0]}: ${body.replace(/^-(ERR|USAGE):?\s*/, '')}`,
            ),
          );
        } else resolve(body);
      });
    });
  }

  /** Runs a long API command (originate) in the background; resolves with its result text, "-ERR …" included. */
  bgapi(command: string): Promise<string> {
    const space = command.indexOf(' ');
    const [name, args] = space === -1 ? [command, ''] : [command.slice(0, space), command.slice(space + 1)];
    return new Promise((resolve, reject) => {
      if (!this.conn.connected()) {
        reject(
          new OtklikError('UNAVAILABLE', 'FreeSWITCH event socket is not connected', { retryable: true }),
        );
        return;
      }
      this.conn.bgapi(name, args, (evt) => resolve((evt.getBody() ?? '').trim()));
    });
  }

  /** Listens to one channel's events; returns the unsubscribe function. */
  onChannel(uuid: string, listener: (e: FsEvent) => void): () => void {
    const set = this.byUuid.get(uuid) ?? new Set<(e: FsEvent) => void>();
    this.byUuid.set(uuid, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byUuid.delete(uuid);
    };
  }

  close(): void {
    this.conn.removeListener('esl::event::**', this.onAny);
    this.byUuid.clear();
    if (this.owned) this.conn.disconnect();
  }
}

/** What the adapter uses of an fsmrf Endpoint (the caller's channel on FreeSWITCH). */
export interface MediaEndpoint {
  uuid: string;
  readonly local: { sdp?: string };
  /** Sends the new offer to FreeSWITCH in the endpoint's dialog (re-INVITE); resolves with its answer. */
  modify(sdp: string): Promise<unknown>;
  /** fsmrf's release: runs the `hangup` app, which waits behind the channel's queued work. */
  destroy(): Promise<void>;
}

/** What the adapter uses of an fsmrf MediaServer. */
export interface MediaServer {
  readonly conn: EslConnection;
  /** Creates a FreeSWITCH endpoint for the caller's offer (fsmrf's INVITE to the drachtio_mrf profile). */
  createEndpoint(opts: { remoteSdp?: string; codecs?: string[] }): Promise<MediaEndpoint>;
  disconnect(): void;
  on(event: 'end' | 'error', listener: (...args: unknown[]) => void): void;
}

/**
 * Connects fsmrf to FreeSWITCH's event socket. fsmrf also listens on `listenAddress` for FreeSWITCH's outbound
 * socket connections (the dialplan's `socket … async full`) and reads `sofia status` for the drachtio_mrf profile.
 */
export async function connectMediaServer(
  srf: unknown,
  opts: { host: string; port: number; secret: string; listenAddress?: string; advertisedAddress?: string },
): Promise<{ ms: MediaServer; control: FreeswitchControl }> {
  const Mrf = require('drachtio-fsmrf') as new (
    srf: unknown,
  ) => { connect(o: Record<string, unknown>): Promise<MediaServer> };
  let ms: MediaServer;
  try {
    ms = await new Mrf(srf).connect({
      address: opts.host,
      port: opts.port,
      secret: opts.secret,
      listenAddress: opts.listenAddress ?? '127.0.0.1',
      listenPort: 0,
      ...(opts.advertisedAddress ? { advertisedAddress: opts.advertisedAddress } : {}),
    });
  } catch (err) {
    throw new OtklikError(
      'UNAVAILABLE',
      `cannot connect to FreeSWITCH at ${opts.host}:${opts.port}: ${(err as Error).message}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
  return { ms, control: new FreeswitchControl(ms.conn, false) };
}
