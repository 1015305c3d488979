/**
 * Retention of the calls part's personal data (152-FZ): a call's turns (the transcript of a voice call, the
 * log of a web chat) with the operator's note, and its numbers (the caller's, and the citizen's on an outbound
 * call: the dialled number and the targets of outbound legs). Each is removed once the call is older than its
 * kind's period, never while the call is active or on legal hold (legal-hold.ts). The call row itself stays
 * (figures, reports and the audit refer to it), marked with when its data went. The retention job
 * (admin/jobs/retention.ts) runs these steps in batches.
 */
import { nextCursor, type RetentionStep, type RetentionStepResult } from '../store/retention.js';
import type { Sql } from '../store/sql.js';

/** The calls of a step: old enough, finished, not held, in keyset order from the step's cursor. */
const candidates = (extra: string) => `
  SELECT c.id, c.started_at FROM calls c
   WHERE c.started_at < $1 AND c.status <> 'active' AND c.legal_hold_at IS NULL
     AND ($2::timestamptz IS NULL OR (c.started_at, c.id) > ($2::timestamptz, $3::text))
     AND ${extra}
   ORDER BY c.started_at, c.id LIMIT $4`;

type Candidate = { id: string; started_at: Date };

async function pick(sql: Sql, step: RetentionStep, extra: string, params: unknown[] = []) {
  const rows = await sql.query<Candidate>(candidates(extra), [
    step.before,
    step.after?.at ?? null,
    step.after?.id ?? '',
    step.limit,
    ...params,
  ]);
  return {
    ids: rows.map((r) => r.id),
    next: nextCursor(rows, step.limit, (r) => ({ at: r.started_at, id: r.id })),
  };
}

/** The turns of old voice calls (`chats: false`) or web chats (`chats: true`), and the operator's note. */
async function removeTurns(sql: Sql, step: RetentionStep, chats: boolean): Promise<RetentionStepResult> {
  const { ids, next } = await pick(
    sql,
    step,
    `(c.channel = 'text') = $5 AND (c.operator_note IS NOT NULL
       OR EXISTS (SELECT 1 FROM call_turns t WHERE t.call_id = c.id))`,
    [chats],
  );
  if (ids.length === 0) return { rows: 0, callIds: [], next };
  if (step.dryRun) {
    const [n] = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM call_turns WHERE call_id = ANY($1::text[])',
      [ids],
    );
    return { rows: n?.n ?? 0, callIds: ids, next };
  }
  return sql.transaction(async (tx) => {
    // A hold placed since the batch was read wins: only calls still not held are touched.
    const free = await tx.query<{ id: string }>(
      `UPDATE calls SET operator_note = NULL, transcript_removed_at = $2
        WHERE id = ANY($1::text[]) AND legal_hold_at IS NULL RETURNING id`,
      [ids, step.now],
    );
    const callIds = free.map((r) => r.id);
    const turns = await tx.query('DELETE FROM call_turns WHERE call_id = ANY($1::text[]) RETURNING seq', [
      callIds,
    ]);
    // A supervisor's comment on the call's score may retell the conversation: it goes with the transcript.
    await tx.query('UPDATE call_scores SET comment = NULL WHERE call_id = ANY($1::text[])', [callIds]);
    return { rows: turns.length, callIds, next };
  });
}

/** Transcripts of voice calls (and simulations): their turns, the operator's note and the scores' comments. */
export const removeOldTranscripts = (sql: Sql, step: RetentionStep) => removeTurns(sql, step, false);

/** Web chat logs: the turns of text calls and the operator's note. */
export const removeOldChatLogs = (sql: Sql, step: RetentionStep) => removeTurns(sql, step, true);

/**
 * The numbers of old calls: the caller's number; on an outbound call (a callback, an answer relayed) the
 * citizen's number it dialled, and the target of every outbound leg. Agencies' and operators' legs stay.
 */
export async function removeOldCallerNumbers(sql: Sql, step: RetentionStep): Promise<RetentionStepResult> {
  const { ids, next } = await pick(
    sql,
    step,
    `c.caller_number_removed_at IS NULL AND (c.caller_number IS NOT NULL OR c.direction = 'outbound')`,
  );
  if (ids.length === 0 || step.dryRun) return { rows: ids.length, callIds: ids, next };
  const done = await sql.query<{ id: string }>(
    `UPDATE calls SET caller_number = NULL,
            dialled_number = CASE WHEN direction = 'outbound' THEN '' ELSE dialled_number END,
            legs = COALESCE((SELECT jsonb_agg(CASE WHEN l->>'kind' = 'outbound' THEN l - 'target' ELSE l END
                                              ORDER BY n)
                               FROM jsonb_array_elements(calls.legs) WITH ORDINALITY AS e(l, n)), '[]'::jsonb),
            caller_number_removed_at = $2
      WHERE id = ANY($1::text[]) AND legal_hold_at IS NULL RETURNING id`,
    [ids, step.now],
  );
  return { rows: done.length, callIds: done.map((r) => r.id), next };
}
