import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import { searchAudit, writeAudit } from '../audit.js';
import type { TypedApp } from '../typed.js';
import {
  createAccount,
  listAccounts,
  resetPassword,
  type StaffAccount,
  setDisabled,
  unlockAccount,
  updateAccount,
} from '../user-admin.js';
import { roles } from '../users.js';
import { requireRole } from './auth.js';

export interface UsersPluginOptions {
  sql: Sql;
  /** The clock of the lock states shown (a test's); default the system's. */
  now?: () => Date;
}

const Login = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const RoleSchema = Type.Union(roles.map((r) => Type.Literal(r)));
const Agency = Type.Union([Type.String({ maxLength: 100 }), Type.Null()]);
const Password = Type.String({ minLength: 8, maxLength: 200 });
const byLogin = Type.Object({ login: Login });

/**
 * «Сотрудники» and «Журнал действий»: the admin manages staff accounts (create, change name, role and
 * agency, disable and enable, unlock after failed sign-ins, reset the password: a temporary password is
 * returned once and every session of the account ends); admins and supervisors read the audit log with
 * filters. Every change is audited as `user.*` with the account as the object.
 */
export async function usersPlugin(app: TypedApp, opts: UsersPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());
  const admin = requireRole();

  app.get(
    '/api/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Учётные записи сотрудников с ролью, ведомством и состоянием (администратор)',
      },
      preHandler: admin,
    },
    async () => ({
      users: await listAccounts(sql, now()),
      participants: (await createKnowledgeBase(sql).participants()).map((p) => ({ id: p.id, name: p.name })),
    }),
  );

  app.post(
    '/api/users',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        summary: 'Создать учётную запись (без пароля — пароль создаётся и показывается один раз)',
        body: Type.Object({
          login: Login,
          name: Name,
          role: RoleSchema,
          agency: Type.Optional(Agency),
          password: Type.Optional(Password),
        }),
      },
    },
    async (request, reply) => {
      const { account, password } = await createAccount(sql, request.body, now());
      await writeAudit(sql, request.staff!.login, 'user.create', account.login, {
        role: account.role,
        agency: account.agency,
        passwordGenerated: password !== null,
      });
      return reply.code(201).send({ user: account, password });
    },
  );

  app.post(
    '/api/users/:login',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        summary: 'Изменить ФИО, роль или ведомство сотрудника',
        params: byLogin,
        body: Type.Object({
          name: Type.Optional(Name),
          role: Type.Optional(RoleSchema),
          agency: Type.Optional(Agency),
        }),
      },
    },
    async (request) => {
      const { before, account } = await updateAccount(sql, request.params.login, request.body, now());
      const changes: Record<string, [unknown, unknown]> = {};
      for (const key of ['name', 'role', 'agency'] as const)
        if (before[key] !== account[key]) changes[key] = [before[key], account[key]];
      await writeAudit(sql, request.staff!.login, 'user.update', account.login, { changes });
      return { user: account };
    },
  );

  const act = (
    path: 'disable' | 'enable' | 'unlock',
    summary: string,
    run: (actor: string, login: string) => Promise<{ account: StaffAccount } & Record<string, unknown>>,
  ) =>
    app.post(
      `/api/users/:login/${path}`,
      {
        preHandler: admin,
        schema: { tags: ['users'], summary, params: byLogin, body: Type.Optional(Type.Object({})) },
      },
      async (request) => {
        const { account, ...details } = await run(request.staff!.login, request.params.login);
        await writeAudit(sql, request.staff!.login, `user.${path}`, account.login, details);
        return { user: account };
      },
    );
  act('disable', 'Отключить учётную запись (все её сеансы завершаются)', (actor, login) =>
    setDisabled(sql, actor, login, true, now()),
  );
  act('enable', 'Включить учётную запись', (actor, login) => setDisabled(sql, actor, login, false, now()));
  act('unlock', 'Снять блокировку входа после неудачных попыток', (_actor, login) =>
    unlockAccount(sql, login, now()),
  );

  app.post(
    '/api/users/:login/reset-password',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        summary: 'Новый временный пароль (показывается один раз; все сеансы сотрудника завершаются)',
        params: byLogin,
        body: Type.Optional(Type.Object({ password: Type.Optional(Password) })),
      },
    },
    async (request) => {
      const given = request.body?.password;
      const result = await resetPassword(sql, request.params.login, now(), given);
      await writeAudit(sql, request.staff!.login, 'user.reset_password', result.account.login, {
        sessionsEnded: result.sessionsEnded,
        passwordGenerated: given === undefined,
      });
      return { user: result.account, password: result.password };
    },
  );

  app.get(
    '/api/audit',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['users'],
        summary: 'Журнал действий сотрудников с отбором (новые сверху, по страницам)',
        querystring: Type.Object({
          login: Type.Optional(Type.String({ maxLength: 200 })),
          action: Type.Optional(Type.String({ maxLength: 100 })),
          object: Type.Optional(Type.String({ maxLength: 200 })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && from >= to)
        throw new OtklikError('VALIDATION_FAILED', 'Начало периода должно быть раньше его конца');
      return searchAudit(sql, {
        ...(q.login ? { login: q.login } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.object ? { object: q.object } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(q.before ? { before: q.before } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
    },
  );
}
