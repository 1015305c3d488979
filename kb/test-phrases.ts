import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

/**
 * The held-out set the editors keep (intent_test_phrases, migration 0324): phrases per intent that a new NLU
 * model is tested on and never trained on. Outside the KB's revision stamp, so editing it retrains nothing;
 * the whole-KB YAML carries it as the `test_phrases:` section (a file without the section keeps the stored set).
 */
export interface TestPhrase {
  id: number;
  intentId: string;
  text: string;
  createdAt: Date;
  createdBy: string | null;
}

/** The YAML section's shape: the phrases of each intent. */
export interface TestPhraseGroup {
  intent: string;
  phrases: string[];
}

interface Row {
  id: string | number;
  intent_id: string;
  text: string;
  created_at: Date;
  created_by: string | null;
}

const fromRow = (r: Row): TestPhrase => ({
  id: Number(r.id),
  intentId: r.intent_id,
  text: r.text,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export async function listTestPhrases(sql: Sql, opts: { intentId?: string } = {}): Promise<TestPhrase[]> {
  const rows = await sql.query<Row>(
    `SELECT id, intent_id, text, created_at, created_by FROM intent_test_phrases
      WHERE ($1::text IS NULL OR intent_id = $1) ORDER BY intent_id COLLATE "C", id`,
    [opts.intentId ?? null],
  );
  return rows.map(fromRow);
}

/** Adds phrases to an intent's held-out set; a phrase it already has (any case) is skipped. */
export async function addTestPhrases(
  sql: Sql,
  intentId: string,
  texts: string[],
  by: string | null = null,
): Promise<TestPhrase[]> {
  const clean = [...new Set(texts.map((t) => t.trim()).filter((t) => t.length > 0))];
  if (clean.length === 0)
    throw new OtklikError('VALIDATION_FAILED', 'Нет ни одной фразы для контрольной выборки');
  const [intent] = await sql.query('SELECT 1 FROM intents WHERE id = $1', [intentId]);
  if (!intent) throw new OtklikError('NOT_FOUND', `Намерение ${intentId} не найдено`);
  // Outside the revision stamp (a held-out edit retrains nothing), but in the KB's history: the routes record it.
  const rows = await sql.query<Row>(
    `INSERT INTO intent_test_phrases (intent_id, text, created_by)
     SELECT $1, t, $3 FROM unnest($2::text[]) AS t
     ON CONFLICT (intent_id, lower(text)) DO NOTHING
     RETURNING id, intent_id, text, created_at, created_by`,
    [intentId, clean, by],
  );
  return rows.map(fromRow);
}

export async function removeTestPhrase(sql: Sql, id: number): Promise<TestPhrase> {
  const [row] = await sql.query<Row>(
    'DELETE FROM intent_test_phrases WHERE id = $1 RETURNING id, intent_id, text, created_at, created_by',
    [id],
  );
  if (!row) throw new OtklikError('NOT_FOUND', `Контрольная фраза ${id} не найдена`);
  return fromRow(row);
}

/** The held-out set grouped by intent, as the YAML section writes it (intents by id, phrases as added). */
export async function readTestPhraseGroups(sql: Sql): Promise<TestPhraseGroup[]> {
  const groups = new Map<string, string[]>();
  for (const p of await listTestPhrases(sql)) {
    const list = groups.get(p.intentId);
    if (list) list.push(p.text);
    else groups.set(p.intentId, [p.text]);
  }
  return [...groups.entries()].map(([intent, phrases]) => ({ intent, phrases }));
}

/** Replaces the stored held-out set (an import); groups of intents the KB lacks are refused before this. */
export async function writeTestPhraseGroups(tx: Sql, groups: TestPhraseGroup[]): Promise<void> {
  await tx.query('DELETE FROM intent_test_phrases');
  const rows = groups.flatMap((g) => [...new Set(g.phrases)].map((text) => ({ intent_id: g.intent, text })));
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO intent_test_phrases (intent_id, text)
     SELECT intent_id, text FROM json_to_recordset($1::json) AS x(intent_id text, text text)
     ON CONFLICT (intent_id, lower(text)) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
