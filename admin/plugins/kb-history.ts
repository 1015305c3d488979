import { Type } from 'typebox';
import {
  diffDocuments,
  listRevisions,
  previousRevisionId,
  restoreRevision,
  revisionDocument,
} from '../../kb/revisions.js';
import { kbDocumentToYaml } from '../../kb/yaml-export.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The knowledge base's history (kb/revisions.ts): every change with who made it and when, what it changed
 * against the state before (or any other state), the whole KB as YAML at that point, and a restore.
 * Editors restore; approvers and supervisors read (an approver checks what stood when a script was served).
 */
export async function kbHistoryPlugin(app: TypedApp, opts: { sql: Sql; now?: () => Date }): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());
  const readers = requireRole('editor', 'approver', 'supervisor');
  const revisionId = Type.Object({ id: Type.Integer({ minimum: 1 }) });

  app.get(
    '/api/kb/revisions',
    {
      preHandler: readers,
      schema: {
        tags: ['kb'],
        summary: 'История изменений базы знаний',
        querystring: Type.Object({
          before: Type.Optional(Type.Integer({ minimum: 1 })),
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          search: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        }),
      },
    },
    async (request) => ({ revisions: await listRevisions(sql, request.query) }),
  );

  app.get(
    '/api/kb/revisions/:id',
    {
      preHandler: readers,
      schema: {
        tags: ['kb'],
        summary: 'Состояние базы знаний после изменения и что оно изменило',
        params: revisionId,
        querystring: Type.Object({ against: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async (request) => {
      const { info, doc } = await revisionDocument(sql, request.params.id);
      const againstId = request.query.against ?? (await previousRevisionId(sql, info.id));
      const against = againstId === null ? null : await revisionDocument(sql, againstId);
      return {
        revision: info,
        against: against?.info ?? null,
        changes: against ? diffDocuments(against.doc, doc) : [],
        yaml: kbDocumentToYaml(doc),
      };
    },
  );

  app.post(
    '/api/kb/revisions/:id/restore',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['kb'],
        summary: 'Восстановить базу знаний в состоянии этой версии (ответы и согласования не меняются)',
        params: revisionId,
        body: Type.Optional(Type.Object({})),
      },
    },
    async (request) => {
      const login = request.staff!.login;
      const restored = await restoreRevision(sql, request.params.id, login, now());
      await writeAudit(sql, login, 'kb.restore', `#${request.params.id}`, { revision: restored });
      return { revision: restored };
    },
  );
}
