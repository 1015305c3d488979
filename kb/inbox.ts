/**
 * The editors' decisions on the knowledge studio's inbox (kb_inbox_decisions, migration 0326): a wording of
 * callers (its key, nlu/phrase-groups.ts phraseKey) assigned to an intent as a training phrase, made into a
 * new intent, or dismissed. A later decision on the same wording replaces the earlier one.
 */
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

export type InboxDecisionKind = 'assigned' | 'dismissed' | 'new_intent';

export interface InboxDecision {
  key: string;
  decision: InboxDecisionKind;
  intentId: string | null;
  sample: string;
  by: string;
  at: Date;
}

export async function recordInboxDecisions(
  sql: Sql,
  d: {
    keys: string[];
    decision: InboxDecisionKind;
    intentId: string | null;
    sample: string;
    by: string;
    at: Date;
  },
): Promise<void> {
  const keys = [...new Set(d.keys.filter((k) => k.trim() !== ''))];
  if (keys.length === 0) throw new OtklikError('VALIDATION_FAILED', 'Не указано ни одной фразы');
  if ((d.decision === 'dismissed') !== (d.intentId === null))
    throw new OtklikError(
      'VALIDATION_FAILED',
      'Намерение указывается при добавлении фразы, а не при отклонении',
    );
  await sql.query(
    `INSERT INTO kb_inbox_decisions (phrase_key, decision, intent_id, sample, decided_by, decided_at)
     SELECT k, $2, $3, $4, $5, $6 FROM unnest($1::text[]) AS k
     ON CONFLICT (phrase_key) DO UPDATE SET decision = EXCLUDED.decision, intent_id = EXCLUDED.intent_id,
       sample = EXCLUDED.sample, decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at`,
    [keys, d.decision, d.intentId, d.sample, d.by, d.at],
  );
}

/** The decisions on the given wordings (all when `keys` is left out). */
export async function inboxDecisions(sql: Sql, keys?: string[]): Promise<InboxDecision[]> {
  const rows = await sql.query<{
    phrase_key: string;
    decision: InboxDecisionKind;
    intent_id: string | null;
    sample: string;
    decided_by: string;
    decided_at: Date;
  }>(
    keys
      ? 'SELECT * FROM kb_inbox_decisions WHERE phrase_key = ANY($1::text[])'
      : 'SELECT * FROM kb_inbox_decisions ORDER BY decided_at DESC',
    keys ? [keys] : [],
  );
  return rows.map((r) => ({
    key: r.phrase_key,
    decision: r.decision,
    intentId: r.intent_id,
    sample: r.sample,
    by: r.decided_by,
    at: r.decided_at,
  }));
}
