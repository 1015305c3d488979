import type { Sql } from '../store/sql.js';

/**
 * Training phrases next to the KB (kb/topic-editor.ts): whether a phrase is new, already the intent's (or
 * repeated in the list), or another active intent's.
 */

/** What a phrase is, next to the KB: new, already this intent's (or twice in the list), or another intent's. */
export type PhraseFlag =
  | { text: string; status: 'new' }
  | { text: string; status: 'duplicate' }
  | { text: string; status: 'other_intent'; intent: string; intentTitle: string };

/**
 * The form in which two phrases are «the same»: lower case, ё as е, punctuation and runs of spaces as one
 * space. kb cannot use nlu's normalizer (nlu sits above kb); this is enough to catch what editors repeat.
 */
export function phraseKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Flags each phrase against intent `intentId`'s phrases, the list itself and every other active intent's. */
export async function flagPhrases(tx: Sql, intentId: string, phrases: string[]): Promise<PhraseFlag[]> {
  const rows = await tx.query<{ intent_id: string; title: string; text: string }>(
    `SELECT p.intent_id, i.title, p.text FROM intent_phrases p JOIN intents i ON i.id = p.intent_id
       JOIN topics t ON t.id = i.topic_id
      WHERE (i.retired_at IS NULL AND t.retired_at IS NULL) OR p.intent_id = $1
      ORDER BY p.intent_id, p.position`,
    [intentId],
  );
  const own = new Set<string>();
  const others = new Map<string, { intent: string; intentTitle: string }>();
  for (const r of rows) {
    const key = phraseKey(r.text);
    if (r.intent_id === intentId) own.add(key);
    else if (!others.has(key)) others.set(key, { intent: r.intent_id, intentTitle: r.title });
  }
  const seen = new Set<string>();
  const flags: PhraseFlag[] = [];
  for (const raw of phrases) {
    const text = raw.trim().replace(/\s+/g, ' ');
    const key = phraseKey(text);
    if (key === '') continue;
    if (own.has(key) || seen.has(key)) flags.push({ text, status: 'duplicate' });
    else {
      const other = others.get(key);
      flags.push(other ? { text, status: 'other_intent', ...other } : { text, status: 'new' });
    }
    seen.add(key);
  }
  return flags;
}
