/**
 * The API's description: OpenAPI 3.1 built from the routes' own schemas (@fastify/swagger), and Swagger UI at
 * `/docs`. The page and its scripts load for anyone (they hold nothing of the line); the description itself,
 * `/docs/json` and `/docs/yaml`, is for signed-in staff only: the page sends the staff UI's token (the tab's
 * sessionStorage, as the staff UI keeps it) with every request it makes. Two plugins: the description sees
 * only routes added after it, so it comes first; the UI comes after the sign-in plugin, whose hook it needs.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OtklikError } from '../../core/errors.js';
import type { TypedApp } from '../typed.js';
import './auth.js';

export interface DocsOptions {
  /** The API version shown in the description (the package's). */
  version?: string;
}

/** Where the UI is served; its description at `${DOCS_PREFIX}/json`. */
export const DOCS_PREFIX = '/docs';

/** The tags of the areas, in the order the UI lists them. */
const tags = [
  { name: 'auth', description: 'Вход сотрудников и учётные записи' },
  { name: 'kb', description: 'База знаний: темы, ответы, сценарии' },
  { name: 'nlu', description: 'Обучение модели: версии, оценка, контрольная выборка' },
  { name: 'incidents', description: 'Инциденты: сообщения о массовых проблемах' },
  { name: 'calls', description: 'Звонки и чаты, обзор линии' },
  { name: 'desk', description: 'Рабочее место оператора' },
  { name: 'wall', description: 'Табло старшего смены: очереди и операторы' },
  { name: 'callbacks', description: 'Обратные звонки' },
  { name: 'inquiries', description: 'Обращения, переданные уполномоченным лицам' },
  { name: 'recordings', description: 'Записи разговоров' },
  { name: 'reports', description: 'Отчёты' },
  { name: 'quality', description: 'Контроль качества: чек-лист, оценки звонков, показатели операторов' },
  { name: 'chat', description: 'Веб-чат для граждан' },
  { name: 'operations', description: 'Состояние и метрики' },
];

/**
 * Runs in the browser (serialized into Swagger UI's initializer): adds the staff UI's token, kept by the tab
 * under `otklik.token`, to each request the page makes, the description's own included.
 */
function withStaffToken(req: { headers: Record<string, string> }) {
  const storage = (globalThis as { sessionStorage?: { getItem(k: string): string | null } }).sessionStorage;
  const token = storage?.getItem('otklik.token');
  if (token && !req.headers.Authorization) req.headers.Authorization = `Bearer ${token}`;
  return req;
}

const described = new Set([`${DOCS_PREFIX}/json`, `${DOCS_PREFIX}/yaml`]);

async function description(app: TypedApp, opts: DocsOptions): Promise<void> {
  await (app as unknown as FastifyInstance).register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Отклик: HTTP API',
        description:
          'API линии 122: рабочие места сотрудников и веб-чат граждан. Ошибки: {code, error, message, retryable}.',
        version: opts.version ?? '0.0.0',
      },
      tags,
      components: {
        securitySchemes: { staff: { type: 'http', scheme: 'bearer', description: 'POST /api/auth/login' } },
      },
      // Most routes need a signed-in staff member (the route's role check says which); the chat and the
      // health check do not.
      security: [{ staff: [] }, {}],
    },
  });
}

async function ui(app: TypedApp): Promise<void> {
  await (app as unknown as FastifyInstance).register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { requestInterceptor: withStaffToken as never, persistAuthorization: false },
    uiHooks: {
      // Swagger UI's own redirect of its old page address keeps a query string and so redirects to itself.
      onRequest: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
        if (request.routeOptions.url === `${DOCS_PREFIX}/static/index.html`)
          reply.redirect(`${DOCS_PREFIX}/`);
        else done();
      },
      preHandler: (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
        if (!described.has(request.routeOptions.url ?? '') || request.staff) done();
        else done(new OtklikError('UNAUTHORIZED', 'Описание API доступно только сотрудникам после входа'));
      },
    },
  });
}

/** The description: not encapsulated, it must see every route; register it before all of them. */
export const apiDescriptionPlugin = fp(description as never, {
  name: 'otklik-api-description',
}) as unknown as (app: FastifyInstance | TypedApp, opts: DocsOptions) => Promise<void>;

/** The UI and the description's routes; after the sign-in plugin, whose hook tells who is asking. */
export const docsUiPlugin = fp(ui as never, {
  name: 'otklik-docs-ui',
  dependencies: ['otklik-api-description', 'otklik-auth'],
}) as unknown as (app: FastifyInstance | TypedApp) => Promise<void>;
