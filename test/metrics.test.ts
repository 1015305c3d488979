/**
 * Prometheus on /metrics of the whole app (every area `otklik serve` runs): after a real chat turn, a real
 * HTTP request and an operator who set themselves available, the scrape is parsed by the text format's
 * parser (parse-prometheus-text-format) and its every line checked against the exposition grammar: HELP and
 * TYPE lines, metric names, label syntax, histograms with their _bucket (le="+Inf" last), _sum and _count.
 * The figures are the store's (queues, operators, inquiries, read at scrape time) and this process's (turns,
 * turn latency, HTTP requests by route pattern, never the raw URL). Access: loopback, or the token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import parse, { type ParsedFamily } from 'parse-prometheus-text-format';
import { build } from '../admin/server.js';
import { storeReadings } from '../cli/metrics.js';
import { silentLogger } from '../core/log.js';
import { createMetrics, type Metrics } from '../core/metrics.js';
import { TtsMemoryCache } from '../speech/tts/cache.js';
import { type FullApp, openFullApp } from './support/full-app.js';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/y;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Checks every line of an exposition by the text format's grammar; returns its samples and their types. */
function checkGrammar(text: string): { samples: Sample[]; types: Map<string, string> } {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    // The format ignores empty lines (prom-client puts one between families).
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name] = line.slice(7).split(' ');
      assert.match(name!, NAME, line);
      assert.ok(!helped.has(name!), `HELP twice: ${line}`);
      helped.add(name!);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...rest] = line.slice(7).split(' ');
      assert.match(name!, NAME, line);
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!), line);
      assert.equal(rest.length, 0, line);
      assert.ok(!types.has(name!), `TYPE twice: ${line}`);
      types.set(name!, type!);
      continue;
    }
    assert.ok(!line.startsWith('#') && line.trim() !== '', `a stray line: «${line}»`);
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    assert.ok(name, `no metric name: ${line}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      let i = 1;
      while (rest[i] !== '}') {
        LABEL.lastIndex = i;
        const m = LABEL.exec(rest);
        assert.ok(m, `bad label syntax at ${i}: ${line}`);
        assert.ok(!(m[1]! in labels), `label twice: ${line}`);
        labels[m[1]!] = m[2]!;
        i = LABEL.lastIndex;
        if (rest[i] === ',') i++;
        else assert.equal(rest[i], '}', `labels not closed: ${line}`);
      }
      rest = rest.slice(i + 1);
    }
    const [value, timestamp, ...extra] = rest.trim().split(' ');
    assert.ok(rest.startsWith(' '), `no space before the value: ${line}`);
    assert.match(value!, VALUE, line);
    if (timestamp !== undefined) assert.match(timestamp, /^-?\d+$/, line);
    assert.equal(extra.length, 0, line);
    // Every sample belongs to a family declared above it (a histogram's by its suffixes).
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(family), `sample before its TYPE: ${line}`);
    if (types.get(family) === 'histogram' && family !== name)
      assert.ok(name.endsWith('_bucket') === 'le' in labels, `le only on _bucket: ${line}`);
    samples.push({ name, labels, value: Number(value) });
  }
  // Histograms: per series, buckets rising to le="+Inf", which equals _count; _sum present.
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      const last = buckets.at(-1)!;
      assert.equal(last.labels.le, '+Inf', `${family}${key}: the last bucket is le="+Inf"`);
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(le(buckets[i]!) > le(buckets[i - 1]!), `${family} le order`);
        assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${family}${key}: buckets are cumulative`);
      }
      const same = (s: Sample) => JSON.stringify(s.labels) === key;
      const count = samples.find((s) => s.name === `${family}_count` && same(s));
      const sum = samples.find((s) => s.name === `${family}_sum` && same(s));
      assert.ok(count && sum, `${family}${key}: _count and _sum`);
      assert.equal(count.value, last.value, `${family}${key}: _count equals the +Inf bucket`);
    }
  }
  return { samples, types };
}

