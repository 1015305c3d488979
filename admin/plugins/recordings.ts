import { Type } from 'typebox';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import type { Sql } from '../../store/sql.js';
import { readRecording, recordingsOfCall } from '../../telephony/records.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole, requireSignIn } from './auth.js';

export interface RecordingsPluginOptions {
  sql: Sql;
}

/** Roles that may listen to recordings (quality control, complaints); everybody else is refused. */
export const RECORDING_ROLES: readonly string[] = ['supervisor', 'admin'];

/**
 * Authorized listening to call recordings. Only signed-in staff get past the door; the role is checked here,
 * after it, so that every attempt, refused or granted, is written to the audit log (`recording.listen`, with
 * granted, the reason of a refusal and the role): an operator's try, a file gone from disk or one whose
 * checksum no longer matches (telephony refuses it as tampered) are all on record.
 * Audio is sent with `Cache-Control: no-store`: personal data must not linger in browser or proxy caches.
 */
export async function recordingsPlugin(app: TypedApp, opts: RecordingsPluginOptions): Promise<void> {
  const { sql } = opts;

  app.get(
    '/api/calls/:id/recordings',
    {
      // RECORDING_ROLES (admin always passes requireRole).
      preHandler: requireRole('supervisor'),
      schema: { tags: ['recordings'], summary: 'Записи звонка', params: Type.Object({ id: TextId }) },
    },
    async (request) => {
      const recordings = await recordingsOfCall(sql, request.params.id);
      return {
        recordings: recordings.map((r) => ({
          id: r.id,
          legs: r.legs,
          startedAt: r.startedAt,
          durationMs: r.durationMs,
          sizeBytes: r.sizeBytes,
          state: r.state,
        })),
      };
    },
  );

  app.get(
    '/api/recordings/:id/audio',
    {
      preHandler: requireSignIn,
      schema: {
        tags: ['recordings'],
        summary: 'Прослушать запись (в журнал аудита)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request, reply) => {
      const staff = request.staff!;
      const id = request.params.id;
      const audit = (granted: boolean, reason: string | null, callId?: string) =>
        writeAudit(sql, staff.login, 'recording.listen', id, {
          granted,
          reason,
          role: staff.role,
          ...(callId ? { callId } : {}),
        });
      if (!RECORDING_ROLES.includes(staff.role)) {
        await audit(false, 'role');
        throw new OtklikError(
          'FORBIDDEN',
          'Недостаточно прав для этого действия: записи разговоров слушают старшие смены',
        );
      }
      let recording: Awaited<ReturnType<typeof readRecording>>;
      try {
        recording = await readRecording(sql, id);
      } catch (err) {
        const reason = isOtklikError(err) ? String(err.details?.reason ?? err.code) : 'error';
        await audit(false, reason);
        throw err;
      }
      await audit(true, null, recording.meta.callId);
      return reply
        .header('content-type', 'audio/wav')
        .header('cache-control', 'no-store')
        .header('content-disposition', `inline; filename="${id}.wav"`)
        .send(recording.audio);
    },
  );
}
