import { Type } from 'typebox';
import type { Logger } from '../../core/log.js';
import { approvalFigures, pendingAnswers } from '../../kb/answer-queue.js';
import { answerHandlings, createKbEditor } from '../../kb/editor.js';
import { requireIntentInScope } from '../../kb/staff-scope.js';
import type { AnswerHandling } from '../../kb/types.js';
import type { Sql } from '../../store/sql.js';
import { type AnswerNoticeDeps, mailAnswerNotices } from '../answer-notices.js';
import { auditKbChange } from '../audit.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The answer studio's routes beside kb.ts's (which creates drafts and moves them): an editor edits her draft
 * (the three texts, the note for the approver, the handling) and sees the approver's comment on it; the
 * approver's queue lists what waits for her agency with author, note, a word diff of each text against the
 * version served now and whether it waited longer than one working day (kb/answer-queue.ts); the approver
 * returns a version with a comment (required) or approves it through kb.ts's route. Each write is audited and
 * a KB revision (auditKbChange); a return mails the author (admin/answer-notices.ts), not waiting for it.
 */
export interface KbAnswersOptions {
  sql: Sql;
  log: Logger;
  /** The notices' mail; without it nothing is mailed from here (the worker's sweep may still). */
  notices?: Omit<AnswerNoticeDeps, 'now'>;
  now?: () => Date;
}

/** Starts mailing the due notices without waiting: a failed mail is the next sweep's to retry. */
export function noticeKick(notices: Omit<AnswerNoticeDeps, 'now'> | undefined, now: () => Date) {
  return () => {
    if (!notices?.mailer) return;
    mailAnswerNotices({ ...notices, now }).catch((err) =>
      notices.log.warn({ err }, 'answer notice not mailed now; the sweep tries again'),
    );
  };
}

export async function kbAnswersPlugin(app: TypedApp, opts: KbAnswersOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());
  const editor = createKbEditor(sql, { now });
  const kick = noticeKick(opts.notices, now);
  const params = Type.Object({ intentId: Type.String(), version: Type.Integer({ minimum: 1 }) });
  const handling = Type.Union(answerHandlings.map((h) => Type.Literal(h)));

  app.get(
    '/api/kb/approvals',
    {
      preHandler: requireRole('approver', 'editor', 'supervisor'),
      schema: {
        tags: ['kb'],
        summary: 'Скрипты, ждущие согласования (согласующему — его ведомства), с разницей по словам',
        querystring: Type.Object({ intent: Type.Optional(Type.String({ maxLength: 200 })) }),
      },
    },
    async (request) => {
      const staff = request.staff!;
      // An approver sees her agency's queue; the editors and supervisors every waiting script.
      const agency = staff.role === 'approver' ? (staff.agency ?? '-') : null;
      const approvals = await pendingAnswers(sql, {
        now: now(),
        agency,
        ...(request.query.intent ? { intentId: request.query.intent } : {}),
      });
      return { approvals };
    },
  );

  app.get(
    '/api/kb/approvals/figures',
    {
      preHandler: requireRole('approver', 'editor', 'supervisor'),
      schema: { tags: ['kb'], summary: 'Сколько скриптов ждут согласования и сколько дольше рабочего дня' },
    },
    async () => approvalFigures(sql, now()),
  );

  app.put(
    '/api/kb/answers/:intentId/versions/:version',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Изменить черновик ответа: тексты, записку согласующему, обработку',
        params,
        body: Type.Object({
          speech: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
          chat: Type.Optional(Type.Union([Type.String({ maxLength: 20_000 }), Type.Null()])),
          screen: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
          note: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
          handling: Type.Optional(handling),
        }),
      },
    },
    async (request) => {
      const { intentId, version } = request.params;
      const body = request.body;
      await requireIntentInScope(sql, intentId, request.staff!);
      const draft = await editor.updateDraft(intentId, version, {
        ...(body.speech !== undefined ? { speech: body.speech } : {}),
        ...(body.chat !== undefined ? { chat: body.chat } : {}),
        ...(body.screen !== undefined ? { screen: body.screen } : {}),
        ...(body.note !== undefined ? { note: body.note } : {}),
        ...(body.handling !== undefined ? { handling: body.handling as AnswerHandling } : {}),
      });
      await auditKbChange(sql, request.staff!.login, 'answer.edit', `${intentId}@v${version}`);
      return draft;
    },
  );

  app.post(
    '/api/kb/answers/:intentId/versions/:version/return',
    {
      preHandler: requireRole('approver'),
      schema: {
        tags: ['kb'],
        summary: 'Вернуть скрипт автору на доработку с комментарием',
        params,
        body: Type.Object({ comment: Type.String({ minLength: 1, maxLength: 4000, pattern: '\\S' }) }),
      },
    },
    async (request) => {
      const { intentId, version } = request.params;
      const returned = await editor.reject(intentId, version, request.staff!, request.body.comment);
      await auditKbChange(sql, request.staff!.login, 'answer.return', `${intentId}@v${version}`, {
        comment: request.body.comment,
      });
      kick();
      return returned;
    },
  );
}
