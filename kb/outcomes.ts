import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

/**
 * How an operator's conversation ended (the desk's close): a short list in the knowledge base (kb_outcomes,
 * seeded by migration 0308). Retired outcomes are not offered any more but keep their title for the calls
 * that carry them.
 */
export interface Outcome {
  id: string;
  title: string;
  position: number;
  retired: boolean;
}

/** The outcomes in their order; retired ones only when asked. */
export async function listOutcomes(sql: Sql, opts: { withRetired?: boolean } = {}): Promise<Outcome[]> {
  return sql.query<Outcome>(
    `SELECT id, title, position, retired FROM kb_outcomes WHERE $1 OR NOT retired ORDER BY position, id`,
    [opts.withRetired === true],
  );
}

/** Creates or changes an outcome (an editor's act; ids are lower-case words: answered, wrong_number). */
export async function setOutcome(sql: Sql, o: Outcome): Promise<Outcome> {
  if (!/^[a-z][a-z0-9_]*$/.test(o.id))
    throw new OtklikError('VALIDATION_FAILED', `Код итога — латинские строчные буквы, цифры и _: ${o.id}`);
  if (!o.title.trim()) throw new OtklikError('VALIDATION_FAILED', 'Название итога не может быть пустым');
  const rows = await sql.query<Outcome>(
    `INSERT INTO kb_outcomes (id, title, position, retired) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, position = EXCLUDED.position, retired = EXCLUDED.retired
     RETURNING id, title, position, retired`,
    [o.id, o.title.trim(), o.position, o.retired],
  );
  return rows[0]!;
}
