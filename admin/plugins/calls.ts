import { Type } from 'typebox';
import { placeLegalHold, releaseLegalHold } from '../../calls/legal-hold.js';
import { type CallRow, getCall, getTurns, listCalls } from '../../calls/records.js';
import { OtklikError } from '../../core/errors.js';
import { maskPhone } from '../../core/log.js';
import { inquiryFigures } from '../../inquiries/figures.js';
import { zonedInstant, zonedParts } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
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

/**
 * The call card's record in the API's camelCase: the dialog's outcome in `outcome`, and for a phone call the
 * SIP side under `sip` (where the line took it, its legs, answer and hang-up).
 */
function callCard(call: CallRow, seesNumber: boolean): Record<string, unknown> {
  const caller = call.callerNumber;
  return {
    id: call.id,
    channel: call.channel,
    callerNumber: caller && !seesNumber ? maskPhone(caller) : caller,
    dialledNumber: call.dialledNumber,
    startedAt: call.startedAt,
    endedAt: call.endedAt,
    outcome: call.outcome,
    status: call.status,
    flowId: call.flowId,
    topicId: call.topicId,
    instanceId: call.instanceId,
    sip: call.sip ?? null,
    operator: call.operator,
    operatorOutcome: call.operatorOutcome,
    operatorNote: call.operatorNote,
    legalHold: call.legalHold,
    retention: {
      transcriptRemovedAt: call.transcriptRemovedAt,
      callerNumberRemovedAt: call.callerNumberRemovedAt,
    },
  };
}

/** Roles that may put a call on legal hold and release it (admin always passes requireRole). */
const HOLD_ROLES = ['supervisor'] as const;
const HoldReason = Type.String({ minLength: 3, maxLength: 500 });

/**
 * Supervisors' and operators' view of calls: today's figures (including calls lost past the wait norm),
 * the call list (caller numbers masked), a call's card with its transcript (every opening audited: it is
 * personal data; the number in clear only for supervisors). Inquiries have their own plugin (inquiries.ts);
 * the overview shows their figures.
 */
export async function callsPlugin(app: TypedApp, opts: CallsPluginOptions): Promise<void> {
  const { sql } = opts;
  const now = opts.now ?? (() => new Date());

  app.get(
    '/api/overview',
    {
      schema: { tags: ['calls'], summary: 'Обзор линии: звонки, очередь, обращения, состояние частей' },
      preHandler: requireRole('supervisor', 'operator'),
    },
    async () => {
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
    },
  );

  app.get(
    '/api/calls',
    {
      preHandler: requireRole('supervisor', 'operator'),
      schema: {
        tags: ['calls'],
        summary: 'Журнал звонков и чатов',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
      },
    },
    async (request) => {
      const rows = await listCalls(sql, request.query.limit ?? 50);
      // The list is personal data too (masked numbers, times): who read how many rows is on record.
      await writeAudit(sql, request.staff!.login, 'call.list', undefined, { count: rows.length });
      return {
        calls: rows.map((r) => ({
          id: r.id,
          channel: r.channel,
          caller: r.callerNumber ? maskPhone(r.callerNumber) : '—',
          startedAt: r.startedAt,
          endedAt: r.endedAt,
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
      schema: {
        tags: ['calls'],
        summary: 'Карточка звонка или чата: реплики, исход, оператор',
        params: Type.Object({ id: TextId }),
      },
    },
    async (request) => {
      const call = await getCall(sql, request.params.id);
      if (!call) throw new OtklikError('NOT_FOUND', 'Звонок не найден');
      // An operator needs the conversation, not the number (152-FZ: least personal data); supervisors call back.
      const seesNumber = ['supervisor', 'admin'].includes(request.staff!.role);
      const turns = await getTurns(sql, request.params.id);
      await writeAudit(sql, request.staff!.login, 'call.view', request.params.id, {
        turns: turns.length,
        number: call.callerNumber ? (seesNumber ? 'clear' : 'masked') : 'none',
      });
      return { call: callCard(call, seesNumber), turns };
    },
  );

  // Legal hold (for a court or an inspection): the retention job removes nothing of a held call. Placing and
  // releasing need a reason, and both are audited with it.
  app.post(
    '/api/calls/:id/legal-hold',
    {
      preHandler: requireRole(...HOLD_ROLES),
      schema: {
        tags: ['calls'],
        summary: 'Поставить звонок на удержание для суда или проверки (срок хранения не действует)',
        params: Type.Object({ id: TextId }),
        body: Type.Object({ reason: HoldReason }),
      },
    },
    async (request) => {
      const reason = holdReason(request.body.reason, 'удержания');
      const hold = await placeLegalHold(sql, request.params.id, {
        by: request.staff!.login,
        reason,
        at: now(),
      });
      await writeAudit(sql, request.staff!.login, 'call.legal_hold', request.params.id, { reason });
      return { legalHold: hold };
    },
  );

  app.post(
    '/api/calls/:id/legal-hold/release',
    {
      preHandler: requireRole(...HOLD_ROLES),
      schema: {
        tags: ['calls'],
        summary: 'Снять удержание звонка (данные снова удаляются по сроку хранения)',
        params: Type.Object({ id: TextId }),
        body: Type.Object({ reason: HoldReason }),
      },
    },
    async (request) => {
      const reason = holdReason(request.body.reason, 'снятия удержания');
      const released = await releaseLegalHold(sql, request.params.id);
      await writeAudit(sql, request.staff!.login, 'call.legal_hold_release', request.params.id, {
        reason,
        released,
      });
      return { legalHold: null, released };
    },
  );
}

/** The reason a legal hold is placed or released for, trimmed; a blank or a word too short is refused. */
function holdReason(text: string, act: string): string {
  const reason = text.trim();
  if (reason.length < 3)
    throw new OtklikError('VALIDATION_FAILED', `Укажите основание ${act} (не короче 3 символов)`);
  return reason;
}
