import type { Sql } from './sql.js';

/**
 * One step of the retention job (152-FZ: personal data kept no longer than its period) over one table of the
 * part that owns it. Each part removes or anonymizes its own rows through its own functions; the coordinator
 * (admin/jobs/retention.ts) runs them in batches, keyset order, and audits what they did. The shapes live in
 * the store because every part that owns tables shares them and none may import another's.
 */
export interface RetentionStep {
  /** Data of records from before this instant goes (the job's `now` less the kind's period). */
  before: Date;
  /** The job's time: written as the moment of removal. */
  now: Date;
  /** Calls on legal hold: nothing of theirs is removed, in whatever table it is kept. */
  held: readonly string[];
  /** Only say what would go; change nothing. */
  dryRun: boolean;
  /** At most this many records per step. */
  limit: number;
  /** Where the previous step of the same kind stopped; null: from the oldest record. */
  after: RetentionCursor | null;
}

/** A position in a table's keyset order: the record's time, then its id. */
export interface RetentionCursor {
  at: Date;
  id: string;
}

export interface RetentionStepResult {
  /** Rows removed or anonymized (or that would be, in a dry run). */
  rows: number;
  /** The calls whose data it was: ids only, never the data itself. */
  callIds: string[];
  /** Where the next step goes on; null: this kind is done for this run. */
  next: RetentionCursor | null;
  /** Further counts of the step (files deleted, bytes freed...). */
  counts?: Record<string, number>;
}

export type RetentionFn = (sql: Sql, step: RetentionStep) => Promise<RetentionStepResult>;

/** The cursor after a batch read in keyset order: the last record when the batch was full, else none. */
export function nextCursor<T>(
  rows: readonly T[],
  limit: number,
  key: (row: T) => RetentionCursor,
): RetentionCursor | null {
  return rows.length === limit && rows.length > 0 ? key(rows[rows.length - 1]!) : null;
}
