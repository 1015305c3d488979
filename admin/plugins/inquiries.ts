import { Type } from 'typebox';
import { markRelayedByOperator, recordAgencyAnswer } from '../../inquiries/answer.js';
import { assignAgency } from '../../inquiries/dispatch.js';
import { extendInquiry, extensionsOf } from '../../inquiries/extension.js';
import { listInquiries } from '../../inquiries/list.js';
import { addAgency } from '../../inquiries/register.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import { RowId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface InquiriesPluginOptions {
  sql: Sql;
  /** The clock that says which inquiries are stuck; tests set it. */
  now?: () => Date;
}

/**
 * «Обращения» for supervisors and operators: the inquiry list, choosing the agency of an inquiry no topic
 * fitted, recording the agency's answer, and closing one an operator relayed by phone. The lifecycle itself
 * is the inquiries part's (inquiries/); every change here is audited.
 */
export async function inquiriesPlugin(app: TypedApp, opts: InquiriesPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  // Citizens' questions (and the numbers left for an operator to call): who read how many is on record.
  app.get(
    '/api/inquiries',
    {
      schema: { tags: ['inquiries'], summary: 'Обращения, переданные уполномоченным лицам' },
      preHandler: requireRole('supervisor', 'operator'),
    },
    async (request) => {
      const inquiries = await listInquiries(sql, now());
      await writeAudit(sql, request.staff!.login, 'inquiry.list', undefined, {
        count: inquiries.length,
        numbers: inquiries.filter((i) => i.callbackNumber).length,
      });
      return { inquiries };
    },
  );

  /** The agencies staff may pass an inquiry to (an inquiry no topic fitted waits for this choice). */
  app.get(
    '/api/agencies',
    {
      schema: { tags: ['inquiries'], summary: 'Ведомства' },
      preHandler: requireRole('supervisor', 'operator'),
    },
    async () => ({
      agencies: (await createKnowledgeBase(sql).agencies())
        .map((a) => ({ id: a.id, name: a.name }))
        .sort((a, b) => a.name.localeCompare(b.name, 'ru')),
    }),
  );

  app.post(
    '/api/inquiries/:id/agency',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Назначить обращению ведомство',
        params: Type.Object({ id: Type.Integer() }),
        body: Type.Object({ agencyId: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const assigned = await assignAgency(sql, id, request.body.agencyId);
      await writeAudit(sql, request.staff!.login, 'inquiry.agency', String(id), {
        agencyId: assigned.agencyId,
      });
      return { ok: true, ...assigned };
    },
  );

  app.post(
    '/api/inquiries/:id/answer',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Внести ответ ведомства',
        params: Type.Object({ id: RowId }),
        body: Type.Object({ text: Type.String({ minLength: 1 }) }),
      },
    },
    async (request) => {
      await recordAgencyAnswer(sql, request.params.id, { text: request.body.text, by: request.staff!.login });
      await writeAudit(sql, request.staff!.login, 'inquiry.answer', String(request.params.id));
      return { ok: true };
    },
  );

  app.post(
    '/api/inquiries/:id/relayed',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Отметить, что ответ передан гражданину',
        params: Type.Object({ id: RowId }),
      },
    },
    async (request) => {
      await markRelayedByOperator(sql, request.params.id, request.staff!.login);
      await writeAudit(sql, request.staff!.login, 'inquiry.relayed', String(request.params.id));
      return { ok: true };
    },
  );

  // Irkutsk 10.1: one question to several competent agencies, each with its own deadline and answer.
  app.post(
    '/api/inquiries/:id/agencies',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Направить обращение ещё одному ведомству',
        params: Type.Object({ id: RowId }),
        body: Type.Object({ agencyId: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request) => {
      const added = await addAgency(sql, request.params.id, request.body.agencyId, now());
      await writeAudit(sql, request.staff!.login, 'inquiry.agency_added', String(added.id), {
        requestId: added.requestId,
        from: request.params.id,
        agencyId: added.agencyId,
      });
      return { ok: true, ...added };
    },
  );

  // Irkutsk 10.3: the agency asked for more time, with a reason; never past the agreement's maximum.
  app.post(
    '/api/inquiries/:id/extensions',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Продлить срок ответа по просьбе ведомства',
        params: Type.Object({ id: RowId }),
        body: Type.Object({
          amount: Type.Integer({ minimum: 1, maximum: 1000 }),
          reason: Type.String({ minLength: 1, maxLength: 2000 }),
        }),
      },
    },
    async (request) => {
      const extension = await extendInquiry(sql, request.params.id, {
        amount: request.body.amount,
        reason: request.body.reason,
        by: request.staff!.login,
        at: now(),
      });
      await writeAudit(sql, request.staff!.login, 'inquiry.extended', String(request.params.id), {
        amount: extension.amount,
        unit: extension.unit,
        oldDueAt: extension.oldDueAt.toISOString(),
        newDueAt: extension.newDueAt.toISOString(),
      });
      return { ok: true, extension };
    },
  );

  app.get(
    '/api/inquiries/:id/extensions',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['inquiries'],
        summary: 'Продления срока ответа по обращению',
        params: Type.Object({ id: RowId }),
      },
    },
    async (request) => ({ extensions: await extensionsOf(sql, request.params.id) }),
  );
}
