/**
 * What the metrics read from the store at scrape time (core/metrics.ts StoreReadings), through the owners'
 * read functions: the ACD's queues, calls and operators (telephony/queue.ts), the inquiries' figures
 * (inquiries/figures.ts) and the TTS cache's counts (speech/).
 */
import type { StoreReadings } from '../core/metrics.js';
import { inquiryFigures } from '../inquiries/figures.js';
import type { TtsMemoryCache } from '../speech/tts/cache.js';
import type { Sql } from '../store/sql.js';
import { activeCalls, type OperatorQueue } from '../telephony/queue.js';

export interface ReadingsSources {
  sql: Sql;
  queue: OperatorQueue;
  ttsCache?: TtsMemoryCache | null;
  now?: () => Date;
}

export function storeReadings(s: ReadingsSources): StoreReadings {
  const now = s.now ?? (() => new Date());
  return {
    async queues() {
      const at = now().getTime();
      const [queues, calls] = await Promise.all([s.queue.queues(), activeCalls(s.sql)]);
      return queues.map((q) => {
        const waiting = calls.filter(
          (c) => c.queueId === q.id && (c.state === 'waiting' || c.state === 'offered'),
        );
        return {
          queue: q.id,
          waiting: waiting.length,
          longestWaitMs: Math.max(0, ...waiting.map((c) => at - c.enqueuedAt.getTime())),
        };
      });
    },
    async operators() {
      const counts = new Map<string, number>();
      for (const op of await s.queue.operators()) counts.set(op.state, (counts.get(op.state) ?? 0) + 1);
      return [...counts].map(([state, count]) => ({ state, count }));
    },
    async inquiries() {
      const f = await inquiryFigures(s.sql, now());
      return {
        byState: {
          waiting_for_agency: Number(f.waitingForAgency),
          answered: Number(f.answered),
          awaiting_relay: Number(f.awaitingRelay),
          relay_to_operator: Number(f.relayToOperator),
          relayed: Number(f.relayed),
        },
        overdue: { agency: Number(f.agencyOverdue), dispatch: Number(f.dispatchStuck) },
      };
    },
    ...(s.ttsCache ? { ttsCache: () => ({ hits: s.ttsCache!.hits, misses: s.ttsCache!.misses }) } : {}),
  };
}
