import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { createKbEditor } from '../../kb/editor.js';
import { requireIntentInScope } from '../../kb/staff-scope.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange } from '../audit.js';
import type { TypedApp } from '../typed.js';
import type { StaffUser } from '../users.js';
import { requireRole } from './auth.js';
import { kbContentRoutes } from './kb-content.js';

/**
 * Answer scripts and their approval, for knowledge editors and approvers. An editor writes drafts and sends
 * them for approval; only an approver of the responsible agency who did not write or submit the draft
 * approves (the admin too is held to that), and only then is the script served to callers. Editors also
 * edit the call flows, menus and prompts; each edit is checked against the whole KB as an import is
 * (kb/content-editor.ts), and one that would break it is refused (VALIDATION_FAILED, every problem named).
 */
export async function kbPlugin(
  app: TypedApp,
  opts: {
    sql: Sql;
    /** Told of a submit (admin/answer-notices.ts mails the approvers). */
    onSubmit?: () => void;
    now?: () => Date;
  },
): Promise<void> {
  const { sql } = opts;
  const editor = createKbEditor(sql, opts.now ? { now: opts.now } : {});
  const params = Type.Object({ intentId: Type.String(), version: Type.Integer({ minimum: 1 }) });

  app.get(
    '/api/kb/answers',
    {
      schema: { tags: ['kb'], summary: 'Ответы базы знаний с версиями по намерениям' },
      preHandler: requireRole('editor', 'approver', 'supervisor', 'operator'),
    },
    async () => {
      const intents = await editor.intents();
      const answers = [];
      for (const intent of intents) {
        const versions = await editor.versions(intent.id);
        if (versions.length === 0 && intent.handling !== 'answer' && intent.handling !== 'forward') continue;
        answers.push({ intentId: intent.id, title: intent.title, handling: intent.handling, versions });
      }
      return { answers };
    },
  );

  app.post(
    '/api/kb/answers/:intentId/versions',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Новый черновик ответа на намерение',
        params: Type.Object({ intentId: Type.String() }),
        body: Type.Object({
          speech: Type.String({ minLength: 1 }),
          // The web chat's text (empty: the chat shows the spoken one); `screen` is the operator's card.
          chat: Type.Optional(Type.Union([Type.String(), Type.Null()])),
          screen: Type.String({ minLength: 1 }),
          note: Type.Optional(Type.String()),
          handling: Type.Optional(
            Type.Union([Type.Literal('answer'), Type.Literal('forward'), Type.Literal('inquiry')]),
          ),
        }),
      },
    },
    async (request, reply) => {
      const { intentId } = request.params;
      // An editor of an agency writes only for its topics; the region's editors (no agency) for all.
      await requireIntentInScope(sql, intentId, request.staff!);
      const draft = await editor.createDraft(intentId, { ...request.body, author: request.staff!.login });
      await auditKbChange(sql, request.staff!.login, 'answer.draft', `${intentId}@v${draft.version}`);
      return reply.code(201).send(draft);
    },
  );

  const transitionSummary = {
    submit: 'Отправить черновик ответа на утверждение',
    approve: 'Утвердить версию ответа',
    reject: 'Вернуть версию ответа с комментарием',
    retire: 'Снять версию ответа',
  } as const;
  const transition = (
    action: 'submit' | 'approve' | 'reject' | 'retire',
    roles: Parameters<typeof requireRole>,
    run: (intentId: string, version: number, staff: StaffUser, reason: string) => Promise<unknown>,
  ) =>
    app.post(
      `/api/kb/answers/:intentId/versions/:version/${action}`,
      {
        preHandler: requireRole(...roles),
        schema: {
          tags: ['kb'],
          summary: transitionSummary[action],
          params,
          body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String()) })),
        },
      },
      async (request) => {
        const { intentId, version } = request.params;
        const result = await run(intentId, version, request.staff!, request.body?.reason ?? '');
        await auditKbChange(sql, request.staff!.login, `answer.${action}`, `${intentId}@v${version}`);
        if (action === 'submit') opts.onSubmit?.();
        return result;
      },
    );

  // Who may approve which topic, and that nobody approves their own draft, is the editor's rule (kb/editor.ts);
  // an account of an agency submits and retires only the answers of that agency's topics (kb/staff-scope.ts).
  transition('submit', ['editor'], async (intent, version, staff) => {
    await requireIntentInScope(sql, intent, staff);
    return editor.submitForApproval(intent, version, staff.login);
  });
  transition('approve', ['approver'], (intent, version, staff) => editor.approve(intent, version, staff));
  // A script goes back to its author with a comment, always (the same rule as /return, kb-answers.ts).
  transition('reject', ['approver'], (intent, version, staff, reason) => {
    if (reason.trim() === '')
      throw new OtklikError('VALIDATION_FAILED', 'Напишите комментарий: что исправить в ответе');
    return editor.reject(intent, version, staff, reason);
  });
  transition('retire', ['approver'], async (intent, version, staff) => {
    await requireIntentInScope(sql, intent, staff);
    return editor.retire(intent, version);
  });

  // Flows, menus, prompts and the numbers the line serves: the studio's «Сценарии и меню» (kb-content.ts).
  kbContentRoutes(app, sql);
}
