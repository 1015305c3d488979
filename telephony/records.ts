import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OtklikError } from '../core/errors.js';
import { readWavInfo } from '../media/audio/wav.js';
import type { Sql } from '../store/sql.js';

/**
 * Recordings of the telephony part. Recordings live on disk under the configured directory; their metadata
 * (call, legs, duration, sha256) lives here, and `readRecording` gives a recording's audio only while the file
 * still matches its checksum. Who may listen, and the audit of every attempt, are the admin part's (its
 * recordings plugin); the call-detail record is on the call's row in the calls part (calls/sip.ts).
 */
export interface RecordingMeta {
  id: string;
  callId: string;
  path: string;
  legs: string[];
  startedAt: Date;
  durationMs: number | null;
  sizeBytes: number | null;
  sha256: string | null;
  state: 'recording' | 'complete' | 'missing';
}

const toRecording = (r: Record<string, unknown>): RecordingMeta => ({
  id: r.id as string,
  callId: r.call_id as string,
  path: r.path as string,
  legs: r.legs as string[],
  startedAt: r.started_at as Date,
  durationMs: r.duration_ms as number | null,
  sizeBytes: r.size_bytes as number | null,
  sha256: r.sha256 as string | null,
  state: r.state as RecordingMeta['state'],
});

export async function recordingStarted(
  sql: Sql,
  r: { callId: string; path: string; legs: string[]; startedAt: Date },
): Promise<string> {
  const id = randomUUID();
  await sql.query(
    `INSERT INTO telephony_recordings (id, call_id, path, legs, started_at) VALUES ($1, $2, $3, $4::jsonb, $5)`,
    [id, r.callId, r.path, JSON.stringify(r.legs), r.startedAt],
  );
  return id;
}

export async function recordingAddLeg(sql: Sql, id: string, leg: string): Promise<void> {
  await sql.query(`UPDATE telephony_recordings SET legs = legs || $2::jsonb WHERE id = $1`, [
    id,
    JSON.stringify([leg]),
  ]);
}

/** After the call: size, duration (from the WAV header) and sha256 of the file, or state 'missing'. */
export async function recordingFinished(sql: Sql, id: string): Promise<RecordingMeta> {
  const meta = await getRecordingMeta(sql, id);
  let data: Buffer;
  try {
    data = await readFile(meta.path);
  } catch {
    await sql.query(`UPDATE telephony_recordings SET state = 'missing' WHERE id = $1`, [id]);
    return { ...meta, state: 'missing' };
  }
  let durationMs: number | null = null;
  try {
    durationMs = readWavInfo(data).durationMs;
  } catch {
    // Not a WAV FreeSWITCH finished writing; keep the checksum so the file can still be verified.
  }
  const sha256 = createHash('sha256').update(data).digest('hex');
  const rows = await sql.query<Record<string, unknown>>(
    `UPDATE telephony_recordings SET state = 'complete', size_bytes = $2, sha256 = $3, duration_ms = $4
     WHERE id = $1 RETURNING *`,
    [id, data.length, sha256, durationMs],
  );
  return toRecording(rows[0]!);
}

export async function getRecordingMeta(sql: Sql, id: string): Promise<RecordingMeta> {
  const rows = await sql.query<Record<string, unknown>>('SELECT * FROM telephony_recordings WHERE id = $1', [
    id,
  ]);
  if (!rows[0]) throw new OtklikError('NOT_FOUND', `no recording ${id}`);
  return toRecording(rows[0]);
}

export async function recordingsOfCall(sql: Sql, callId: string): Promise<RecordingMeta[]> {
  const rows = await sql.query<Record<string, unknown>>(
    'SELECT * FROM telephony_recordings WHERE call_id = $1 ORDER BY started_at',
    [callId],
  );
  return rows.map(toRecording);
}

/**
 * A recording's audio, refused when it cannot be trusted: NOT_FOUND for an unknown recording (details.reason
 * 'unknown') or a file gone from disk ('missing'), CONFLICT for a file whose checksum no longer matches, as
 * tampered ('checksum'). The caller decides who may ask, and audits the attempt with the reason.
 */
export async function readRecording(sql: Sql, id: string): Promise<{ meta: RecordingMeta; audio: Buffer }> {
  let meta: RecordingMeta;
  try {
    meta = await getRecordingMeta(sql, id);
  } catch (err) {
    if (err instanceof OtklikError && err.code === 'NOT_FOUND')
      throw new OtklikError('NOT_FOUND', err.message, { details: { reason: 'unknown' } });
    throw err;
  }
  let audio: Buffer;
  try {
    audio = await readFile(meta.path);
  } catch {
    throw new OtklikError('NOT_FOUND', `recording ${id} is not on disk`, { details: { reason: 'missing' } });
  }
  if (meta.sha256 && createHash('sha256').update(audio).digest('hex') !== meta.sha256) {
    throw new OtklikError(
      'CONFLICT',
      `Запись ${id} изменена или повреждена: контрольная сумма не совпадает`,
      {
        details: { reason: 'checksum' },
      },
    );
  }
  return { meta, audio };
}
