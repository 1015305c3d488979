import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { maskPhone } from '../../core/log.js';
import { inquiryFigures } from '../../inquiries/figures.js';
import { zonedInstant, zonedParts } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { TextId, type TypedApp } from '../typed.js';
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
  timezone: string;
}

/**
 * Supervisors' and operators' view of calls: today's figures (including calls lost past the wait norm),
 * the call list (caller numbers masked), a call's card with its transcript (every opening audited: it is
 * personal data; the number in clear only for supervisors). Inquiries have their own plugin (inquiries.ts);
 * the overview shows their figures.
 */
export async function callsPlugin(app: TypedApp, opts: CallsPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get('/api/overview', { preHandler: requireRole('supervisor', 'operator') }, async () => {
    // "Today" is the region's calendar day: from its local midnight.
    const day = zonedParts(now(), opts.timezone).date;
    const from = zonedInstant(day, 0, opts.timezone);
    // Today's figures are the daily report's row for today: one definition of what is counted.
    const [today] = await dailyReport(sql, opts.timezone, day, day);
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
}
