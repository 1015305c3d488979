import { Type } from 'typebox';
import {
  callScores,
  operatorQualityFigures,
  type ScoredItem,
  saveCallScore,
  topicQualityFigures,
} from '../../calls/quality.js';
import { getCall, getTurns, listCalls } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';
import {
  addChecklistItem,
  exportChecklistYaml,
  importChecklistYaml,
  listChecklist,
  setChecklistItem,
} from '../../kb/checklist.js';
import { addDays, zonedInstant } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { operatorHandlingFigures } from '../../telephony/acd/figures.js';
import { auditKbChange, writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface QualityPluginOptions {
  sql: Sql;
  now?: () => Date;
  /** The region's time zone, the knowledge base's: a period's days are its calendar days. */
  timeZone: () => Promise<string>;
  /** Topic titles for the per-topic figures (KnowledgeBaseReader.topics). */
  topics?: () => Promise<Array<{ id: string; title: string }>>;
}

const isoDay = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const ItemBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Union([Type.Literal('scale'), Type.Literal('yes_no')]),
  weight: Type.Integer({ minimum: 1, maximum: 100 }),
  position: Type.Optional(Type.Integer({ minimum: 0 })),
  retired: Type.Optional(Type.Boolean()),
});

/**
 * Quality control: the checklist (the knowledge base's, edited by editors: one item, or the whole list as
 * YAML), supervisors' scores of a call against it (audited: `call.score`), and the figures per operator
 * (calls, AHT, wrap-up, share scored, mean score, survey mean) and per topic over a period of local days.
 * Each figure is read through its owner: the calls part's scores and surveys, the ACD's handling times.
 */
