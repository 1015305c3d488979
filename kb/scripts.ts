import type { Sql } from '../store/sql.js';

/** An approved answer as the operator reads it on the desk (its screen text). */
export interface OperatorScript {
  intent: string;
  topicId: string;
  topicTitle: string;
  title: string;
  text: string;
  version: number;
}

/**
 * The approved scripts, for the operator's search: `q` a case-insensitive substring of the title or the text
 * (folded in code with the Russian locale: the store's lower() depends on its collation and PGlite has none
 * that knows Cyrillic), `topic` one topic's. Drafts and retired versions are never shown, nor the scripts of retired intents or topics.
 */
export async function operatorScripts(
  sql: Sql,
  filter: { q?: string; topic?: string } = {},
): Promise<OperatorScript[]> {
  const rows = await sql.query<OperatorScript>(
    `SELECT a.intent_id AS intent, i.topic_id AS "topicId", t.title AS "topicTitle", i.title, a.screen AS text,
            a.version
       FROM answer_versions a JOIN intents i ON i.id = a.intent_id JOIN topics t ON t.id = i.topic_id
      WHERE a.status = 'approved' AND i.retired_at IS NULL AND t.retired_at IS NULL
        AND ($1::text IS NULL OR i.topic_id = $1)
      ORDER BY t.title, i.title, a.intent_id`,
    [filter.topic || null],
  );
  const q = filter.q?.trim().toLocaleLowerCase('ru');
  const scripts = rows.map((r) => ({ ...r, version: Number(r.version) }));
  if (!q) return scripts;
  return scripts.filter(
    (s) => s.title.toLocaleLowerCase('ru').includes(q) || s.text.toLocaleLowerCase('ru').includes(q),
  );
}
