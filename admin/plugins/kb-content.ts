import { Type } from 'typebox';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import { createContentEditor } from '../../kb/content-editor.js';
import { problemsRu, russianIssue } from '../../kb/issue-text.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The call flows, voice menus, the bot's prompts and the numbers the line serves (and the flow each runs),
 * for the studio's «Сценарии и меню» (admin/ui/studio-content.js). Editors write, approvers and supervisors
 * read. Each edit is checked against the whole KB as an import is (kb/content-editor.ts); one that would
 * break it is refused with VALIDATION_FAILED, its message in Russian naming every problem (the flow, the
 * step, what is missing), and nothing is stored. Every stored edit is audited with a KB revision.
 */
type Issue = { field: string; message: string };

/** Runs an edit; a refusal of the KB's checks comes back with the problems in Russian under `title`. */
async function checked<T>(title: string, edit: () => Promise<T>): Promise<T> {
  try {
    return await edit();
  } catch (err) {
    const issues = isOtklikError(err, 'VALIDATION_FAILED')
      ? (err.details?.issues as Issue[] | undefined)
      : undefined;
    if (!isOtklikError(err, 'VALIDATION_FAILED')) throw err;
    if (!issues?.length) {
      throw new OtklikError('VALIDATION_FAILED', `${title}: ${russianIssue(err.message)}`, { cause: err });
    }
    const lines = issues.slice(0, 50).map((i) => `— ${russianIssue(i.message)} (поле ${i.field})`);
    if (issues.length > 50) lines.push(`— и ещё ${issues.length - 50}`);
    throw new OtklikError(
      'VALIDATION_FAILED',
      `${title} (${problemsRu(issues.length)}):\n${lines.join('\n')}`,
      {
        details: { issues: issues.map((i) => ({ ...i, text: russianIssue(i.message) })) },
        cause: err,
      },
    );
  }
}

export function kbContentRoutes(app: TypedApp, sql: Sql): void {
  const content = createContentEditor(sql);
  const byId = Type.Object({ id: TextId });
  const readers = requireRole('editor', 'approver', 'supervisor');
  const tags = ['kb'];

  app.get(
    '/api/kb/flows',
    { schema: { tags, summary: 'Сценарии разговора' }, preHandler: readers },
    async () => ({ flows: await content.flows() }),
  );

  app.get(
    '/api/kb/flows/:id',
    { preHandler: readers, schema: { tags, summary: 'Сценарий разговора', params: byId } },
    async (request) => {
      const flow = await content.flow(request.params.id);
      if (flow === null)
        throw new OtklikError('NOT_FOUND', `Сценария «${request.params.id}» нет в базе знаний`);
      return { flow };
    },
  );

  // The body is the flow document itself, as in the KB YAML's `flows:` section (its schema: kb/flow-schema.ts).
  app.post(
    '/api/kb/flows/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Сохранить сценарий (проверяется целиком)',
        params: byId,
        body: Type.Object({}, { additionalProperties: true, maxProperties: 50 }),
      },
    },
    async (request) => {
      const { id } = request.params;
      await checked(`Сценарий «${id}» не сохранён`, () => content.saveFlow(id, request.body));
      await auditKbChange(sql, request.staff!.login, 'flow.save', id);
      return { flow: await content.flow(id) };
    },
  );

  app.get(
    '/api/kb/prompts',
    { schema: { tags, summary: 'Фразы бота (устная и для чата)' }, preHandler: readers },
    async () => ({ prompts: await content.prompts() }),
  );

  app.post(
    '/api/kb/prompts/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Сохранить фразу бота',
        params: byId,
        body: Type.Object({
          text: Type.String(),
          chat: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      await checked(`Фраза бота «${id}» не сохранена`, () => content.savePrompt(id, request.body));
      await auditKbChange(sql, request.staff!.login, 'prompt.save', id);
      return { id };
    },
  );

  app.post(
    '/api/kb/prompts/:id/delete',
    {
      preHandler: requireRole('editor'),
      schema: { tags, summary: 'Удалить фразу бота', params: byId },
    },
    async (request) => {
      const { id } = request.params;
      await checked(`Фраза бота «${id}» не удалена: она ещё используется`, () => content.deletePrompt(id));
      await auditKbChange(sql, request.staff!.login, 'prompt.delete', id);
      return { id };
    },
  );

  app.get(
    '/api/kb/menus',
    { schema: { tags, summary: 'Голосовые меню с пунктами' }, preHandler: readers },
    async () => ({ menus: await content.menus() }),
  );

  app.post(
    '/api/kb/menus/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Сохранить голосовое меню',
        params: byId,
        body: Type.Object({ prompt: Type.String(), items: Type.Array(Type.Unknown(), { maxItems: 12 }) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      await checked(`Голосовое меню «${id}» не сохранено`, () => content.saveMenu(id, request.body));
      await auditKbChange(sql, request.staff!.login, 'menu.save', id);
      return { id };
    },
  );

  const numberBody = Type.Object({
    number: Type.String({ minLength: 1, maxLength: 40 }),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    flow: TextId,
    note: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  });
  const byDigits = Type.Object({ digits: Type.String({ pattern: '^[0-9]{1,15}$' }) });

  app.get(
    '/api/kb/numbers',
    { schema: { tags, summary: 'Номера линии и сценарий каждого' }, preHandler: readers },
    async () => ({ numbers: await content.numbers() }),
  );

  app.post(
    '/api/kb/numbers',
    {
      preHandler: requireRole('editor'),
      schema: { tags, summary: 'Добавить номер линии', body: numberBody },
    },
    async (request, reply) => {
      const saved = await checked(`Номер ${request.body.number} не сохранён`, () =>
        content.saveNumber(request.body),
      );
      await auditKbChange(sql, request.staff!.login, 'number.save', saved.number, { flow: saved.flow });
      return reply.code(201).send({ number: saved });
    },
  );

  app.post(
    '/api/kb/numbers/:digits',
    {
      preHandler: requireRole('editor'),
      schema: { tags, summary: 'Изменить номер линии', params: byDigits, body: numberBody },
    },
    async (request) => {
      const saved = await checked(`Номер ${request.body.number} не сохранён`, () =>
        content.saveNumber(request.body, request.params.digits),
      );
      await auditKbChange(sql, request.staff!.login, 'number.save', saved.number, {
        flow: saved.flow,
        was: request.params.digits,
      });
      return { number: saved };
    },
  );

  app.post(
    '/api/kb/numbers/:digits/delete',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags,
        summary: 'Удалить номер линии',
        params: byDigits,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      },
    },
    async (request) => {
      const { digits } = request.params;
      await content.deleteNumber(digits);
      await auditKbChange(sql, request.staff!.login, 'number.delete', digits);
      return { digits };
    },
  );
}