export async function qualityPlugin(app: TypedApp, opts: QualityPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get(
    '/api/quality/checklist',
    {
      preHandler: requireRole('supervisor', 'editor'),
      schema: {
        tags: ['quality'],
        summary: 'Чек-лист оценки звонков',
        querystring: Type.Object({ withRetired: Type.Optional(Type.Boolean()) }),
      },
    },
    async (request) => ({ items: await listChecklist(sql, { withRetired: request.query.withRetired }) }),
  );

  app.post(
    '/api/quality/checklist',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['quality'],
        summary: 'Добавить пункт в чек-лист оценки (код по названию, если не указан; занятый код — 409)',
        body: Type.Object({
          id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          title: Type.String({ minLength: 1, maxLength: 200 }),
          kind: Type.Union([Type.Literal('scale'), Type.Literal('yes_no')]),
          weight: Type.Integer({ minimum: 1, maximum: 100 }),
          position: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
      },
    },
    async (request, reply) => {
      const item = await addChecklistItem(sql, request.body);
      await auditKbChange(sql, request.staff!.login, 'checklist.add', item.id, { ...item });
      reply.code(201);
      return { item };
    },
  );

  app.put(
    '/api/quality/checklist/:id',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['quality'],
        summary: 'Создать или изменить пункт чек-листа оценки',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: ItemBody,
      },
    },
    async (request) => {
      const item = await setChecklistItem(sql, { ...request.body, id: request.params.id });
      await auditKbChange(sql, request.staff!.login, 'checklist.set', item.id, { ...item });
      return { item };
    },
  );

  app.get(
    '/api/quality/checklist/export',
    {
      preHandler: requireRole('editor', 'supervisor'),
      schema: { tags: ['quality'], summary: 'Выгрузить чек-лист оценки в YAML' },
    },
    async (_request, reply) => {
      reply.type('application/yaml; charset=utf-8');
      return exportChecklistYaml(sql);
    },
  );

  app.post(
    '/api/quality/checklist/import',
    {
      preHandler: requireRole('editor'),
      schema: {
        tags: ['quality'],
        summary: 'Загрузить чек-лист оценки из YAML (пункты, которых нет в файле, — в архив)',
        body: Type.Object({ yaml: Type.String({ minLength: 1, maxLength: 200_000 }) }),
      },
    },
    async (request) => {
      const items = await importChecklistYaml(sql, request.body.yaml);
      await auditKbChange(sql, request.staff!.login, 'checklist.import', 'checklist', {
        items: items.map((i) => i.id),
      });
      return { items };
    },
  );

  app.get(
    '/api/quality/calls',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['quality'],
        summary: 'Звонки с оператором для оценки, новые сначала',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
      },
    },
    async (request) => {
      const rows = (await listCalls(sql, request.query.limit ?? 100)).filter((c) => c.operator);
      const titles = opts.topics ? await opts.topics() : [];
      const calls = [];
      for (const c of rows) {
        const scores = await callScores(sql, c.id);
        calls.push({
          id: c.id,
          channel: c.channel,
          startedAt: c.startedAt,
          operator: c.operator,
          topicId: c.topicId,
          topicTitle: c.topicId ? (titles.find((t) => t.id === c.topicId)?.title ?? c.topicId) : null,
          scores: scores.length,
          lastTotal: scores.at(-1)?.total ?? null,
        });
      }
      await writeAudit(sql, request.staff!.login, 'call.list', undefined, {
        count: calls.length,
        for: 'quality',
      });
      return { calls };
    },
  );

  app.get(
    '/api/calls/:id/scores',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['quality'],
        summary: 'Оценки звонка по чек-листу',
        params: Type.Object({ id: TextId }),
      },
    },
    async (request) => ({ scores: await callScores(sql, request.params.id) }),
  );

  app.post(
    '/api/calls/:id/scores',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['quality'],
        summary: 'Оценить звонок по чек-листу (в журнал аудита)',
        params: Type.Object({ id: TextId }),
        body: Type.Object({
          items: Type.Array(
            Type.Object({
              id: Type.String({ minLength: 1, maxLength: 64 }),
              points: Type.Integer({ minimum: 0 }),
            }),
            { maxItems: 100 },
          ),
          comment: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (request) => {
      const call = await getCall(sql, request.params.id);
      if (!call) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
      const checklist = await listChecklist(sql);
      const given = new Map(request.body.items.map((i) => [i.id, i.points]));
      for (const id of given.keys())
        if (!checklist.some((c) => c.id === id))
          throw new OtklikError('VALIDATION_FAILED', `Пункта «${id}» нет в чек-листе оценки`);
      const items: ScoredItem[] = checklist.map((c) => {
        const points = given.get(c.id);
        if (points === undefined) throw new OtklikError('VALIDATION_FAILED', `Не оценён пункт «${c.title}»`);
        return { id: c.id, title: c.title, kind: c.kind, weight: c.weight, points };
      });
      const score = await saveCallScore(sql, {
        callId: call.id,
        scorer: request.staff!.login,
        items,
        comment: request.body.comment ?? null,
        at: now(),
      });
      await writeAudit(sql, request.staff!.login, 'call.score', call.id, {
        scoreId: score.id,
        operatorId: score.operatorId,
        total: score.total,
      });
      return { score };
    },
  );

  app.get(
    '/api/quality/operators',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['quality'],
        summary: 'Показатели операторов за период: звонки, AHT, поствызывная обработка, оценки, опрос',
        querystring: Type.Object({ from: isoDay, to: isoDay }),
      },
    },
    async (request) => {
      const { from, to } = request.query;
      if (to < from) throw new OtklikError('VALIDATION_FAILED', 'Конец периода раньше начала');
      const tz = await opts.timeZone();
      const range = { from: zonedInstant(from, 0, tz), to: zonedInstant(addDays(to, 1), 0, tz) };
      const [quality, handling, topics, titles] = await Promise.all([
        operatorQualityFigures(sql, range),
        operatorHandlingFigures(sql, range),
        topicQualityFigures(sql, range),
        opts.topics ? opts.topics() : Promise.resolve([]),
      ]);
      const ids = [
        ...new Set([...quality.map((q) => q.operatorId), ...handling.map((h) => h.operatorId)]),
      ].sort();
      const operators = ids.map((id) => {
        const q = quality.find((x) => x.operatorId === id);
        const h = handling.find((x) => x.operatorId === id);
        return {
          operatorId: id,
          operatorName: q?.operatorName ?? null,
          calls: q?.calls ?? h?.answered ?? 0,
          ahtMs: h?.ahtMs ?? null,
          wrapUpMs: h?.wrapUpMs ?? null,
          scored: q?.scored ?? 0,
          scoredShare: q?.scoredShare ?? 0,
          averageScore: q?.averageScore ?? null,
          surveys: q?.surveys ?? 0,
          surveyAverage: q?.surveyAverage ?? null,
        };
      });
      return {
        from,
        to,
        operators,
        topics: topics.map((t) => ({
          ...t,
          topicTitle: t.topicId ? (titles.find((x) => x.id === t.topicId)?.title ?? t.topicId) : null,
        })),
      };
    },
  );

  // The scoring screen reads the call's transcript through the calls part (audited as a view of the card).
  app.get(
    '/api/quality/calls/:id',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['quality'],
        summary: 'Звонок для оценки: оператор, расшифровка, чек-лист и прежние оценки',
        params: Type.Object({ id: TextId }),
      },
    },
    async (request) => {
      const call = await getCall(sql, request.params.id);
      if (!call) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
      const turns = await getTurns(sql, call.id);
      await writeAudit(sql, request.staff!.login, 'call.view', call.id, {
        turns: turns.length,
        for: 'quality',
      });
      return {
        call: { id: call.id, startedAt: call.startedAt, operator: call.operator, topicId: call.topicId },
        turns,
        checklist: await listChecklist(sql),
        scores: await callScores(sql, call.id),
      };
    },
  );
}
