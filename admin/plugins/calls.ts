import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { maskPhone } from '../../core/log.js';
import {
  dispatchStuckSql,
  inquiryFigures,
  markRelayedByOperator,
  recordAgencyAnswer,
} from '../../inquiries/dispatch.js';
import { zonedInstant, zonedParts } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { RowId, TextId, type TypedApp } from '../typed.js';
import { audit } from '../users.js';
import { requireRole } from './auth.js';
import { dailyReport } from './reports.js';

/** What the figures need of the operator queue (telephony/queue.ts OperatorQueue). */
export interface QueueFigures {
  stats(range: { from?: Date; to?: Date }): Promise<{
    waiting: number;
    lost: number;
    abandoned: number;
    avgWaitMs: number;
    p90WaitMs: number;
    waitNormMs: number;
  }>;
  operators(): Promise<Array<{ state: string }>>;
}

export interface CallsPluginOptions {
  sql: Sql;
  queue: QueueFigures;
  health: () => Promise<unknown>;
  now?: () => Date;
  /** The region's time zone, the knowledge base's (KnowledgeBase.timezone): «today» is its calendar day. */
  timeZone: () => Promise<string>;
}

export type RelayState = 'waiting_answer' | 'relayed' | 'to_operator' | 'calling' | 'pending';

/**
 * Where relaying the agency's answer to the caller stands, for the staff list: not answered yet, told to
 * the caller, handed to an operator after three callbacks, being called back (attempts made), or waiting
 * for its first callback.
 */
export function relayState(r: Record<string, unknown>): RelayState {
  if (r.relayedAt) return 'relayed';
  if (r.status !== 'answered') return 'waiting_answer';
  if (r.relayNeedsOperator) return 'to_operator';
  return Number(r.relayAttempts ?? 0) > 0 ? 'calling' : 'pending';
}

/**
 * Supervisors' and operators' view of calls: today's figures (including calls lost past the wait norm),
 * the call list (caller numbers masked), a call's card with its transcript (every opening audited: it is
 * personal data; the number in clear only for supervisors),
 * and inquiries with the agency's answer.
 */
