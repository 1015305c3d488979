import type { Logger } from '../../core/log.js';
import type { AcdChange, Assignment, Channel } from '../queue.js';

/**
 * The desk's dispatcher in `serve`: rounds of `assignNext({channel})` every `intervalMs`, plus one at once
 * when this process enqueues a call, an operator's presence changes or an offer is declined (so a chat does
 * not wait a tick for an operator who is there). Rounds never overlap: a change during a round asks for one
 * more round after it. Telephony runs its own dispatcher for phone calls (call-control.ts).
 */
export interface DispatchingQueue {
  assignNext(opts: { channel?: Channel }): Promise<Assignment[]>;
  onChange(listener: (e: AcdChange) => void): () => void;
}

export interface DeskDispatcherOptions {
  queue: DispatchingQueue;
  channel: Channel;
  /** Between rounds; 500 ms by default. */
  intervalMs?: number;
  log: Logger;
}

export interface DeskDispatcher {
  /** One round now (or right after the one in progress); resolves when it is done. */
  round(): Promise<void>;
  stop(): Promise<void>;
}

const PROMPT_EVENTS = new Set(['enqueued', 'presence', 'declined', 'closed', 'moved']);

export function startDeskDispatcher(o: DeskDispatcherOptions): DeskDispatcher {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const once = async () => {
    try {
      await o.queue.assignNext({ channel: o.channel });
    } catch (err) {
      o.log.error({ err }, 'the desk dispatcher round failed; the next one tries again');
    }
  };
  const round = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await once();
      } while (again && !stopped);
      running = null;
    })();
    return running;
  };
  const timer = setInterval(() => void round(), o.intervalMs ?? 500);
  timer.unref();
  const off = o.queue.onChange((e) => {
    if (PROMPT_EVENTS.has(e.event)) void round();
  });
  return {
    round,
    async stop() {
      stopped = true;
      clearInterval(timer);
      off();
      await running;
    },
  };
}
