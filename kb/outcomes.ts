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

/** Adds an outcome at the end of the list; refused when the code is taken. */
export async function addOutcome(sql: Sql, o: { id: string; title: string }): Promise<Outcome> {
  return sql.transaction(async (tx) => {
    await tx.query('LOCK TABLE kb_outcomes IN SHARE ROW EXCLUSIVE MODE');
    const [taken] = await tx.query<{ title: string }>('SELECT title FROM kb_outcomes WHERE id = $1', [o.id]);
    if (taken) throw new OtklikError('CONFLICT', `Код «${o.id}» уже занят итогом «${taken.title}»`);
    const [last] = await tx.query<{ p: number | null }>('SELECT MAX(position) AS p FROM kb_outcomes');
    return setOutcome(tx, { id: o.id, title: o.title, position: Number(last?.p ?? 0) + 1, retired: false });
  });
}

/** Renames, retires or brings back an outcome; the last one offered is never retired. */
export async function changeOutcome(
  sql: Sql,
  id: string,
  change: { title?: string; retired?: boolean },
): Promise<Outcome> {
  return sql.transaction(async (tx) => {
    await tx.query('LOCK TABLE kb_outcomes IN SHARE ROW EXCLUSIVE MODE');
    const [current] = await tx.query<Outcome>(
      'SELECT id, title, position, retired FROM kb_outcomes WHERE id = $1',
      [id],
    );
    if (!current) throw new OtklikError('NOT_FOUND', `Итога «${id}» нет в списке`);
    const retired = change.retired ?? current.retired;
    if (retired && !current.retired) {
      const [n] = await tx.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM kb_outcomes WHERE NOT retired',
      );
      if (Number(n?.n ?? 0) <= 1)
        throw new OtklikError(
          'CONFLICT',
          `«${current.title}» — последний действующий итог: операторам нечего будет выбрать`,
        );
    }
    return setOutcome(tx, { ...current, title: change.title ?? current.title, retired });
  });
}
