import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type RouteOptions,
} from 'fastify';
import type { Logger } from '../core/log.js';
import type { Sql } from '../store/sql.js';
import { frameworkErrors, installErrorHandling } from './http-errors.js';
import { authPlugin, type SignInLimits } from './plugins/auth.js';
import { apiDescriptionPlugin, type DocsOptions, docsUiPlugin } from './plugins/docs.js';
import { type MetricsPluginOptions, metricsPlugin } from './plugins/metrics.js';
import { securityHeaders } from './security.js';
import type { TypedApp } from './typed.js';

export interface ComponentHealth {
  status: 'ready' | 'degraded' | 'model_missing' | 'failed' | 'off';
  message?: string;
}

/**
 * An area of the HTTP app (KB, calls, reports, text chat...): a fastify plugin registered with its options,
 * in a context of its own. Made by `adminArea`, which checks the options against the plugin's own type.
 */
export interface AdminArea {
  register(app: TypedApp): Promise<void>;
}

/** A plugin as the areas write them: on the typed app, or on a plain fastify (the text chat). */
export type AreaPlugin<O> =
  | ((app: TypedApp, opts: O) => Promise<void>)
  | ((app: FastifyInstance, opts: O) => Promise<void>);

/** `plugin` with `opts`; the options' type is the plugin's (NoInfer: a wrong or extra option is an error). */
export function adminArea<O extends object>(plugin: AreaPlugin<O>, opts: NoInfer<O>): AdminArea {
  return {
    async register(app) {
      await app.register(plugin as unknown as FastifyPluginAsync<O>, opts);
    },
  };
}

export interface AdminOptions {
  sql: Sql;
  log: Logger;
  /** Health of each part (speech engines, NLU model, telephony...), shown at /api/health and in the UI. */
  health?: () => Promise<Record<string, ComponentHealth>>;
  /** Failed sign-ins allowed per login, and the lockout after them (config signIn). */
  signIn?: SignInLimits;
  /** The clock of staff sessions and sign-in lockouts (a test's); default the system's. */
  now?: () => Date;
  /** The areas this app serves; serve passes every one, a test the ones it checks. */
  plugins?: AdminArea[];
  /** Sees every route as it is registered, with its schemas (the API fuzz test walks them all). */
  onRoute?: (route: RouteOptions) => void;
  /** HTTPS (PEM certificate chain and key, read by the composition root); unset: plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
  /** Prometheus on /metrics and the HTTP figures of every route; unset: no /metrics. */
  metrics?: MetricsPluginOptions;
  /** The OpenAPI description (/docs/json, staff only) and its UI at /docs. */
  docs?: DocsOptions;
}

const uiDir = fileURLToPath(new URL('./ui/', import.meta.url));
/** uPlot's ESM build and CSS for the reports page's charts, served from the package itself (no CDN). */
const uplotDir = fileURLToPath(new URL('../node_modules/uplot/dist/', import.meta.url));

/** Builds the HTTP app (API + web UI); `listen` is the caller's. */
export async function build(opts: AdminOptions): Promise<TypedApp> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    frameworkErrors,
    // The web chat's WebSocket rides on the same server, so it is wss:// whenever this is HTTPS.
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as TypedApp;
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

  // Errors carry a code, a Russian message and whether a retry helps; bad input is a 4xx, never a 500.
  installErrorHandling(app);

  await app.register(helmet, securityHeaders(uiDir));
  // Both watch every route added after them: the HTTP figures and the API description.
  await app.register(apiDescriptionPlugin, opts.docs ?? {});
  if (opts.metrics) await app.register(metricsPlugin, opts.metrics);
  await app.register(authPlugin, {
    sql: opts.sql,
    ...(opts.signIn ? { signIn: opts.signIn } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  await app.register(docsUiPlugin);

  // Anyone may ask whether the line works; what is broken (and the error texts) only staff see.
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Работает ли линия',
        description: 'Всем: status (ok или degraded). Сотрудникам также состояние каждой части (components).',
        tags: ['operations'],
      },
    },
    async (request) => {
      const components: Record<string, ComponentHealth> = {};
      try {
        await opts.sql.query('SELECT 1');
        components.store = { status: 'ready' };
      } catch (err) {
        components.store = { status: 'failed', message: (err as Error).message };
      }
      if (opts.health) Object.assign(components, await opts.health());
      const status = Object.values(components).every((c) => c.status === 'ready' || c.status === 'off')
        ? 'ok'
        : 'degraded';
      return request.staff ? { status, components } : { status };
    },
  );

  for (const area of opts.plugins ?? []) await area.register(app);

  await app.register(fastifyStatic, { root: uiDir, prefix: '/', index: ['index.html'] });
  await app.register(fastifyStatic, {
    root: uplotDir,
    prefix: '/vendor/uplot/',
    decorateReply: false,
    allowedPath: (path) => path === '/uPlot.esm.js' || path === '/uPlot.min.css',
  });
  return app;
}