/** A bucket's bound; "+Inf" is how the format writes infinity. */
function le(s: Sample): number {
  return s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe('Prometheus metrics on /metrics', () => {
  let full: FullApp;
  let metrics: Metrics;

  before(async () => {
    metrics = createMetrics();
    full = await openFullApp({ metrics: { metrics } });
    metrics.readFrom(storeReadings({ sql: full.env.db.sql, queue: full.queue, now: full.now }));
  });
  after(async () => {
    await full?.close();
  });

  it('a scrape after a chat turn, an HTTP request and an operator available parses and tells them', async () => {
    const operator = await full.signIn('metrics-operator', 'operator');
    const presence = await fetch(`${full.base}/api/desk/presence`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'available' }),
    });
    assert.equal(presence.status, 200);
    assert.equal((await fetch(`${full.base}/api/health`)).status, 200);
    const chat = (await (
      await fetch(`${full.base}/api/chat/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { id: string };
    const turn = await fetch(`${full.base}/api/chat/sessions/${chat.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Как записаться к врачу?' }),
    });
    assert.equal(turn.status, 200);
    await fetch(`${full.base}/no/such/page/${chat.id}`);

    const res = await fetch(`${full.base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    const families = parse(text);
    const byName = new Map<string, ParsedFamily>(families.map((f) => [f.name, f]));
    for (const name of [
      'otklik_sessions_active',
      'otklik_turns_total',
      'otklik_turn_latency_seconds',
      'otklik_vad_latency_seconds',
      'otklik_asr_latency_seconds',
      'otklik_tts_latency_seconds',
      'otklik_queue_waiting',
      'otklik_queue_longest_wait_seconds',
      'otklik_operators',
      'otklik_inquiries',
      'otklik_inquiries_overdue',
      'otklik_job_failures_total',
      'otklik_http_requests_total',
      'otklik_http_request_duration_seconds',
      'otklik_process_cpu_seconds_total',
      'otklik_nodejs_eventloop_lag_seconds',
    ])
      assert.ok(byName.has(name), `${name} is exposed`);
    assert.equal(byName.get('otklik_turn_latency_seconds')?.type, 'HISTOGRAM');

    const { samples, types } = checkGrammar(text);
    assert.equal(types.get('otklik_http_request_duration_seconds'), 'histogram');
    // The chat: a session in progress, the caller's turn and the bot's, and the turn's latency measured.
    assert.equal(value(samples, 'otklik_sessions_active', { channel: 'text' }), 1);
    assert.ok((value(samples, 'otklik_turns_total', { channel: 'text', speaker: 'caller' }) ?? 0) >= 1);
    assert.ok((value(samples, 'otklik_turns_total', { channel: 'text', speaker: 'bot' }) ?? 0) >= 2);
    assert.ok((value(samples, 'otklik_turn_latency_seconds_count', { channel: 'text' }) ?? 0) >= 1);
    // The store's figures, read at the scrape: the operator, the queues, the inquiries.
    assert.equal(value(samples, 'otklik_operators', { state: 'available' }), 1);
    assert.equal(value(samples, 'otklik_queue_waiting', { queue: 'default' }), 0);
    assert.equal(value(samples, 'otklik_queue_longest_wait_seconds', { queue: 'default' }), 0);
    assert.equal(value(samples, 'otklik_inquiries', { state: 'waiting_for_agency' }), 0);
    assert.equal(value(samples, 'otklik_inquiries_overdue', { deadline: 'agency' }), 0);
    assert.equal(value(samples, 'otklik_metrics_read_errors_total'), undefined, 'no reading failed');
    // HTTP by route pattern and status; no raw URL (the chat's id) in any label.
    const http = (route: string, method: string, status: string) =>
      value(samples, 'otklik_http_requests_total', { route, method, status });
    assert.equal(http('/api/health', 'GET', '200'), 1);
    assert.equal(http('/api/desk/presence', 'PUT', '200'), 1);
    assert.equal(http('/api/chat/sessions/:id/messages', 'POST', '200'), 1);
    assert.equal(http('unmatched', 'GET', '404'), 1);
    assert.ok(
      (value(samples, 'otklik_http_request_duration_seconds_count', { route: '/api/health' }) ?? 0) >= 1,
    );
    assert.ok(!text.includes(chat.id), 'a raw URL leaked into a label');

    // The sample Grafana dashboard asks only for what the app exposes.
    const dashboard = readFileSync(new URL('../ops/grafana/otklik.json', import.meta.url), 'utf8');
    const asked = new Set([...dashboard.matchAll(/\botklik_[a-z0-9_]+/g)].map((m) => m[0]));
    const unknown = [...asked].filter(
      (n) => !byName.has(n) && !byName.has(n.replace(/_(bucket|sum|count)$/, '')),
    );
    assert.deepEqual(unknown, [], 'the dashboard names metrics the app does not expose');
  });

  it('counts TTS cache hits and misses, and a failed reading is counted, never a failed scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const cache = new TtsMemoryCache(1024);
    cache.get('absent');
    cache.set('present', []);
    cache.get('present');
    cache.get('present');
    m.readFrom({
      ttsCache: () => ({ hits: cache.hits, misses: cache.misses }),
      operators: async () => {
        throw new Error('the store is down');
      },
    });
    const { samples } = checkGrammar(await m.scrape());
    assert.equal(value(samples, 'otklik_tts_cache_lookups_total', { result: 'hit' }), 2);
    assert.equal(value(samples, 'otklik_tts_cache_lookups_total', { result: 'miss' }), 1);
    assert.equal(value(samples, 'otklik_metrics_read_errors_total', { source: 'operators' }), 1);
    assert.equal(value(samples, 'otklik_operators'), undefined);
  });

  it('with METRICS_TOKEN only the bearer of the token gets in; without it only loopback peers', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const token = 'a-metrics-token-of-the-test-0123';
    const app = await build({ sql: full.env.db.sql, log: silentLogger, metrics: { metrics: m, token } });
    const open = await build({ sql: full.env.db.sql, log: silentLogger, metrics: { metrics: m } });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const none = await fetch(`${base}/metrics`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { code: string }).code, 'UNAUTHORIZED');
      const wrong = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } });
      assert.equal(wrong.status, 401);
      const right = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(right.status, 200);
      checkGrammar(await right.text());

      // Without a token: a peer on another address of this host is not loopback, and is refused.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      await open.listen({ host: '0.0.0.0', port: 0 });
      const port = (open.server.address() as { port: number }).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
      if (external) assert.equal((await fetch(`http://${external}:${port}/metrics`)).status, 401);
    } finally {
      await app.close();
      await open.close();
    }
  });
});
