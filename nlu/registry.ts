import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import type { EvalReport } from './evaluate.js';

/**
 * The model registry (nlu_models, migration 0325): every model trained from the KB with its progress, its
 * evaluation and the serialized model. One model is active at a time (a partial unique index); activation
 * retires the one before, so any earlier model can be activated again (rollback).
 */
export type ModelStatus = 'training' | 'ready' | 'active' | 'rejected' | 'retired' | 'failed';
export type TrainingPhase = 'preparing' | 'cross_validation' | 'training' | 'held_out' | 'done';

export interface TrainingProgress {
  phase: TrainingPhase;
  fold?: number;
  folds?: number;
  /** 0..1, for the progress bar. */
  share: number;
}

/** How the model compares with the one that was active when it finished, on the same held-out set. */
export interface ModelComparison {
  activeId: number;
  activeModelVersion: string | null;
  activeHeldOut: EvalReport;
  worse: boolean;
}

export interface ModelEvaluation {
  crossValidation: EvalReport & { folds: number };
  /** Null when the held-out set is empty. */
  heldOut: EvalReport | null;
  comparison: ModelComparison | null;
}

export interface ModelRow {
  id: number;
  kbVersion: string;
  trigger: 'auto' | 'manual';
  status: ModelStatus;
  progress: TrainingProgress;
  modelVersion: string | null;
  trainingSize: number | null;
  evaluation: ModelEvaluation | null;
  createdAt: Date;
  createdBy: string | null;
  finishedAt: Date | null;
  activatedAt: Date | null;
  activatedBy: string | null;
  reason: string | null;
}

const columns = `id, kb_version, trigger, status, progress, model_version, training_size, evaluation, created_at,
  created_by, finished_at, activated_at, activated_by, reason`;

interface Row {
  id: string | number;
  kb_version: string;
  trigger: 'auto' | 'manual';
  status: ModelStatus;
  progress: TrainingProgress;
  model_version: string | null;
  training_size: number | null;
  evaluation: ModelEvaluation | null;
  created_at: Date;
  created_by: string | null;
  finished_at: Date | null;
  activated_at: Date | null;
  activated_by: string | null;
  reason: string | null;
}

const fromRow = (r: Row): ModelRow => ({
  id: Number(r.id),
  kbVersion: r.kb_version,
  trigger: r.trigger,
  status: r.status,
  progress: r.progress,
  modelVersion: r.model_version,
  trainingSize: r.training_size,
  evaluation: r.evaluation,
  createdAt: r.created_at,
  createdBy: r.created_by,
  finishedAt: r.finished_at,
  activatedAt: r.activated_at,
  activatedBy: r.activated_by,
  reason: r.reason,
});

/** A training row not touched for this long belongs to a node that stopped: it is marked failed. */
export const STALE_TRAINING_MS = 10 * 60_000;

/**
 * Claims a training: a new `training` row, or null when one is already running (or, for an automatic one,
 * this KB version already has a model). One training runs at a time across the nodes.
 */
