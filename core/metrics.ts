/**
 * The process's Prometheus metrics (prom-client): one registry, made once by the composition root
 * (`createMetrics`) and handed to the parts that count something. No part imports another part's metrics: each
 * gets this object (or nothing, in tests that do not look) by injection. What the store holds (queue lengths,
 * operators by state, inquiries) is not counted here but read at scrape time from the owners' read functions,
 * which the root passes to `readFrom`; a reading that fails leaves its gauges empty and counts an error, it
 * never fails the scrape.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latencies of a turn and of the speech engines: 10 ms to 10 s. */
const latencyBuckets = [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];
/** HTTP handling: 1 ms to 10 s. */
const httpBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the store holds now, read when Prometheus scrapes (the owners' functions, wired by cli/). */
export interface StoreReadings {
  /** Each ACD queue: calls and chats waiting (or being offered) and the longest wait among them. */
  queues?: () => Promise<Array<{ queue: string; waiting: number; longestWaitMs: number }>>;
  /** Operators by ACD state (offline, available, break, offered, on_call, wrap_up). */
  operators?: () => Promise<Array<{ state: string; count: number }>>;
  /** Inquiries by state, and those past a deadline by which deadline (dispatch, agency). */
  inquiries?: () => Promise<{ byState: Record<string, number>; overdue: Record<string, number> }>;
  /** The TTS cache's lookups so far (the memory tier of this process). */
  ttsCache?: () => { hits: number; misses: number };
}

export interface Metrics {
  readonly registry: Registry;
  /** Calls and chats a session runs now in this process, by channel (sip, media, text, simulator). */
  readonly sessionsActive: Gauge<'channel'>;
  /** Turns stored, by channel and speaker (caller, bot, operator). */
  readonly turns: Counter<'channel' | 'speaker'>;
  /** End of the caller's speech (or the arrival of their message) to the bot's first output, by channel. */
  readonly turnLatency: Histogram<'channel'>;
  /** One VAD push (a frame of audio in, its events out). */
  readonly vadLatency: Histogram;
  /** ASR: `push` (a frame in, a partial out) and `final` (end of speech to the final result). */
  readonly asrLatency: Histogram<'stage'>;
  /** TTS: the request to the first chunk of audio. */
  readonly ttsLatency: Histogram;
  /** Back-office jobs that failed (BullMQ worker), by job name. */
  readonly jobFailures: Counter<'job'>;
  /** HTTP requests by method, route pattern (never the raw URL) and status. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Sets (or replaces) the store readings collected at scrape time. */
  readFrom(readings: StoreReadings): void;
  /** The exposition in Prometheus text format. */
  scrape(): Promise<string>;
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop, GC); on unless a test turns them off. */
  defaultMetrics?: boolean;
  /** Reports scrape-time reading failures (a logger). */
  onReadError?: (source: string, err: unknown) => void;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'otklik_' });
  const registers = [registry];
  let readings: StoreReadings = {};

  // Failed readings are counted in the same scrape: this counter, registered after the gauges, is collected
  // after their readings started (prom-client starts every collect in turn, then awaits them all).
  const pending = new Set<Promise<void>>();
  let readErrors: Counter<'source'> | undefined;
  /** Runs one reading; on failure the gauge stays empty for this scrape and the error is counted. */
  function read<T>(source: string, fn: (() => Promise<T>) | undefined, use: (v: T) => void) {
    if (!fn) return Promise.resolve();
    const p = (async () => {
      try {
        use(await fn());
      } catch (err) {
        readErrors?.inc({ source });
        opts.onReadError?.(source, err);
      }
    })();
    pending.add(p);
    return p.finally(() => pending.delete(p));
  }

  // One reading per scrape for the gauges that share it: prom-client collects every metric at once, so the
  // second collect finds the first's reading still in flight and waits for the same one.
  const once = <T>(name: string, source: () => (() => Promise<T>) | undefined) => {
    let inFlight: Promise<T | undefined> | null = null;
    return (): Promise<T | undefined> => {
      if (inFlight) return inFlight;
      let value: T | undefined;
      const p = read(name, source(), (v) => {
        value = v;
      })
        .then(() => value)
        .finally(() => {
          inFlight = null;
        });
      inFlight = p;
      return p;
    };
  };
  const queues = once('queues', () => readings.queues);
  const inquiries = once('inquiries', () => readings.inquiries);

  new Gauge({
    name: 'otklik_queue_waiting',
    help: 'Calls and chats waiting in each ACD queue (waiting or being offered)',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      this.reset();
      for (const q of (await queues()) ?? []) this.set({ queue: q.queue }, q.waiting);
    },
  });
  new Gauge({
    name: 'otklik_queue_longest_wait_seconds',
    help: 'The longest wait among the calls and chats waiting in each ACD queue',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      this.reset();
      for (const q of (await queues()) ?? []) this.set({ queue: q.queue }, q.longestWaitMs / 1000);
    },
  });
  new Gauge({
    name: 'otklik_operators',
    help: 'Operators by ACD state',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      this.reset();
      await read('operators', readings.operators, (rows) => {
        for (const r of rows) this.set({ state: r.state }, r.count);
      });
    },
  });
  new Gauge({
    name: 'otklik_inquiries',
    help: 'Inquiries by state (inquiries/figures.ts; the states overlap: relayed ones are also answered)',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      this.reset();
      const f = await inquiries();
      for (const [state, n] of Object.entries(f?.byState ?? {})) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'otklik_inquiries_overdue',
    help: 'Inquiries past a deadline: dispatch (15 minutes to the agency) or agency (its answer)',
    labelNames: ['deadline'] as const,
    registers,
    async collect() {
      this.reset();
      const f = await inquiries();
      for (const [deadline, n] of Object.entries(f?.overdue ?? {})) this.set({ deadline }, n);
    },
  });
  new Counter({
    name: 'otklik_tts_cache_lookups_total',
    help: 'TTS cache lookups of this process (memory tier) by result: hit or miss',
    labelNames: ['result'] as const,
    registers,
    collect(this: Counter<'result'>) {
      const stats = readings.ttsCache?.();
      this.reset();
      if (!stats) return;
      this.inc({ result: 'hit' }, stats.hits);
      this.inc({ result: 'miss' }, stats.misses);
    },
  });
  readErrors = new Counter({
    name: 'otklik_metrics_read_errors_total',
    help: 'Store readings that failed at scrape time, by source',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      await Promise.all([...pending]);
    },
  });

  return {
    registry,
    sessionsActive: new Gauge({
      name: 'otklik_sessions_active',
      help: 'Calls and chats in progress in this process, by channel',
      labelNames: ['channel'] as const,
      registers,
    }),
    turns: new Counter({
      name: 'otklik_turns_total',
      help: 'Dialog turns stored, by channel and speaker',
      labelNames: ['channel', 'speaker'] as const,
      registers,
    }),
    turnLatency: new Histogram({
      name: 'otklik_turn_latency_seconds',
      help: "End of the caller's speech or message to the bot's first output",
      labelNames: ['channel'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    vadLatency: new Histogram({
      name: 'otklik_vad_latency_seconds',
      help: 'Voice activity detection of one pushed piece of audio',
      buckets: latencyBuckets,
      registers,
    }),
    asrLatency: new Histogram({
      name: 'otklik_asr_latency_seconds',
      help: 'Speech recognition: push (audio in, partial out) and final (end of speech to final result)',
      labelNames: ['stage'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    ttsLatency: new Histogram({
      name: 'otklik_tts_latency_seconds',
      help: 'Speech synthesis: the request to its first chunk of audio',
      buckets: latencyBuckets,
      registers,
    }),
    jobFailures: new Counter({
      name: 'otklik_job_failures_total',
      help: 'Back-office jobs that failed, by job name',
      labelNames: ['job'] as const,
      registers,
    }),
    httpRequests: new Counter({
      name: 'otklik_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'otklik_http_request_duration_seconds',
      help: 'HTTP request handling time by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: httpBuckets,
      registers,
    }),
    readFrom(r) {
      readings = r;
    },
    scrape: () => registry.metrics(),
  };
}
