import { Type } from 'typebox';
import { createTopicEditor, type TopicEditorActor } from '../../kb/topic-editor.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import type { StaffUser } from '../users.js';
import { requireRole } from './auth.js';

/**
 * The studio's «Темы и намерения» (admin/ui/studio-intents.js): topics with their intents and phrase counts;
 * editors create, rename, merge, retire and restore them and add training phrases, each flagged against the
 * KB (kb/topic-editor.ts: exact duplicates are skipped, another intent's phrase waits for the editor's
 * confirmation). An editor of an agency works on her participant's topics only; approvers and supervisors
 * read. Every write is audited with a KB revision (auditKbChange). Ids never change: a rename is the title.
 */
export async function studioIntentsPlugin(
  app: TypedApp,
  opts: { sql: Sql; now?: () => Date },
): Promise<void> {
  const { sql } = opts;
  const editor = createTopicEditor(sql, opts.now ? { now: opts.now } : {});
  const readers = requireRole('editor', 'approver', 'supervisor');
  const writers = requireRole('editor');
  const tags = ['kb'];
  const byId = Type.Object({ id: TextId });
  const NoBody = Type.Optional(Type.Object({}));
  const Title = Type.String({ minLength: 1, maxLength: 200 });
  const Phrases = Type.Array(Type.String({ maxLength: 500 }), { minItems: 1, maxItems: 500 });
  const actor = (staff: StaffUser): TopicEditorActor => ({
    login: staff.login,
    agency: staff.role === 'admin' ? null : staff.agency,
  });
  const audit = (staff: StaffUser, action: string, subject: string, details?: Record<string, unknown>) =>
    auditKbChange(sql, staff.login, action, subject, details);

  app.get(
    '/api/kb/topics',
    { preHandler: readers, schema: { tags, summary: 'Темы и их намерения с числом обучающих фраз' } },
    async (request) => {
      const by = actor(request.staff!);
      const mayWrite = ['editor', 'admin'].includes(request.staff!.role);
      const topics = await editor.list();
      return {
        topics: topics.map((t) => ({
          ...t,
          editable: mayWrite && (!by.agency || t.participantId === by.agency),
        })),
      };
    },
  );

  app.post(
    '/api/kb/topics',
    {
      preHandler: writers,
      schema: {
        tags,
        summary: 'Новая тема',
        body: Type.Object({
          id: TextId,
          title: Title,
          agency: Type.Optional(Type.Union([TextId, Type.Null()])),
          participant: Type.Optional(Type.Union([TextId, Type.Null()])),
        }),
      },
    },
    async (request, reply) => {
      await editor.createTopic(request.body, actor(request.staff!));
      await audit(request.staff!, 'topic.create', request.body.id);
      return reply.code(201).send({ id: request.body.id });
    },
  );

  app.post(
    '/api/kb/topics/:id/rename',
    {
      preHandler: writers,
      schema: { tags, summary: 'Переименовать тему', params: byId, body: Type.Object({ title: Title }) },
    },
    async (request) => {
      const { id } = request.params;
      await editor.renameTopic(id, request.body.title, actor(request.staff!));
      await audit(request.staff!, 'topic.rename', id, { title: request.body.title });
      return { id };
    },
  );

  for (const [act, summary] of [
    ['retire', 'Отправить тему в архив (её намерения не обучаются и не распознаются)'],
    ['restore', 'Вернуть тему из архива'],
  ] as const) {
    app.post(
      `/api/kb/topics/:id/${act}`,
      { preHandler: writers, schema: { tags, summary, params: byId, body: NoBody } },
      async (request) => {
        const { id } = request.params;
        const by = actor(request.staff!);
        await (act === 'retire' ? editor.retireTopic(id, by) : editor.restoreTopic(id, by));
        await audit(request.staff!, `topic.${act}`, id);
        return { id };
      },
    );
  }

  app.get(
    '/api/kb/intents/:id',
    { preHandler: readers, schema: { tags, summary: 'Намерение с обучающими фразами', params: byId } },
    async (request) => ({ intent: await editor.intent(request.params.id) }),
  );

  app.post(
    '/api/kb/intents',
    {
      preHandler: writers,
      schema: {
        tags,
        summary: 'Новое намерение темы',
        body: Type.Object({
          id: TextId,
          topicId: TextId,
          title: Title,
          handling: Type.Optional(
            Type.Union([
              Type.Literal('answer'),
              Type.Literal('operator'),
              Type.Literal('forward'),
              Type.Literal('system'),
            ]),
          ),
          phrases: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 500 })),
        }),
      },
    },
    async (request, reply) => {
      await editor.createIntent(request.body, actor(request.staff!));
      await audit(request.staff!, 'intent.create', request.body.id, { topic: request.body.topicId });
      return reply.code(201).send({ intent: await editor.intent(request.body.id) });
    },
  );

  app.post(
    '/api/kb/intents/:id/rename',
    {
      preHandler: writers,
      schema: { tags, summary: 'Переименовать намерение', params: byId, body: Type.Object({ title: Title }) },
    },
    async (request) => {
      const { id } = request.params;
      await editor.renameIntent(id, request.body.title, actor(request.staff!));
      await audit(request.staff!, 'intent.rename', id, { title: request.body.title });
      return { intent: await editor.intent(id) };
    },
  );

  for (const [act, summary] of [
    ['retire', 'Отправить намерение в архив (не обучается, не распознаётся, не озвучивается)'],
    ['restore', 'Вернуть намерение из архива'],
  ] as const) {
    app.post(
      `/api/kb/intents/:id/${act}`,
      { preHandler: writers, schema: { tags, summary, params: byId, body: NoBody } },
      async (request) => {
        const { id } = request.params;
        const by = actor(request.staff!);
        await (act === 'retire' ? editor.retireIntent(id, by) : editor.restoreIntent(id, by));
        await audit(request.staff!, `intent.${act}`, id);
        return { intent: await editor.intent(id) };
      },
    );
  }

  app.post(
    '/api/kb/intents/:id/merge',
    {
      preHandler: writers,
      schema: {
        tags,
        summary: 'Объединить намерение с другим (фразы переходят в него, ответы снимаются)',
        params: byId,
        body: Type.Object({ into: TextId }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { into } = request.body;
      const result = await editor.mergeIntents(id, into, actor(request.staff!));
      await audit(request.staff!, 'intent.merge', id, { into, ...result });
      return { ...result, intent: await editor.intent(into) };
    },
  );

  app.post(
    '/api/kb/intents/:id/phrases/check',
    {
      preHandler: readers,
      schema: {
        tags,
        summary: 'Проверить фразы: повторы и фразы других намерений (ничего не сохраняет)',
        params: byId,
        body: Type.Object({ phrases: Phrases }),
      },
    },
    async (request) => ({ flags: await editor.checkPhrases(request.params.id, request.body.phrases) }),
  );

  app.post(
    '/api/kb/intents/:id/phrases',
    {
      preHandler: writers,
      schema: {
        tags,
        summary: 'Добавить обучающие фразы (по одной или списком)',
        params: byId,
        body: Type.Object({ phrases: Phrases, confirm: Type.Optional(Type.Boolean()) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const result = await editor.addPhrases(id, request.body.phrases, actor(request.staff!), {
        confirm: request.body.confirm === true,
      });
      if (result.added.length > 0)
        await audit(request.staff!, 'intent.phrases_add', id, { added: result.added.length });
      return result;
    },
  );

  app.post(
    '/api/kb/intents/:id/phrases/remove',
    {
      preHandler: writers,
      schema: {
        tags,
        summary: 'Убрать обучающую фразу',
        params: byId,
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 500 }) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const removed = await editor.removePhrase(id, request.body.text, actor(request.staff!));
      if (removed) await audit(request.staff!, 'intent.phrase_remove', id);
      return { removed };
    },
  );
}