export async function claimTraining(
  sql: Sql,
  opts: { kbVersion: string; trigger: 'auto' | 'manual'; by?: string | null; now: Date },
): Promise<number | null> {
  return sql.transaction(async (tx) => {
    if (tx.backend === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(122325)');
    await tx.query(
      `UPDATE nlu_models SET status = 'failed', reason = 'обучение прервано: узел, который обучал, остановлен',
              finished_at = $1, updated_at = $1
        WHERE status = 'training' AND updated_at < $2`,
      [opts.now, new Date(opts.now.getTime() - STALE_TRAINING_MS)],
    );
    const [running] = await tx.query("SELECT 1 FROM nlu_models WHERE status = 'training'");
    if (running) return null;
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO nlu_models (kb_version, trigger, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (kb_version) WHERE trigger = 'auto' AND status <> 'failed' DO NOTHING
       RETURNING id`,
      [opts.kbVersion, opts.trigger, opts.by ?? null, opts.now],
    );
    return row ? Number(row.id) : null;
  });
}

/** True when this KB version already has an automatic model (trained, training or confirmed worse). */
export async function hasModelFor(sql: Sql, kbVersion: string): Promise<boolean> {
  const [row] = await sql.query(
    "SELECT 1 FROM nlu_models WHERE kb_version = $1 AND status <> 'failed' LIMIT 1",
    [kbVersion],
  );
  return !!row;
}

export async function setProgress(
  sql: Sql,
  id: number,
  progress: TrainingProgress,
  now: Date,
): Promise<void> {
  await sql.query(
    "UPDATE nlu_models SET progress = $2, updated_at = $3 WHERE id = $1 AND status = 'training'",
    [id, JSON.stringify(progress), now],
  );
}

export async function failTraining(sql: Sql, id: number, reason: string, now: Date): Promise<void> {
  await sql.query(
    `UPDATE nlu_models SET status = 'failed', reason = $2, finished_at = $3, updated_at = $3
      WHERE id = $1 AND status = 'training'`,
    [id, reason, now],
  );
}

/** Stores the trained, evaluated model as `ready` (with the reason it was not activated, if any). */
export async function finishTraining(
  sql: Sql,
  id: number,
  done: {
    model: string;
    modelVersion: string;
    trainingSize: number;
    evaluation: ModelEvaluation;
    reason: string | null;
    now: Date;
  },
): Promise<void> {
  await sql.query(
    `UPDATE nlu_models SET status = 'ready', model = $2, model_version = $3, training_size = $4, evaluation = $5,
            reason = $6, progress = $7, finished_at = $8, updated_at = $8
      WHERE id = $1 AND status = 'training'`,
    [
      id,
      done.model,
      done.modelVersion,
      done.trainingSize,
      JSON.stringify(done.evaluation),
      done.reason,
      JSON.stringify({ phase: 'done', share: 1 }),
      done.now,
    ],
  );
}

/**
 * Makes a finished model the active one (the one before is retired). `by` is the editor (null: activated
 * by the training itself). A model that is training or failed cannot be activated.
 */
export async function activateModel(sql: Sql, id: number, by: string | null, now: Date): Promise<ModelRow> {
  return sql.transaction(async (tx) => {
    const [target] = await tx.query<Row>(`SELECT ${columns} FROM nlu_models WHERE id = $1 FOR UPDATE`, [id]);
    if (!target) throw new OtklikError('NOT_FOUND', `Модель ${id} не найдена`);
    if (target.status === 'active') return fromRow(target);
    if (!['ready', 'retired', 'rejected'].includes(target.status))
      throw new OtklikError('CONFLICT', `Модель ${id} нельзя активировать: она ${statusWord(target.status)}`);
    await tx.query("UPDATE nlu_models SET status = 'retired', updated_at = $1 WHERE status = 'active'", [
      now,
    ]);
    const [row] = await tx.query<Row>(
      `UPDATE nlu_models SET status = 'active', activated_at = $2, activated_by = $3, updated_at = $2
        WHERE id = $1 RETURNING ${columns}`,
      [id, now, by],
    );
    return fromRow(row!);
  });
}

function statusWord(status: ModelStatus): string {
  return status === 'training' ? 'ещё обучается' : status === 'failed' ? 'не обучилась' : status;
}

export async function listModels(sql: Sql, limit = 50): Promise<ModelRow[]> {
  const rows = await sql.query<Row>(`SELECT ${columns} FROM nlu_models ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map(fromRow);
}

export async function getModel(sql: Sql, id: number): Promise<ModelRow | null> {
  const [row] = await sql.query<Row>(`SELECT ${columns} FROM nlu_models WHERE id = $1`, [id]);
  return row ? fromRow(row) : null;
}

export async function activeModelRow(sql: Sql): Promise<ModelRow | null> {
  const [row] = await sql.query<Row>(`SELECT ${columns} FROM nlu_models WHERE status = 'active'`);
  return row ? fromRow(row) : null;
}

/** The cheap check every node polls: which model is active now. */
export async function activeModelId(sql: Sql): Promise<number | null> {
  const [row] = await sql.query<{ id: string }>("SELECT id FROM nlu_models WHERE status = 'active'");
  return row ? Number(row.id) : null;
}

/** The serialized model of a finished model (model-io.ts format). */
export async function modelText(sql: Sql, id: number): Promise<string | null> {
  const [row] = await sql.query<{ model: string | null }>('SELECT model FROM nlu_models WHERE id = $1', [id]);
  return row?.model ?? null;
}
