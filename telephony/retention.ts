/**
 * Retention of telephony's personal data (152-FZ): call recordings (file and row), and what the operator
 * queue and the callbacks keep of a citizen: the number (callbacks' phone, the queue entries' context) and
 * the copy of the bot's transcript in a queue entry's context. Only what is finished goes (a waiting call, an
 * open callback keep theirs), never anything of a call on legal hold (`step.held`, from the calls part). The
 * retention job (admin/jobs/retention.ts) runs these steps in batches.
 */
import { unlink } from 'node:fs/promises';
import { nextCursor, type RetentionStep, type RetentionStepResult } from '../store/retention.js';
import type { Sql } from '../store/sql.js';

/**
 * Recordings started before the cutoff: the file is deleted first, then its row, so a failure leaves the row
 * for the next run. A file already gone (deleted by hand, or kept on another host's disk: the recordings
 * directory must be the one the telephony nodes write) still has its row removed, counted as `filesMissing`.
 */
export async function removeOldRecordings(sql: Sql, step: RetentionStep): Promise<RetentionStepResult> {
  const rows = await sql.query<{
    id: string;
    call_id: string;
    path: string;
    started_at: Date;
    size_bytes: number | null;
  }>(
    `SELECT id, call_id, path, started_at, size_bytes FROM telephony_recordings
      WHERE started_at < $1 AND call_id <> ALL($2::text[])
        AND ($3::timestamptz IS NULL OR (started_at, id) > ($3::timestamptz, $4::text))
      ORDER BY started_at, id LIMIT $5`,
    [step.before, step.held, step.after?.at ?? null, step.after?.id ?? '', step.limit],
  );
  const next = nextCursor(rows, step.limit, (r) => ({ at: r.started_at, id: r.id }));
  const bytes = rows.reduce((n, r) => n + Number(r.size_bytes ?? 0), 0);
  if (step.dryRun)
    return { rows: rows.length, callIds: unique(rows.map((r) => r.call_id)), next, counts: { bytes } };
  const counts = { files: 0, filesMissing: 0, failed: 0, bytes: 0 };
  const removed: typeof rows = [];
  for (const r of rows) {
    try {
      await unlink(r.path);
      counts.files += 1;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        counts.failed += 1;
        continue;
      }
      counts.filesMissing += 1;
    }
    counts.bytes += Number(r.size_bytes ?? 0);
    removed.push(r);
  }
  await sql.query('DELETE FROM telephony_recordings WHERE id = ANY($1::text[])', [removed.map((r) => r.id)]);
  return { rows: removed.length, callIds: unique(removed.map((r) => r.call_id)), next, counts };
}

/** Keys of a queue entry's or callback's context that hold the citizen's number. */
const NUMBER_KEYS = ['callerNumber', 'from', 'phone'];
/** Keys of a context that hold what the citizen said (the bot's transcript, classified utterances, entities). */
const TRANSCRIPT_KEYS = ['transcript', 'intents', 'entities'];

/** A queue entry of a held call, or a callback's entry whose callback is of a held call. */
const QUEUE_NOT_HELD = `q.call_id <> ALL($2::text[]) AND NOT EXISTS (
  SELECT 1 FROM telephony_callbacks cb WHERE cb.id = q.context->>'callbackId'
     AND (cb.call_id = ANY($2::text[]) OR cb.context->>'inquiryCallId' = ANY($2::text[])))`;

/** Finished queue entries whose context still holds any of `keys`, stripped of them. */
async function stripQueueContext(
  sql: Sql,
  step: RetentionStep,
  keys: string[],
  channel: 'phone' | 'text' | null,
): Promise<RetentionStepResult> {
  const rows = await sql.query<{ call_id: string; enqueued_at: Date }>(
    `SELECT q.call_id, q.enqueued_at FROM telephony_queue_calls q
      WHERE q.enqueued_at < $1 AND q.state NOT IN ('waiting', 'offered') AND ${QUEUE_NOT_HELD}
        AND ($3::timestamptz IS NULL OR (q.enqueued_at, q.call_id) > ($3::timestamptz, $4::text))
        AND ($6::text IS NULL OR q.channel = $6) AND q.context ?| $7::text[]
      ORDER BY q.enqueued_at, q.call_id LIMIT $5`,
    [step.before, step.held, step.after?.at ?? null, step.after?.id ?? '', step.limit, channel, keys],
  );
  const next = nextCursor(rows, step.limit, (r) => ({ at: r.enqueued_at, id: r.call_id }));
  const ids = rows.map((r) => r.call_id);
  if (!step.dryRun && ids.length > 0)
    await sql.query(
      'UPDATE telephony_queue_calls SET context = context - $2::text[] WHERE call_id = ANY($1::text[])',
      [ids, keys],
    );
  return { rows: ids.length, callIds: ids, next };
}

/** The transcript copies in finished phone calls' queue entries. */
export const removeOldQueueTranscripts = (sql: Sql, step: RetentionStep) =>
  stripQueueContext(sql, step, TRANSCRIPT_KEYS, 'phone');

/** The chat log copies in finished chats' queue entries. */
export const removeOldQueueChatLogs = (sql: Sql, step: RetentionStep) =>
  stripQueueContext(sql, step, TRANSCRIPT_KEYS, 'text');

/** The citizen's number in finished queue entries (a callback's entry carries it too). */
export const removeOldQueueNumbers = (sql: Sql, step: RetentionStep) =>
  stripQueueContext(sql, step, NUMBER_KEYS, null);

/**
 * Closed callbacks (done or cancelled: a failed one still waits for an operator) created before the cutoff:
 * the phone goes, and so do the number and transcript copies in their context.
 */
export async function removeOldCallbackNumbers(sql: Sql, step: RetentionStep): Promise<RetentionStepResult> {
  const rows = await sql.query<{ id: string; created_at: Date; call_id: string | null }>(
    `SELECT id, created_at, COALESCE(call_id, context->>'inquiryCallId') AS call_id FROM telephony_callbacks
      WHERE created_at < $1 AND state IN ('done', 'cancelled')
        AND (call_id IS NULL OR call_id <> ALL($2::text[])) AND COALESCE(context->>'inquiryCallId', '') <> ALL($2::text[])
        AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::text))
        AND (phone IS NOT NULL OR context ?| $6::text[])
      ORDER BY created_at, id LIMIT $5`,
    [step.before, step.held, step.after?.at ?? null, step.after?.id ?? '', step.limit, NUMBER_KEYS],
  );
  const next = nextCursor(rows, step.limit, (r) => ({ at: r.created_at, id: r.id }));
  if (!step.dryRun && rows.length > 0)
    await sql.query(
      `UPDATE telephony_callbacks SET phone = NULL, context = context - $2::text[] - $3::text[]
        WHERE id = ANY($1::text[])`,
      [rows.map((r) => r.id), NUMBER_KEYS, TRANSCRIPT_KEYS],
    );
  return {
    rows: rows.length,
    callIds: unique(rows.flatMap((r) => (r.call_id ? [r.call_id] : []))),
    next,
  };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
