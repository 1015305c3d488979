/**
 * Prometheus on `GET /metrics`, and the HTTP figures of every route (by its pattern, never the raw URL).
 * Access: with a token configured (METRICS_TOKEN) only `Authorization: Bearer <token>` is let in, from
 * anywhere; without one only a peer on this host's loopback is (the socket's address: the app trusts no
 * X-Forwarded-For). Anything else gets 401. A reverse proxy on this host makes every request a loopback one:
 * it must not pass /metrics on, or the token must be set.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OtklikError } from '../../core/errors.js';
import type { Metrics } from '../../core/metrics.js';
import type { TypedApp } from '../typed.js';

export interface MetricsPluginOptions {
  metrics: Metrics;
  /** METRICS_TOKEN: required from every scraper when set; unset: loopback peers only. */
  token?: string;
}

/** The label of a request that matched no route (404s): one series, whatever URL was asked. */
export const UNMATCHED_ROUTE = 'unmatched';

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function tokenMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

async function metricsArea(app: TypedApp, opts: MetricsPluginOptions): Promise<void> {
  const { metrics } = opts;
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Метрики Prometheus',
        description:
          'Текстовый формат Prometheus. Доступ: с токеном METRICS_TOKEN (Bearer) или, если токен не задан, только с этого узла (loopback).',
        tags: ['operations'],
      },
    },
    async (request, reply) => {
      const allowed = opts.token
        ? tokenMatches(request, opts.token)
        : isLoopback(request.socket.remoteAddress);
      if (!allowed)
        throw new OtklikError(
          'UNAUTHORIZED',
          opts.token
            ? 'Для получения метрик нужен токен METRICS_TOKEN'
            : 'Метрики доступны только с этого узла или с токеном METRICS_TOKEN',
        );
      reply.header('content-type', metrics.registry.contentType);
      return metrics.scrape();
    },
  );
}

/** Not encapsulated: the HTTP figures must see every area's routes. Register it before the areas. */
export const metricsPlugin = fp(metricsArea as never, { name: 'otklik-metrics' }) as unknown as (
  app: FastifyInstance | TypedApp,
  opts: MetricsPluginOptions,
) => Promise<void>;
