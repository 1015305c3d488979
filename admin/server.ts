import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyPluginAsync } from 'fastify';
import { isOtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Sql } from '../kb/store/sql.js';
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
}

const uiDir = fileURLToPath(new URL('./ui/', import.meta.url));

/** Builds the HTTP app (API + web UI); `listen` is the caller's. */
export async function build(opts: AdminOptions): Promise<TypedApp> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as TypedApp;

  // Errors carry a code and whether a retry helps; validation failures name the field.
  app.setErrorHandler((err, request, reply) => {
    if (isOtklikError(err)) {
      const status =
        {
          VALIDATION_FAILED: 400,
          NOT_FOUND: 404,
          CONFLICT: 409,
          FORBIDDEN: 403,
          APPROVER_IS_AUTHOR: 403,
          APPROVER_WITHOUT_AGENCY: 403,
          APPROVER_OTHER_AGENCY: 403,
          STORE_UNAVAILABLE: 503,
          UNAVAILABLE: 503,
        }[err.code as string] ?? 500;
      return reply.code(status).send({ error: err.code, message: err.message, retryable: err.retryable });
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation)
      return reply.code(400).send({ error: 'VALIDATION_FAILED', message: e.message, retryable: false });
    if (e.statusCode && e.statusCode < 500)
      return reply.code(e.statusCode).send({ error: 'BAD_REQUEST', message: e.message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'Внутренняя ошибка сервера', retryable: true });
  });

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
