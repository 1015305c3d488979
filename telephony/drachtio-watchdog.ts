import type { Logger } from '../core/log.js';

/**
 * A watchdog on the connection to drachtio-server. drachtio-srf sends pings but never checks that they are
 * answered, and a drachtio-server stuck on a message it cannot complete (0.9.10 and a message over its
 * 12 228-byte read buffer) keeps the TCP connection open while answering nothing: every INVITE then gets only
 * drachtio-server's own 100 Trying. Every `intervalMs` this sends a ping on the connection and, when no answer
 * comes within `timeoutMs`, destroys the socket; drachtio-srf then reconnects, authenticates and registers
 * its routes again by itself.
 *
 * drachtio-srf has no public API for this, so it goes through the agent's wire protocol (`srf._app.client`):
 * the same `ping` message and pending-request table drachtio-srf uses for its own requests. Where that shape
 * is missing (another drachtio-srf version) the watchdog says so once and does nothing.
 */
interface WireSocket {
  destroyed: boolean;
  destroy(): void;
}
interface Agent {
  mapServer: Map<WireSocket, { pendingRequests: Map<string, (...args: unknown[]) => void> }>;
  wp: { send(socket: WireSocket, msg: string): string };
}

export interface DrachtioWatchdogOptions {
  intervalMs: number;
  timeoutMs: number;
}

export function watchDrachtio(
  srf: unknown,
  opts: DrachtioWatchdogOptions & { log: Logger },
): { stop(): void } {
  const agent = (srf as { _app?: { client?: Partial<Agent> } })._app?.client;
  if (!agent?.mapServer || typeof agent.wp?.send !== 'function') {
    opts.log.warn('drachtio-srf internals changed: no watchdog on the drachtio-server connection');
    return { stop() {} };
  }
  const { mapServer, wp } = agent as Agent;
  let waiting: { socket: WireSocket; timer: NodeJS.Timeout } | null = null;
  const probe = () => {
    if (waiting) return;
    const [socket, server] = mapServer.entries().next().value ?? [];
    if (!socket || !server || socket.destroyed) return;
    const id = wp.send(socket, 'ping');
    const timer = setTimeout(() => {
      server.pendingRequests.delete(id);
      waiting = null;
      opts.log.error(
        { timeoutMs: opts.timeoutMs },
        'drachtio-server did not answer a ping: reconnecting (calls get only 100 Trying meanwhile)',
      );
      socket.destroy();
    }, opts.timeoutMs);
    timer.unref();
    waiting = { socket, timer };
    server.pendingRequests.set(id, () => {
      clearTimeout(timer);
      waiting = null;
    });
  };
  const interval = setInterval(probe, opts.intervalMs);
  interval.unref();
  return {
    stop() {
      clearInterval(interval);
      if (waiting) clearTimeout(waiting.timer);
      waiting = null;
    },
  };
}
