import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { signInDefaults } from '../../core/config.js';
import { OtklikError } from '../../core/errors.js';
import { maskIp } from '../../core/log.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import type { TypedApp } from '../typed.js';
import { listUsers, login, logout, type Role, type StaffUser, userByToken } from '../users.js';

declare module 'fastify' {
  interface FastifyRequest {
    staff: StaffUser | null;
  }
}

/** How many failed sign-ins a login may have before it is locked, and for how long (core/config.ts signIn). */
export interface SignInLimits {
  maxFailures: number;
  /** Failures are counted in a window of this length; once over the limit, the login stays locked until it ends. */
  lockoutMs: number;
}

/** The configuration's defaults (SIGNIN_MAX_FAILURES, SIGNIN_LOCKOUT_MS) for an app built without them. */
export const defaultSignInLimits: SignInLimits = signInDefaults;

export interface AuthOptions {
  sql: Sql;
  signIn?: SignInLimits;
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : null;
}

/** A preHandler that lets in any signed-in staff member; the handler decides by role itself (and audits). */
export async function requireSignIn(request: FastifyRequest, _reply?: FastifyReply) {
  if (!request.staff) throw new OtklikError('UNAUTHORIZED', 'Требуется вход в систему');
}

/**
 * Returns a preHandler that lets in only staff with one of the roles (admin always passes: it manages the
 * line). What an approver may approve is not a matter of role: kb/editor.ts checks the agency and authorship.
 */
export function requireRole(...allowed: Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    await requireSignIn(request, reply);
    if (request.staff!.role !== 'admin' && !allowed.includes(request.staff!.role))
      throw new OtklikError('FORBIDDEN', 'Недостаточно прав для этого действия');
  };
}

const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

/** Staff sign-in: POST /api/auth/login → bearer token; every request resolves `request.staff`. */
async function auth(app: TypedApp, opts: AuthOptions): Promise<void> {
  const { sql } = opts;
  const limits = opts.signIn ?? defaultSignInLimits;
  const fastify = app as unknown as FastifyInstance;
  fastify.decorateRequest('staff', null);
  app.addHook('onRequest', async (request) => {
    const token = bearer(request);
    request.staff = token ? await userByToken(sql, token) : null;
  });

  // Only failed sign-ins are counted, per login: a peek before checking the password, a hit after a failure.
  await fastify.register(rateLimit, { global: false });
  const failures = fastify.createRateLimit({
    max: limits.maxFailures,
    timeWindow: limits.lockoutMs,
    keyGenerator: (request) => `sign-in:${(request.body as { login: string }).login}`,
  });

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Вход сотрудника: логин и пароль → токен',
        body: Type.Object({
          login: Type.String({ minLength: 1, maxLength: 200 }),
          password: Type.String({ minLength: 1, maxLength: 1000 }),
        }),
      },
    },
    async (request, reply) => {
      const name = request.body.login;
      const attempt = { pii: { ip: maskIp(request.ip) } };
      const before = await failures(request, { increment: false });
      if (!before.isAllowed && before.remaining === 0) {
        await writeAudit(sql, name, 'login.locked', undefined, attempt);
        reply.header('retry-after', before.ttlInSeconds);
        throw new OtklikError(
          'SIGN_IN_LOCKED',
          `Слишком много неудачных попыток входа. Вход для этой учётной записи временно заблокирован: попробуйте через ${minutes(before.ttl)} мин.`,
          { retryable: true },
        );
      }
      const result = await login(sql, name, request.body.password);
      if (!result) {
        await failures(request);
        await writeAudit(sql, name, 'login.failed', undefined, attempt);
        throw new OtklikError('UNAUTHORIZED', 'Неверный логин или пароль');
      }
      return result;
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { tags: ['auth'], summary: 'Выход: токен больше не действует' } },
    async (request) => {
      const token = bearer(request);
      if (token) await logout(sql, token);
      return { ok: true };
    },
  );

  app.get(
    '/api/auth/me',
    {
      schema: { tags: ['auth'], summary: 'Кто вошёл: сотрудник и его роль' },
      preHandler: requireRole('supervisor', 'editor', 'approver', 'operator'),
    },
    async (request) => ({
      user: request.staff,
    }),
  );

  // Staff accounts with their role and agency, for the admin (accounts are added with `otklik admin user-add`).
  app.get(
    '/api/users',
    {
      schema: { tags: ['auth'], summary: 'Учётные записи сотрудников (администратор)' },
      preHandler: requireRole(),
    },
    async () => ({ users: await listUsers(sql) }),
  );
}

/** Not encapsulated: the sign-in hook must run for every area's routes. */
export const authPlugin = fp(auth as never, { name: 'otklik-auth' }) as unknown as (
  app: TypedApp,
  opts: AuthOptions,
) => Promise<void>;
