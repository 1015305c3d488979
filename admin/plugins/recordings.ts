import { Type } from 'typebox';
import type { Sql } from '../../store/sql.js';
import { readRecording, recordingsOfCall } from '../../telephony/records.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole, requireSignIn } from './auth.js';

export interface RecordingsPluginOptions {
  sql: Sql;
}

/**
 * Authorized listening to call recordings. Only signed-in staff get past the door; the role check itself is
 * left to `readRecording`, so that a refused attempt (an operator, say) is written to the access audit too.
 * Audio is sent with `Cache-Control: no-store`: personal data must not linger in browser or proxy caches.
 */
export async function recordingsPlugin(app: TypedApp, opts: RecordingsPluginOptions): Promise<void> {
  const { sql } = opts;

  app.get(
    '/api/calls/:id/recordings',
    {
      // The same roles as telephony's RECORDING_ROLES (admin always passes requireRole).
      preHandler: requireRole('supervisor'),
      schema: { params: Type.Object({ id: TextId }) },
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
      schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }) },
    },
    async (request, reply) => {
      const staff = request.staff!;
      const { audio } = await readRecording(sql, request.params.id, {
        userId: staff.login,
        role: staff.role,
      });
      return reply
        .header('content-type', 'audio/wav')
        .header('cache-control', 'no-store')
        .header('content-disposition', `inline; filename="${request.params.id}.wav"`)
        .send(audio);
    },
  );
}
