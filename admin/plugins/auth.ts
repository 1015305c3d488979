import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { signInDefaults } from '../../core/config.js';
import { OtklikError } from '../../core/errors.js';
import { maskIp } from '../../core/log.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import { claimAttempt, clearFailures, recordFailure, type SignInLimits } from '../sign-in-lock.js';
import type { TypedApp } from '../typed.js';
import { login, logout, type Role, type StaffUser, userByToken } from '../users.js';

declare module 'fastify' {
  interface FastifyRequest {
    staff: StaffUser | null;
  }
}

export type { SignInLimits };

/** The configuration's defaults (SIGNIN_MAX_FAILURES, SIGNIN_LOCKOUT_MS) for an app built without them. */
export const defaultSignInLimits: SignInLimits = signInDefaults;

export interface AuthOptions {
  sql: Sql;
  signIn?: SignInLimits;
  /** The clock of sessions and lockouts (a test's); default the system's. */
  now?: () => Date;
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
  const now = opts.now ?? (() => new Date());
  const fastify = app as unknown as FastifyInstance;
  fastify.decorateRequest('staff', null);
  app.addHook('onRequest', async (request) => {
    const token = bearer(request);
    request.staff = token ? await userByToken(sql, token, now()) : null;
  });

  // The areas' own per-route limits (the feed, the agencies' answer links) ride on this registration.
  await fastify.register(rateLimit, { global: false });

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
      // Sign-ins are counted per login in the store (sign-in-lock.ts), each claimed before its password is
      // checked: every node sees one count, attempts sent at once cannot pass the limit together, and an
      // admin can unlock a login before the lock ends.
      const at = now();
      const claim = await claimAttempt(sql, name, at, limits);
      if (claim.lockedUntil) {
        const ttl = claim.lockedUntil.getTime() - at.getTime();
        await writeAudit(sql, name, 'login.locked', undefined, attempt);
        reply.header('retry-after', Math.ceil(ttl / 1000));
        throw new OtklikError(
          'SIGN_IN_LOCKED',
          `Слишком много неудачных попыток входа. Вход для этой учётной записи временно заблокирован: попробуйте через ${minutes(ttl)} мин. или обратитесь к администратору`,
          { retryable: true },
        );
      }
      const result = await login(sql, name, request.body.password, at);
      if (!result) {
        const locked = await recordFailure(sql, name, claim.attempt, at, limits);
        await writeAudit(
          sql,
          name,
          'login.failed',
          undefined,
          locked ? { ...attempt, locked: true } : attempt,
        );
        throw new OtklikError('UNAUTHORIZED', 'Неверный логин или пароль');
      }
      await clearFailures(sql, name, at);
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
}

/** Not encapsulated: the sign-in hook must run for every area's routes. */
export const authPlugin = fp(auth as never, { name: 'otklik-auth' }) as unknown as (
  app: TypedApp,
  opts: AuthOptions,
) => Promise<void>;
