import { OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import { isOverflowTarget, type OverflowTarget } from './model.js';
import { isStrategy, type Strategy } from './strategies.js';

/** A queue's settings as staff set them; unset fields keep their value, null puts the default back. */
export interface QueueSettings {
  id: string;
  name?: string;
  strategy?: Strategy;
  waitNormMs?: number | null;
  wrapUpMs?: number | null;
  maxNoAnswer?: number | null;
  ringTimeoutMs?: number | null;
  overflowAfterMs?: number | null;
  overflowTo?: OverflowTarget | null;
  announceMax?: number | null;
}

/** Creates or changes a queue's row (OperatorQueue.upsertQueue reads it back with the defaults filled in). */
export async function saveQueue(sql: Sql, q: QueueSettings): Promise<void> {
  if (!q.id) throw new OtklikError('VALIDATION_FAILED', 'a queue needs an id');
  if (q.strategy !== undefined && !isStrategy(q.strategy))
    throw new OtklikError('VALIDATION_FAILED', `Неизвестная стратегия распределения: ${String(q.strategy)}`);
  if (q.overflowTo != null && (!isOverflowTarget(q.overflowTo) || q.overflowTo === `queue:${q.id}`))
    throw new OtklikError(
      'VALIDATION_FAILED',
      `Перелив очереди: «queue:<id>» другой очереди, «inquiry» или «callback», не ${String(q.overflowTo)}`,
    );
  if (q.overflowTo?.startsWith('queue:')) {
    const target = q.overflowTo.slice('queue:'.length);
    const found = await sql.query('SELECT 1 FROM telephony_acd_queues WHERE id = $1', [target]);
    if (found.length === 0)
      throw new OtklikError('VALIDATION_FAILED', `Очередь для перелива не найдена: ${target}`);
  }
  const has = (v: unknown) => v !== undefined;
  await sql.query(
    `INSERT INTO telephony_acd_queues (id, name, strategy, wait_norm_ms, wrap_up_ms, max_no_answer, ring_timeout_ms,
         overflow_after_ms, overflow_to, announce_max)
       VALUES ($1, COALESCE($2, $1), COALESCE($3, 'longest-idle-agent'), $4, $5, $6, $7, $12, $13, $14)
       ON CONFLICT (id) DO UPDATE SET
         name = COALESCE($2, telephony_acd_queues.name),
         strategy = COALESCE($3, telephony_acd_queues.strategy),
         wait_norm_ms = CASE WHEN $8 THEN $4 ELSE telephony_acd_queues.wait_norm_ms END,
         wrap_up_ms = CASE WHEN $9 THEN $5 ELSE telephony_acd_queues.wrap_up_ms END,
         max_no_answer = CASE WHEN $10 THEN $6 ELSE telephony_acd_queues.max_no_answer END,
         ring_timeout_ms = CASE WHEN $11 THEN $7 ELSE telephony_acd_queues.ring_timeout_ms END,
         overflow_after_ms = CASE WHEN $15 THEN $12 ELSE telephony_acd_queues.overflow_after_ms END,
         overflow_to = CASE WHEN $16 THEN $13 ELSE telephony_acd_queues.overflow_to END,
         announce_max = CASE WHEN $17 THEN $14 ELSE telephony_acd_queues.announce_max END,
         updated_at = now()`,
    [
      q.id,
      q.name ?? null,
      q.strategy ?? null,
      q.waitNormMs ?? null,
      q.wrapUpMs ?? null,
      q.maxNoAnswer ?? null,
      q.ringTimeoutMs ?? null,
      has(q.waitNormMs),
      has(q.wrapUpMs),
      has(q.maxNoAnswer),
      has(q.ringTimeoutMs),
      q.overflowAfterMs ?? null,
      q.overflowTo ?? null,
      q.announceMax ?? null,
      has(q.overflowAfterMs),
      has(q.overflowTo),
      has(q.announceMax),
    ],
  );
}
