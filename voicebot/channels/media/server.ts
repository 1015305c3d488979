/**
 * The media socket is the voice bot's side of the mod_audio_fork protocol (protocol.ts); telephony holds the
 * other side (it starts the fork on FreeSWITCH). The two meet only on the wire and in media/, never by import.
 *
 * FreeSWITCH's mod_audio_fork connects here once per call (subprotocol audio.drachtio.org). The first text
 * frame is the call's metadata; a MediaLeg is made from it and handed to `onCall`, which runs the voice-bot
 * session on it. Anything malformed before the metadata is counted
 * (and carried into the leg's stats) and ignored; a connection that never sends metadata is closed.
 * FreeSWITCH is authenticated by the signature telephony puts into the fork's metadata (MEDIA_SOCKET_SECRET,
 * see media/fork-auth.ts): an unsigned or badly signed connection is closed with 1008 and logged, and a
 * flow id (the relay of an agency's answer) is honoured only in the metadata of telephony's outbound calls.
 * A session that fails (onCall throws or its promise rejects) closes its socket with 1011, so that telephony
 * takes the caller to the operator queue or a recorded message: never dead air.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { OtklikError } from '../../../core/errors.js';
import type { Logger } from '../../../core/log.js';
import { silentLogger } from '../../../core/log.js';
import { verifyForkMetadata } from '../../../media/fork-auth.js';
import { emptyStats, MediaLeg } from './media-leg.js';
import type { PlayoutOptions } from './playout.js';
import { AUDIO_FORK_SUBPROTOCOL, parseMetadata } from './protocol.js';

/** How the media socket knows FreeSWITCH: the key telephony signs the forks' metadata with. */
export interface MediaSocketAuth {
  /** MEDIA_SOCKET_SECRET, or a per-process key when it is not configured (then set loopbackOnly). */
  secret: string;
  /**
   * Serve only peers on this host: without a configured secret the key is known only to this process's own
   * telephony, and the socket is not offered to the network.
   */
  loopbackOnly?: boolean;
}

export interface MediaSocketOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Runs the call on the leg. When it returns a promise (the session), the socket is closed with 1011 if
   * that rejects, or if it settles while the call is still open.
   */
  onCall: (leg: MediaLeg) => unknown;
  auth: MediaSocketAuth;
  log?: Logger;
  /** Pacing of the bot's audio (speed > 1 only for simulations whose client plays out as fast). */
  playout?: PlayoutOptions;
  /** A connection that sends no metadata within this long is closed. */
  metadataTimeoutMs?: number;
  forwardTimeoutMs?: number;
  /**
   * TLS (PEM certificate chain and key): the socket is wss://, as mod_audio_fork reaches it across a network.
   * Unset: ws://.
   */
  tls?: { cert: Buffer; key: Buffer };
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
  const host = opts.host ?? '127.0.0.1';
  const common = {
    maxPayload: 1024 * 1024,
    handleProtocols: (protocols: Set<string>) =>
      protocols.has(AUDIO_FORK_SUBPROTOCOL) ? AUDIO_FORK_SUBPROTOCOL : false,
  };
  let tlsServer: HttpsServer | undefined;
  let wss: WebSocketServer;
  const listening = (emitter: HttpsServer | WebSocketServer) =>
    new Promise<void>((resolve, reject) => {
      emitter.once('listening', resolve);
      emitter.once('error', (err: Error) =>
        reject(new OtklikError('UNAVAILABLE', `media socket cannot listen: ${err.message}`, { cause: err })),
      );
    });
  if (opts.tls) {
    tlsServer = createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key });
    wss = new WebSocketServer({ server: tlsServer, ...common });
    const ready = listening(tlsServer);
    tlsServer.listen(opts.port, host);
    await ready;
    // A peer that fails the handshake (plain ws:// to a wss:// socket, an untrusted certificate) is logged.
    tlsServer.on('tlsClientError', (err) =>
      log.warn({ err: err.message }, 'media socket: TLS handshake failed'),
    );
  } else {
    wss = new WebSocketServer({ host, port: opts.port, ...common });
    await listening(wss);
  }
  wss.on('error', (err) => log.error({ err }, 'media socket error'));
  wss.on('connection', (ws, req) => acceptConnection(ws, req, opts, log, live));
  const port = ((tlsServer ?? wss).address() as AddressInfo).port;
  log.info(
    { port, tls: tlsServer !== undefined, loopbackOnly: opts.auth.loopbackOnly === true },
    'media socket listening',
  );
  if (opts.auth.loopbackOnly) {
    log.warn(
      'MEDIA_SOCKET_SECRET is not set: the media socket serves only this host, and only this process’s own ' +
        'telephony can sign its audio forks; set MEDIA_SOCKET_SECRET (the same for `otklik telephony`) to ' +
        'run telephony elsewhere',
    );
  }

  return {
    port,
    legs: () => [...live],
    async close() {
      await Promise.all([...live].map((leg) => leg.hangup('shutdown').catch(() => undefined)));
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (tlsServer) {
        const server = tlsServer;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function acceptConnection(
  ws: WebSocket,
  req: IncomingMessage,
  opts: MediaSocketOptions,
  log: Logger,
  live: Set<MediaLeg>,
): void {
  const early = emptyStats();
  const remote = req.socket.remoteAddress;
  let leg: MediaLeg | null = null;
  let refused = false;
  const refuse = (problem: string) => {
    refused = true;
    clearTimeout(metadataTimer);
    log.warn({ remote, problem }, 'media socket: connection refused, it is not our FreeSWITCH');
    ws.close(1008, 'unauthenticated');
  };
  const metadataTimer = setTimeout(() => {
    log.warn({ malformed: early.malformed }, 'media socket connection sent no call metadata; closing it');
    ws.close(1008, 'no metadata');
  }, opts.metadataTimeoutMs ?? 10000);
  if (opts.auth.loopbackOnly && !isLoopback(remote)) {
    refuse('not loopback (MEDIA_SOCKET_SECRET is not set)');
    return;
  }

  ws.on('message', (data, isBinary) => {
    if (refused) return;
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
    const verdict = verifyForkMetadata(parsed.value.raw, opts.auth.secret);
    if (!verdict.ok) {
      refuse(verdict.problem);
      return;
    }
    clearTimeout(metadataTimer);
    const raw = verdict.metadata;
    // The flow id counts only here, in metadata telephony signed: the flow it placed an outbound call for (the
    // relay of an agency's answer), or the flow the KB names for the number an inbound caller dialled (117).
    leg = new MediaLeg({
      ws,
      fork: { ...parsed.value, raw },
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
