import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { maskPhone } from '../../core/log.js';
import type { Sql } from '../../store/sql.js';
import type { Callback, CallbackState, Callbacks } from '../../telephony/queue.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

export interface CallbacksPluginOptions {
  sql: Sql;
  /** Telephony's callbacks (OperatorQueue.callbacks). */
  callbacks: Callbacks;
  /**
   * Wakes a callback due later at its time (the job worker's delayed job). Unset or failing (Redis down), the
   * worker's sweep schedules it from the table when it runs.
   */
  schedule?: (callback: Callback) => Promise<void>;
  /** The clock that says whether a callback is due now; tests set it. */
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
}

const STATES = ['pending', 'scheduled', 'dialling', 'done', 'failed', 'cancelled'] as const;
const Phone = Type.String({ minLength: 3, maxLength: 32 });
const When = Type.String({ minLength: 10, maxLength: 40 });

function parseDue(value: string | null | undefined): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new OtklikError('VALIDATION_FAILED', 'Неверное время обратного звонка', {
      details: { field: 'dueAt' },
    });
  return at;
}

/**
 * «Обратные звонки» on the desk: the list (what is due, what failed and waits for a person), an operator's own
 * callback for a time the citizen asked for, and changes (time, number, note, cancelled, done by hand).
 * The callbacks themselves are telephony's (telephony/acd/callbacks.ts). Operators see numbers masked,
 * supervisors and admins in clear; every change, and every list shown in clear, is audited.
 */
export async function callbacksPlugin(app: TypedApp, opts: CallbacksPluginOptions): Promise<void> {
  const { callbacks, sql } = opts;
  const now = opts.now ?? (() => new Date());
  const desk = requireRole('operator', 'supervisor', 'admin');

  const view = (cb: Callback, clear: boolean) => ({
    id: cb.id,
    callId: cb.callId,
    phone: cb.phone === null ? null : clear ? cb.phone : maskPhone(cb.phone),
    topicId: cb.topicId,
    source: cb.source,
    state: cb.state,
    dueAt: cb.dueAt?.toISOString() ?? null,
    attempts: cb.attempts,
    maxAttempts: cb.maxAttempts,
    lastResult: cb.lastResult,
    outcome: cb.outcome,
    note: cb.note,
    operatorId: cb.operatorId,
    /** The inquiry whose answer the operator is to read out (source 'inquiry'). */
    inquiryId: typeof cb.context.inquiryId === 'number' ? cb.context.inquiryId : null,
    createdAt: cb.createdAt.toISOString(),
    updatedAt: cb.updatedAt.toISOString(),
  });
  const clearFor = (role: string) => role === 'supervisor' || role === 'admin';

  /** Due now: into the operator queue at once; later: the worker's delayed job (the sweep as the fallback). */
  const wake = async (cb: Callback) => {
    if (cb.state !== 'pending' && cb.state !== 'scheduled') return;
    if (!cb.dueAt || cb.dueAt.getTime() <= now().getTime()) {
      await callbacks.enqueueDue(cb.id);
      return;
    }
    await opts
      .schedule?.(cb)
      .catch((err: Error) =>
        opts.log?.warn({ err: err.message, callbackId: cb.id }, 'callback not scheduled now; the sweep will'),
      );
  };

  app.get(
    '/api/desk/callbacks',
    {
      preHandler: desk,
      schema: {
        tags: ['callbacks'],
        summary: 'Обратные звонки',
        querystring: Type.Object({ state: Type.Optional(Type.Union(STATES.map((s) => Type.Literal(s)))) }),
      },
    },
    async (request) => {
      const staff = request.staff!;
      const state = request.query.state as CallbackState | undefined;
      const list = await callbacks.list(state ? { state } : {});
      const clear = clearFor(staff.role);
      if (clear)
        await writeAudit(sql, staff.login, 'callback.list', state ?? 'all', {
          count: list.length,
        });
      return { callbacks: list.map((cb) => view(cb, clear)) };
    },
  );

  app.post(
    '/api/desk/callbacks',
    {
      preHandler: desk,
      schema: {
        tags: ['callbacks'],
        summary: 'Заказать обратный звонок',
        body: Type.Object(
          {
            phone: Phone,
            dueAt: Type.Optional(Type.Union([When, Type.Null()])),
            callId: Type.Optional(Type.Union([TextId, Type.Null()])),
            topicId: Type.Optional(Type.Union([TextId, Type.Null()])),
            note: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const staff = request.staff!;
      const body = request.body;
      const dueAt = parseDue(body.dueAt);
      const cb = await callbacks.create({
        phone: body.phone,
        source: 'operator',
        callId: body.callId ?? null,
        topicId: body.topicId ?? null,
        dueAt: dueAt ?? null,
        note: body.note ?? null,
        context: { createdBy: staff.login },
      });
      await writeAudit(sql, staff.login, 'callback.create', cb.id, {
        dueAt: cb.dueAt?.toISOString() ?? null,
        callId: cb.callId,
      });
      await wake(cb);
      reply.code(201);
      return { callback: view((await callbacks.get(cb.id)) ?? cb, clearFor(staff.role)) };
    },
  );

  app.put(
    '/api/desk/callbacks/:id',
    {
      preHandler: desk,
      schema: {
        tags: ['callbacks'],
        summary: 'Изменить или отменить обратный звонок',
        params: Type.Object({ id: TextId }),
        body: Type.Object(
          {
            dueAt: Type.Optional(Type.Union([When, Type.Null()])),
            phone: Type.Optional(Phone),
            state: Type.Optional(Type.Union([Type.Literal('cancelled'), Type.Literal('done')])),
            note: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const staff = request.staff!;
      const body = request.body;
      const dueAt = parseDue(body.dueAt);
      const cb = await callbacks.edit(
        request.params.id,
        {
          ...(dueAt !== undefined ? { dueAt } : {}),
          ...(body.phone !== undefined ? { phone: body.phone } : {}),
          ...(body.state !== undefined ? { state: body.state } : {}),
          ...(body.note !== undefined ? { note: body.note } : {}),
        },
        staff.login,
      );
      await writeAudit(sql, staff.login, 'callback.edit', cb.id, {
        fields: Object.keys(body).sort(),
        ...(body.state ? { state: body.state } : {}),
        ...(body.dueAt !== undefined ? { dueAt: cb.dueAt?.toISOString() ?? null } : {}),
      });
      await wake(cb);
      return { callback: view((await callbacks.get(cb.id)) ?? cb, clearFor(staff.role)) };
    },
  );
}
