import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TypedApp } from '../typed.js';

/**
 * Server-Sent Events for the desk and the wall. The browser reads them with fetch() and a stream reader
 * (EventSource cannot send the Bearer header). A stream sends its snapshot at connect, again whenever this
 * process's ACD (or chat) says something changed, and re-reads the store every `rereadMs` so that acts of
 * other nodes arrive too (LISTEN/NOTIFY is [6/7]); an unchanged snapshot is not sent twice. A `: ping`
 * comment keeps proxies from closing a quiet stream. Closing a stream loses nothing: it only reads.
 */
export interface StreamTiming {
  /** Re-read of the store for other nodes' changes; 1 s by default. */
  rereadMs?: number;
  /** The keep-alive comment; 15 s by default. */
  pingMs?: number;
}

export interface EventStreams {
  open(
    request: FastifyRequest,
    reply: FastifyReply,
    s: {
      event: string;
      snapshot: () => Promise<unknown>;
      subscribe: (changed: () => void) => () => void;
    },
  ): void;
}

/** The streams of one plugin; all of them end when the app closes (else close would wait for them). */
export function eventStreams(app: TypedApp, timing: StreamTiming = {}): EventStreams {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  return {
    open(request, reply, s) {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let closed = false;
      let busy = false;
      let again = false;
      let last = '';
      const push = async () => {
        if (closed) return;
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        try {
          do {
            again = false;
            const data = JSON.stringify(await s.snapshot());
            if (!closed && data !== last) {
              last = data;
              raw.write(`event: ${s.event}\ndata: ${data}\n\n`);
            }
          } while (again && !closed);
        } catch (err) {
          request.log.warn({ err }, 'an event stream could not read its snapshot; it tries again');
        } finally {
          busy = false;
        }
      };
      const changed = () => void push();
      const reread = setInterval(changed, timing.rereadMs ?? 1000);
      const ping = setInterval(() => {
        if (!closed) raw.write(': ping\n\n');
      }, timing.pingMs ?? 15_000);
      const unsubscribe = s.subscribe(changed);
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(reread);
        clearInterval(ping);
        unsubscribe();
        open.delete(end);
        raw.end();
      };
      open.add(end);
      request.raw.on('close', end);
      raw.on('close', end);
      void push();
    },
  };
}