export async function callsPlugin(app: TypedApp, opts: CallsPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get('/api/overview', { preHandler: requireRole('supervisor', 'operator') }, async () => {
    // "Today" is the region's calendar day: from its local midnight.
    const timeZone = await opts.timeZone();
    const day = zonedParts(now(), timeZone).date;
    const from = zonedInstant(day, 0, timeZone);
    // Today's figures are the daily report's row for today: one definition of what is counted.
    const [today] = await dailyReport(sql, timeZone, day, day);
    const stats = await opts.queue.stats({ from });
    const operators = await opts.queue.operators();
    return {
      health: await opts.health(),
      queue: {
        waiting: stats.waiting,
        operatorsAvailable: operators.filter((o) => o.state === 'available').length,
        waitNormMs: stats.waitNormMs,
        avgWaitMs: stats.avgWaitMs,
        p90WaitMs: stats.p90WaitMs,
      },
      today: {
        calls: today!.calls,
        answered: today!.answeredByBot,
        escalated: today!.escalated,
        forwarded: today!.forwarded,
        inquiries: today!.inquiries,
        emergency: today!.emergency,
        abandoned: today!.abandoned,
        lostPastNorm: today!.lostPastNorm,
        surveyAverage: today!.surveyAverage,
      },
      inquiries: await inquiryFigures(sql, now()),
    };
  });

  app.get(
    '/api/calls',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
      },
    },
    async (request) => {
      const rows = await sql.query<{
        id: string;
        channel: string;
        caller_number: string | null;
        started_at: Date;
        ended_at: Date | null;
        outcome: string | null;
        status: string;
      }>(
        'SELECT id, channel, caller_number, started_at, ended_at, outcome, status FROM calls ORDER BY started_at DESC LIMIT $1',
        [request.query.limit ?? 50],
      );
      return {
        calls: rows.map((r) => ({
          id: r.id,
          channel: r.channel,
          caller: r.caller_number ? maskPhone(r.caller_number) : '—',
          startedAt: r.started_at,
          endedAt: r.ended_at,
          outcome: r.outcome,
          status: r.status,
        })),
      };
    },
  );

  app.get(
    '/api/calls/:id',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: { params: Type.Object({ id: TextId }) },
    },
    async (request) => {
      const [call] = await sql.query<Record<string, unknown>>('SELECT * FROM calls WHERE id = $1', [
        request.params.id,
      ]);
      if (!call) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
      // An operator needs the conversation, not the number (152-FZ: least personal data); supervisors call back.
      const seesNumber = ['supervisor', 'admin'].includes(request.staff!.role);
      if (!seesNumber && typeof call.caller_number === 'string')
        call.caller_number = maskPhone(call.caller_number);
      const turns = await sql.query<Record<string, unknown>>(
        'SELECT seq, who, text, at_ms, intent, confidence, answer_version, dtmf FROM call_turns WHERE call_id = $1 ORDER BY seq',
        [request.params.id],
      );
      await audit(sql, request.staff!.login, 'call.view', request.params.id);
      return {
        call,
        turns: turns.map((t) => ({
          seq: t.seq,
          who: t.who,
          text: t.text,
          atMs: t.at_ms,
          intent: t.intent,
          confidence: t.confidence,
          answerVersion: t.answer_version,
          dtmf: t.dtmf,
        })),
      };
    },
  );

  app.get('/api/inquiries', { preHandler: requireRole('supervisor', 'operator') }, async () => {
    const rows = await sql.query(
      `SELECT i.id, call_id AS "callId", question, topic_id AS "topicId", t.title AS "topicTitle",
              COALESCE(i.agency_id, t.agency_id) AS "agencyId", a.name AS "agencyName", received_at AS "receivedAt",
              dispatch_due_at AS "dispatchDueAt", dispatched_at AS "dispatchedAt", dispatch_error AS "dispatchError",
              dispatch_attempts AS "dispatchAttempts", dispatch_last_error AS "dispatchLastError",
              ${dispatchStuckSql} AS "dispatchStuck",
              answer_due_at AS "answerDueAt", status, answer_text AS "answerText",
              relayed_at AS "relayedAt", relay_attempts AS "relayAttempts",
              relay_last_attempt_at AS "relayLastAttemptAt", relay_next_attempt_at AS "relayNextAttemptAt",
              relay_last_result AS "relayLastResult", relay_needs_operator AS "relayNeedsOperator",
              relayed_by AS "relayedBy",
              -- The number only where a person must call it: the callbacks did not reach the citizen.
              CASE WHEN status = 'answered' AND relayed_at IS NULL AND relay_needs_operator
                   THEN callback_number END AS "callbackNumber"
         FROM inquiries i
         LEFT JOIN topics t ON t.id = i.topic_id
         LEFT JOIN agencies a ON a.id = COALESCE(i.agency_id, t.agency_id)
        ORDER BY received_at DESC LIMIT 200`,
      [now()],
    );
    return { inquiries: rows.map((r) => ({ ...r, relay: relayState(r) })) };
  });

  /** The agencies staff may pass an inquiry to (an inquiry no topic fitted waits for this choice). */
  app.get('/api/agencies', { preHandler: requireRole('supervisor', 'operator') }, async () => ({
    agencies: await sql.query<{ id: string; name: string }>('SELECT id, name FROM agencies ORDER BY name'),
  }));

  app.post(
    '/api/inquiries/:id/agency',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        params: Type.Object({ id: Type.Integer() }),
        body: Type.Object({ agencyId: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { agencyId } = request.body;
      const [agency] = await sql.query<{ name: string }>('SELECT name FROM agencies WHERE id = $1', [
        agencyId,
      ]);
      if (!agency)
        throw new OtklikError('VALIDATION_FAILED', 'Такого уполномоченного лица нет в базе знаний', {
          retryable: false,
        });
      // Only before the inquiry was sent: the mail sweep picks it up once it has an agency.
      const rows = await sql.query(
        `UPDATE inquiries SET agency_id = $2, dispatch_error = NULL
          WHERE id = $1 AND dispatched_at IS NULL AND status = 'registered' RETURNING id`,
        [id, agencyId],
      );
      if (rows.length === 0)
        throw new OtklikError('CONFLICT', 'Обращение не найдено или уже передано уполномоченному лицу', {
          retryable: false,
        });
      await audit(sql, request.staff!.login, 'inquiry.agency', String(id), { agencyId });
      return { ok: true, agencyId, agencyName: agency.name };
    },
  );

  app.post(
    '/api/inquiries/:id/answer',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        params: Type.Object({ id: RowId }),
        body: Type.Object({ text: Type.String({ minLength: 1 }) }),
      },
    },
    async (request) => {
      await recordAgencyAnswer(sql, request.params.id, { text: request.body.text, by: request.staff!.login });
      await audit(sql, request.staff!.login, 'inquiry.answer', String(request.params.id));
      return { ok: true };
    },
  );

  app.post(
    '/api/inquiries/:id/relayed',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: { params: Type.Object({ id: RowId }) },
    },
    async (request) => {
      await markRelayedByOperator(sql, request.params.id, request.staff!.login);
      await audit(sql, request.staff!.login, 'inquiry.relayed', String(request.params.id));
      return { ok: true };
    },
  );
}
