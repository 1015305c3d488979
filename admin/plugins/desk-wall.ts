import { Type } from 'typebox';
import { OtklikError } from '../../core/errors.js';
import { zonedInstant, zonedParts } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { activeCalls, type OperatorQueue, type OverflowTarget, STRATEGIES } from '../../telephony/queue.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';
import type { EventStreams } from './desk-sse.js';
import { operatorView } from './desk-view.js';

/**
 * The supervisor's side of the desk: the wall (queues with their calls, operators, today's figures; pushed
 * as SSE), changing an operator's presence, moving a waiting call, and managing operators and queues. The
 * wall shows no caller numbers. Every change is audited.
 */
export interface DeskWallOptions {
  sql: Sql;
  queue: OperatorQueue;
  timeZone: () => Promise<string>;
  now: () => Date;
}

const DAY_MS = 86_400_000;
const Presence = Type.Union([Type.Literal('available'), Type.Literal('break'), Type.Literal('offline')]);
const Ms = Type.Union([Type.Integer({ minimum: 1, maximum: 86_400_000 }), Type.Null()]);
const Tier = Type.Integer({ minimum: 1, maximum: 1000 });

export async function deskWall(app: TypedApp, o: DeskWallOptions, streams: EventStreams): Promise<void> {
  const { sql, queue, now } = o;
  const supervisor = requireRole('supervisor');

  async function wall() {
    const at = now();
    const tz = await o.timeZone();
    const from = zonedInstant(zonedParts(at, tz).date, 0, tz);
    const [queues, calls, operators, figures] = await Promise.all([
      queue.queues(),
      activeCalls(sql),
      queue.operators(),
      queue.wallFigures({ from, to: new Date(Math.max(at.getTime() + 1, from.getTime() + DAY_MS)) }),
    ]);
    return {
      queues: queues.map((q) => {
        const mine = calls.filter((c) => c.queueId === q.id);
        const waiting = mine.filter((c) => c.state === 'waiting' || c.state === 'offered');
        return {
          id: q.id,
          name: q.name,
          strategy: q.strategy,
          waitNormMs: q.waitNormMs,
          waiting: waiting.length,
          longestWaitMs: Math.max(0, ...waiting.map((c) => at.getTime() - c.enqueuedAt.getTime())),
          calls: mine.map((c) => ({
            callId: c.callId,
            channel: c.channel,
            topicId: c.topicId,
            waitedMs: (c.answeredAt ?? at).getTime() - c.enqueuedAt.getTime(),
            state: c.state,
            operatorId: c.operatorId,
          })),
        };
      }),
      operators: operators.map((op) => ({
        id: op.id,
        name: op.name,
        login: op.login,
        state: op.state,
        breakReason: op.breakReason,
        stateSince: op.stateSince,
        callsAnswered: op.callsAnswered,
        talkMs: op.talkMs,
      })),
      figures,
    };
  }

  app.get(
    '/api/desk/wall',
    {
      schema: { tags: ['wall'], summary: 'Табло: очереди, операторы и показатели дня' },
      preHandler: supervisor,
    },
    wall,
  );

  app.get(
    '/api/desk/wall/events',
    { schema: { tags: ['wall'], summary: 'Поток обновлений табло (SSE)' }, preHandler: supervisor },
    async (request, reply) => {
      streams.open(request, reply, { event: 'wall', snapshot: wall, subscribe: (c) => queue.onChange(c) });
    },
  );

  app.put(
    '/api/desk/operators/:id/state',
    {
      preHandler: supervisor,
      schema: {
        tags: ['wall'],
        summary: 'Сменить состояние оператора (старший смены)',
        params: Type.Object({ id: TextId }),
        body: Type.Object({
          state: Presence,
          reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { state, reason } = request.body;
      if (!(await queue.operator(id))) throw new OtklikError('NOT_FOUND', `Нет оператора ${id}`);
      await queue.setPresence(id, state, reason ?? null);
      await writeAudit(sql, request.staff!.login, 'desk.operator.state', id, {
        state,
        ...(reason ? { reason } : {}),
      });
      return { state };
    },
  );

  app.post(
    '/api/desk/calls/:callId/move',
    {
      preHandler: supervisor,
      schema: {
        tags: ['wall'],
        summary: 'Переместить ожидающий звонок в другую очередь',
        params: Type.Object({ callId: TextId }),
        body: Type.Object({ queueId: TextId }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const { queueId } = request.body;
      await queue.moveCall(callId, queueId);
      await writeAudit(sql, request.staff!.login, 'desk.call.move', callId, { queueId });
      return { callId, queueId };
    },
  );

  const operatorOut = async (id: string) => {
    const op = await queue.operator(id);
    if (!op) throw new OtklikError('NOT_FOUND', `Нет оператора ${id}`);
    return operatorView(op, await queue.memberships(id));
  };

  app.get(
    '/api/desk/operators',
    { schema: { tags: ['wall'], summary: 'Операторы с их очередями и навыками' }, preHandler: supervisor },
    async () => {
      const ops = await queue.operators();
      return {
        operators: await Promise.all(ops.map(async (op) => operatorView(op, await queue.memberships(op.id)))),
      };
    },
  );

  app.put(
    '/api/desk/operators/:id',
    {
      preHandler: supervisor,
      schema: {
        tags: ['wall'],
        summary: 'Создать или изменить оператора',
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }),
        }),
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          login: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
          sipUri: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()])),
          skills: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 }),
          queues: Type.Optional(
            Type.Array(
              Type.Object({ queueId: TextId, level: Type.Optional(Tier), position: Type.Optional(Tier) }),
              { maxItems: 200 },
            ),
          ),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const b = request.body;
      const created = !(await queue.operator(id));
      await queue.saveOperator({
        id,
        name: b.name,
        skills: b.skills,
        ...(b.login !== undefined ? { login: b.login } : {}),
        ...(b.sipUri !== undefined ? { sipUri: b.sipUri } : {}),
        ...(b.queues ? { queues: b.queues } : {}),
      });
      await writeAudit(sql, request.staff!.login, 'desk.operator.save', id, { created });
      return { operator: await operatorOut(id) };
    },
  );

  app.delete(
    '/api/desk/operators/:id',
    {
      preHandler: supervisor,
      schema: { tags: ['wall'], summary: 'Удалить оператора', params: Type.Object({ id: TextId }) },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await queue.operator(id))) throw new OtklikError('NOT_FOUND', `Нет оператора ${id}`);
      await queue.removeOperator(id);
      await writeAudit(sql, request.staff!.login, 'desk.operator.remove', id);
      return { id };
    },
  );

  // Operators read the queues too: the transfer of a conversation names one.
  app.get(
    '/api/desk/queues',
    {
      schema: { tags: ['wall'], summary: 'Очереди и их настройки' },
      preHandler: requireRole('supervisor', 'operator'),
    },
    async () => ({
      queues: await queue.queues(),
      strategies: STRATEGIES,
    }),
  );

  app.put(
    '/api/desk/queues/:id',
    {
      preHandler: supervisor,
      schema: {
        tags: ['wall'],
        summary: 'Создать или изменить очередь',
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
        }),
        body: Type.Object({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          strategy: Type.Optional(Type.Union(STRATEGIES.map((s) => Type.Literal(s)))),
          waitNormMs: Type.Optional(Ms),
          wrapUpMs: Type.Optional(
            Type.Union([Type.Integer({ minimum: 0, maximum: 3_600_000 }), Type.Null()]),
          ),
          maxNoAnswer: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.Null()])),
          ringTimeoutMs: Type.Optional(Ms),
          overflowAfterMs: Type.Optional(Type.Union([Ms, Type.Null()])),
          overflowTo: Type.Optional(
            Type.Union([
              Type.String({ pattern: '^(queue:[A-Za-z0-9._-]{1,100}|inquiry|callback)$' }),
              Type.Null(),
            ]),
          ),
          announceMax: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.Null()])),
        }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { overflowTo, ...rest } = request.body;
      await queue.upsertQueue({
        id,
        ...rest,
        ...(overflowTo !== undefined ? { overflowTo: overflowTo as OverflowTarget | null } : {}),
      });
      await writeAudit(sql, request.staff!.login, 'desk.queue.save', id, { ...request.body });
      return { queue: (await queue.queues()).find((q) => q.id === id) };
    },
  );

  app.delete(
    '/api/desk/queues/:id',
    {
      preHandler: supervisor,
      schema: { tags: ['wall'], summary: 'Удалить очередь', params: Type.Object({ id: TextId }) },
    },
    async (request) => {
      const { id } = request.params;
      await queue.removeQueue(id);
      await writeAudit(sql, request.staff!.login, 'desk.queue.remove', id);
      return { id };
    },
  );
}
