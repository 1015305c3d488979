import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { Sql } from '../../kb/store/sql.js';
import type { TypedApp } from '../typed.js';
import { login, logout, type Role, type StaffUser, userByToken } from '../users.js';

declare module 'fastify' {
  interface FastifyRequest {
    staff: StaffUser | null;
  }
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : null;
}

/** A preHandler that lets in any signed-in staff member; the handler decides by role itself (and audits). */
export async function requireSignIn(request: FastifyRequest, reply: FastifyReply) {
  if (!request.staff)
    return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'Требуется вход в систему' });
}

/** Returns a preHandler that lets in only staff with one of the roles (admin is always allowed). */
export function requireRole(...allowed: Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.staff) return requireSignIn(request, reply);
    if (request.staff.role !== 'admin' && !allowed.includes(request.staff.role)) {
      return reply.code(403).send({ error: 'FORBIDDEN', message: 'Недостаточно прав для этого действия' });
    }
  };
}

/** Staff sign-in: POST /api/auth/login → bearer token; every request resolves `request.staff`. */
async function auth(app: TypedApp, opts: { sql: Sql }): Promise<void> {
  const { sql } = opts;
  (app as unknown as FastifyInstance).decorateRequest('staff', null);
  app.addHook('onRequest', async (request) => {
    const token = bearer(request);
    request.staff = token ? await userByToken(sql, token) : null;
  });

  app.post(
    '/api/auth/login',
    {
      schema: {
        body: Type.Object({ login: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) }),
      },
    },
    async (request, reply) => {
      const result = await login(sql, request.body.login, request.body.password);
      if (!result)
        return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'Неверный логин или пароль' });
      return result;
    },
  );

  app.post('/api/auth/logout', async (request) => {
    const token = bearer(request);
    if (token) await logout(sql, token);
    return { ok: true };
  });

  app.get(
    '/api/auth/me',
    { preHandler: requireRole('supervisor', 'editor', 'approver', 'operator') },
    async (request) => ({
      user: request.staff,
    }),
  );
}

/** Not encapsulated: the sign-in hook must run for every area's routes. */
export const authPlugin = fp(auth as never, { name: 'otklik-auth' }) as unknown as (
  app: TypedApp,
  opts: { sql: Sql },
) => Promise<void>;
