/**
 * The media socket: FreeSWITCH's mod_audio_fork connects here once per call (subprotocol
 * audio.drachtio.org). The first text frame is the call's metadata; a MediaLeg is made from it and handed
 * to `onCall`, which runs the voice-bot session on it. Anything malformed before the metadata is counted
 * (and carried into the leg's stats) and ignored; a connection that never sends metadata is closed.
 * A session that fails (onCall throws or its promise rejects) closes its socket with 1011, so that telephony
 * takes the caller to the operator queue or a recorded message: never dead air.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { OtklikError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { silentLogger } from '../../../core/log.js';
import { emptyStats, MediaLeg } from './media-leg.js';
import type { PlayoutOptions } from './playout.js';
import { AUDIO_FORK_SUBPROTOCOL, parseMetadata } from './protocol.js';

export interface MediaSocketOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Runs the call on the leg. When it returns a promise (the session), the socket is closed with 1011 if
   * that rejects, or if it settles while the call is still open.
   */
  onCall: (leg: MediaLeg) => unknown;
  log?: Logger;
  /** Pacing of the bot's audio (speed > 1 only for simulations whose client plays out as fast). */
  playout?: PlayoutOptions;
  /** A connection that sends no metadata within this long is closed. */
  metadataTimeoutMs?: number;
  forwardTimeoutMs?: number;
}

export interface MediaSocket {
  readonly port: number;
  /** Legs of the calls connected now. */
  legs(): MediaLeg[];
  /** Ends every call (reason shutdown) and stops listening. */
  close(): Promise<void>;
}

export async function startMediaSocket(opts: MediaSocketOptions): Promise<MediaSocket> {
  const log = opts.log ?? silentLogger;
  const live = new Set<MediaLeg>();
  const wss = new WebSocketServer({
    host: opts.host ?? '127.0.0.1',
    port: opts.port,
    maxPayload: 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has(AUDIO_FORK_SUBPROTOCOL) ? AUDIO_FORK_SUBPROTOCOL : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (err) =>
      reject(new OtklikError('UNAVAILABLE', `media socket cannot listen: ${err.message}`, { cause: err })),
    );
  });
  wss.on('error', (err) => log.error({ err }, 'media socket error'));
  wss.on('connection', (ws) => acceptConnection(ws, opts, log, live));
  const port = (wss.address() as AddressInfo).port;
  log.info({ port }, 'media socket listening');

  return {
    port,
    legs: () => [...live],
    async close() {
      await Promise.all([...live].map((leg) => leg.hangup('shutdown').catch(() => undefined)));
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function acceptConnection(ws: WebSocket, opts: MediaSocketOptions, log: Logger, live: Set<MediaLeg>): void {
  const early = emptyStats();
  let leg: MediaLeg | null = null;
  const metadataTimer = setTimeout(() => {
    log.warn({ malformed: early.malformed }, 'media socket connection sent no call metadata; closing it');
    ws.close(1008, 'no metadata');
  }, opts.metadataTimeoutMs ?? 10000);

  ws.on('message', (data, isBinary) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (leg) {
      leg.handleMessage(buffer, isBinary);
      return;
    }
    if (isBinary) {
      early.malformed.binary_before_metadata++;
      return;
    }
    const parsed = parseMetadata(buffer.toString('utf8'), randomUUID());
    if (!parsed.ok) {
      early.malformed[parsed.problem]++;
      log.debug(
        { problem: parsed.problem, detail: parsed.detail },
        'media socket: bad metadata frame ignored',
      );
      return;
    }
    clearTimeout(metadataTimer);
    leg = new MediaLeg({
      ws,
      fork: parsed.value,
      log,
      stats: early,
      ...(opts.playout ? { playout: opts.playout } : {}),
      ...(opts.forwardTimeoutMs ? { forwardTimeoutMs: opts.forwardTimeoutMs } : {}),
    });
    live.add(leg);
    log.info(
      { callId: leg.meta.callId, sampleRate: leg.sampleRate, pii: { caller: leg.meta.from } },
      'media socket call connected',
    );
    watchSession(leg, opts.onCall, log);
  });
  ws.on('close', () => {
    clearTimeout(metadataTimer);
    if (!leg) return;
    live.delete(leg);
    leg.handleClose();
  });
  ws.on('error', (err) => log.warn({ err }, 'media socket connection error'));
}

/** Runs onCall and closes the call's socket when the session fails or ends without ending the call. */
function watchSession(leg: MediaLeg, onCall: MediaSocketOptions['onCall'], log: Logger): void {
  const callId = leg.meta.callId;
  const failed = (err: unknown) => {
    log.error({ err, callId }, 'voice bot session failed; closing its media socket');
    // The reason goes to FreeSWITCH's log: the details (personal data too) stay in ours.
    leg.fail('session error');
  };
  let session: unknown;
  try {
    session = onCall(leg);
  } catch (err) {
    failed(err);
    return;
  }
  if (!(session instanceof Promise)) return;
  session.then(() => {
    if (leg.ended) return;
    log.warn({ callId }, 'voice bot session ended with the call still open; closing its media socket');
    leg.fail('session ended');
  }, failed);
}
