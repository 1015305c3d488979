import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyPluginAsync, type RouteOptions } from 'fastify';
import type { Logger } from '../core/log.js';
import type { Sql } from '../store/sql.js';
import { frameworkErrors, installErrorHandling } from './http-errors.js';
import { authPlugin, type SignInLimits } from './plugins/auth.js';
import { securityHeaders } from './security.js';
import type { TypedApp } from './typed.js';

export interface ComponentHealth {
  status: 'ready' | 'degraded' | 'model_missing' | 'failed' | 'off';
  message?: string;
}

export interface AdminOptions {
  sql: Sql;
  log: Logger;
  /** Health of each part (speech engines, NLU model, telephony...), shown at /api/health and in the UI. */
  health?: () => Promise<Record<string, ComponentHealth>>;
  /** Each admin area is a fastify plugin; serve passes the areas it runs (text chat, KB, calls, queue...). */
  /** Failed sign-ins allowed per login, and the lockout after them (config signIn). */
  signIn?: SignInLimits;
  plugins?: Array<{ plugin: FastifyPluginAsync<never> | ((app: TypedApp) => Promise<void>); opts?: unknown }>;
  /** Sees every route as it is registered, with its schemas (the API fuzz test walks them all). */
  onRoute?: (route: RouteOptions) => void;
}

const uiDir = fileURLToPath(new URL('./ui/', import.meta.url));

/** Builds the HTTP app (API + web UI); `listen` is the caller's. */
export async function build(opts: AdminOptions): Promise<TypedApp> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as TypedApp;
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

  // Errors carry a code, a Russian message and whether a retry helps; bad input is a 4xx, never a 500.
  installErrorHandling(app);

  await app.register(helmet, securityHeaders(uiDir));
  await app.register(authPlugin, { sql: opts.sql, ...(opts.signIn ? { signIn: opts.signIn } : {}) });

  // Anyone may ask whether the line works; what is broken (and the error texts) only staff see.
  app.get('/api/health', async (request) => {
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
  });

  for (const { plugin, opts: pluginOpts } of opts.plugins ?? []) {
    await app.register(plugin as FastifyPluginAsync, (pluginOpts ?? {}) as object);
  }

  await app.register(fastifyStatic, { root: uiDir, prefix: '/', index: ['index.html'] });
  return app;
}
