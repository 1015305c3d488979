import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { addTestPhrases, listTestPhrases, removeTestPhrase } from '../../kb/test-phrases.js';
import { activateModel, activeModelRow, getModel, listModels, type ModelRow } from '../../nlu/registry.js';
import type { NluTrainer } from '../../nlu/trainer.js';
import { WORSE_MARGIN } from '../../nlu/trainer.js';
import type { Sql } from '../../store/sql.js';
import { auditKbChange, writeAudit } from '../audit.js';
import type { TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * The «Обучение» page's API: the NLU's model registry (nlu/registry.ts) with each model's progress and
 * evaluation, a retrain started in the background, activation (an editor's confirmation of a model that is
 * worse on the held-out set, or a rollback to an earlier one), and the held-out set the editors keep
 * (kb/test-phrases.ts). Editors act; supervisors read. Each act is audited.
 */
export interface NluModelsOptions {
  sql: Sql;
  /** The background trainer of this node (null: this node does not train, the page only reads). */
  trainer: NluTrainer | null;
  now?: () => Date;
}

const idParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** The row without the per-label tables, for the list. */
function summary(row: ModelRow) {
  const ev = row.evaluation;
  return {
    id: row.id,
    kbVersion: row.kbVersion,
    trigger: row.trigger,
    status: row.status,
    progress: row.progress,
    modelVersion: row.modelVersion,
    trainingSize: row.trainingSize,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    finishedAt: row.finishedAt,
    activatedAt: row.activatedAt,
    activatedBy: row.activatedBy,
    reason: row.reason,
    worse: ev?.comparison?.worse === true,
    crossValidation: ev
      ? { accuracy: ev.crossValidation.accuracy, macroF1: ev.crossValidation.macroF1 }
      : null,
    heldOut: ev?.heldOut
      ? { accuracy: ev.heldOut.accuracy, macroF1: ev.heldOut.macroF1, n: ev.heldOut.n }
      : null,
  };
}

export async function nluModelsPlugin(app: TypedApp, opts: NluModelsOptions): Promise<void> {
  const { sql, trainer } = opts;
  const now = opts.now ?? (() => new Date());
  const read = requireRole('editor', 'supervisor');

  app.get(
    '/api/nlu/models',
    {
      schema: { tags: ['nlu'], summary: 'Версии модели NLU: статус, ход обучения, оценка' },
      preHandler: read,
    },
    async () => ({
      models: (await listModels(sql)).map(summary),
      canTrain: trainer !== null,
      worseMargin: WORSE_MARGIN,
    }),
  );

  app.get(
    '/api/nlu/models/:id',
    {
      schema: { tags: ['nlu'], summary: 'Модель NLU с полной оценкой', params: idParams },
      preHandler: read,
    },
    async (request) => {
      const row = await getModel(sql, request.params.id);
      if (!row) throw new OtklikError('NOT_FOUND', `Модель ${request.params.id} не найдена`);
      return { ...summary(row), evaluation: row.evaluation };
    },
  );

  app.get(
    '/api/nlu/evaluation/latest',
    {
      schema: { tags: ['nlu'], summary: 'Оценка действующей модели: F1 по намерениям' },
      preHandler: requireRole('editor', 'approver', 'supervisor'),
    },
    async () => {
      const row = await activeModelRow(sql);
      const ev = row?.evaluation;
      const source = ev?.heldOut ?? ev?.crossValidation ?? null;
      return {
        modelId: row?.id ?? null,
        modelVersion: row?.modelVersion ?? null,
        accuracy: source?.accuracy ?? null,
        macroF1: source?.macroF1 ?? null,
        // Per intent: the cross-validation's F1 (every intent has training phrases), the held-out one where
        // the set has phrases of that intent.
        perIntent: (ev?.crossValidation.perLabel ?? []).map((l) => ({
          intentId: l.label,
          f1: l.f1,
          support: l.support,
          heldOutF1: ev?.heldOut?.perLabel.find((h) => h.label === l.label)?.f1 ?? null,
        })),
      };
    },
  );

  app.post(
    '/api/nlu/train',
    {
      schema: {
        tags: ['nlu'],
        summary: 'Переобучить модель в фоне (оценка перед активацией)',
        body: Type.Object({}),
      },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      if (!trainer) throw new OtklikError('CONFLICT', 'Этот узел не обучает модели');
      const started = await trainer.start({ trigger: 'manual', by: request.staff!.login });
      if (!started) throw new OtklikError('CONFLICT', 'Обучение уже идёт: дождитесь его окончания');
      started.done.catch(() => {});
      await writeAudit(sql, request.staff!.login, 'nlu.train', `model ${started.id}`);
      return reply.code(202).send({ id: started.id });
    },
  );

  app.post(
    '/api/nlu/models/:id/activate',
    {
      schema: {
        tags: ['nlu'],
        summary: 'Активировать модель (подтверждение худшей или откат к прежней)',
        params: idParams,
        body: Type.Object({ confirm: Type.Optional(Type.Boolean()) }),
      },
      preHandler: requireRole('editor'),
    },
    async (request) => {
      const { id } = request.params;
      const row = await getModel(sql, id);
      if (!row) throw new OtklikError('NOT_FOUND', `Модель ${id} не найдена`);
      const worse = row.evaluation?.comparison?.worse === true;
      if (worse && request.body.confirm !== true)
        throw new OtklikError(
          'CONFLICT',
          `Модель №${id} ${row.reason ?? 'хуже действующей на контрольной выборке'}. Подтвердите активацию`,
        );
      const before = await activeModelRow(sql);
      const activated = await activateModel(sql, id, request.staff!.login, now());
      const action = before && before.id > id ? 'nlu.rollback' : 'nlu.activate';
      await writeAudit(sql, request.staff!.login, action, `model ${id}`, {
        previous: before?.id ?? null,
        confirmedWorse: worse,
      });
      return summary(activated);
    },
  );

  app.get(
    '/api/nlu/test-phrases',
    { schema: { tags: ['nlu'], summary: 'Контрольная выборка: фразы по намерениям' }, preHandler: read },
    async () => ({ phrases: await listTestPhrases(sql) }),
  );

  app.post(
    '/api/nlu/test-phrases',
    {
      schema: {
        tags: ['nlu'],
        summary: 'Добавить фразы в контрольную выборку',
        body: Type.Object({
          intentId: Type.String({ minLength: 1 }),
          phrases: Type.Array(Type.String(), { minItems: 1, maxItems: 200 }),
        }),
      },
      preHandler: requireRole('editor'),
    },
    async (request, reply) => {
      const added = await addTestPhrases(
        sql,
        request.body.intentId,
        request.body.phrases,
        request.staff!.login,
      );
      await auditKbChange(sql, request.staff!.login, 'nlu.test_phrase.add', request.body.intentId, {
        count: added.length,
      });
      return reply.code(201).send({ added });
    },
  );

  app.delete(
    '/api/nlu/test-phrases/:id',
    {
      schema: { tags: ['nlu'], summary: 'Убрать фразу из контрольной выборки', params: idParams },
      preHandler: requireRole('editor'),
    },
    async (request) => {
      const removed = await removeTestPhrase(sql, request.params.id);
      await auditKbChange(sql, request.staff!.login, 'nlu.test_phrase.remove', removed.intentId, {
        text: removed.text,
      });
      return { removed };
    },
  );
}
