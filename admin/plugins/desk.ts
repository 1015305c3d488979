import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  callsFromNumber,
  getCall,
  recordOperatorClose,
  recordOperatorTaken,
  saveOperatorNote,
} from '../../calls/records.js';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import { inquiriesOfCaller } from '../../inquiries/list.js';
import type { KnowledgeBaseReader } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import { type Operator, type OperatorQueue, operatorByLogin, queuedCall } from '../../telephony/queue.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';
import { type DeskPhone, deskPhone } from './desk-phone.js';
import { eventStreams, type StreamTiming } from './desk-sse.js';
import {
  answersOf,
  callEnded,
  callerOf,
  conversationState,
  deskState,
  entitiesOf,
  intentsOf,
  seesNumbers,
  transcriptOf,
  transfersOf,
} from './desk-view.js';
import { deskWall } from './desk-wall.js';

/**
 * What the desk needs of the web chat (voicebot/channels/text ChatSessions implements it): one object in
 * `serve`, shared with the chat plugin, so the operator's words reach the citizen's open chat.
 */
export interface DeskChats {
  /** The operator took the chat: the citizen sees «К разговору подключился оператор Имя». false when the
   *  chat is not live in this process (the citizen left). */
  operatorJoined(callId: string, operator: { id: string; name: string }): Promise<boolean>;
  /** Stored as a turn who='operator' and shown to the citizen at once; CHAT_ENDED when the chat is over. */
  operatorSays(callId: string, operator: { id: string; name: string }, text: string): Promise<void>;
  /** The operator closed the conversation: the citizen is told «Оператор завершил разговор…», the chat ends. */
  operatorClosed(callId: string, operator: { id: string; name: string }): Promise<void>;
  /** Tells the desk that a chat changed (a citizen's message, the citizen left), to push the transcript. */
  onChange(listener: (callId: string) => void): () => void;
}

export type { DeskPhone } from './desk-phone.js';

export interface DeskPluginOptions {
  sql: Sql;
  queue: OperatorQueue;
  kb: KnowledgeBaseReader;
  /** The web chat's sessions; without them a chat offer can be accepted and closed, not written to. */
  chats?: DeskChats;
  /** The region's time zone (the KB's): the wall's figures are over its «today». */
  timeZone: () => Promise<string>;
  /** Telephony's acts on live calls (CallControl), once telephony runs in this process; absent: 503. */
  phone?: () => DeskPhone | undefined;
  now?: () => Date;
  streams?: StreamTiming;
}

/** What the citizen reads when the operator hands the chat to another queue. */
export const TRANSFER_TEXT = 'Переводим вас к другому специалисту';

const CallParams = Type.Object({ callId: TextId });
const Reason = Type.String({ minLength: 1, maxLength: 200 });

/**
 * The operator desk (../shared/contracts/desk-api.md, DESK-SPEC.md): presence, offers pushed and accepted,
 * the conversation with its context package and the caller's history, messages to a chat, the note, the close
 * with an outcome from the KB, a transfer to another queue, the approved scripts. An operator is the ACD's
 * operator row whose login is theirs (made on first use). Every act is audited; so is every opening of a
 * conversation's context (personal data). The wall, the supervisor's acts and management are desk-wall.ts.
 */
export async function deskPlugin(app: TypedApp, opts: DeskPluginOptions): Promise<void> {
  const { sql, queue, kb, chats } = opts;
  const now = opts.now ?? (() => new Date());
  const streams = eventStreams(app, opts.streams);
  const desk = requireRole('operator', 'supervisor');

  /** The signed-in user's operator row; made on first use only where the user sets up their desk. */
  async function mine(request: FastifyRequest, create: true): Promise<Operator>;
  async function mine(request: FastifyRequest, create: false): Promise<Operator | null>;
  async function mine(request: FastifyRequest, create: boolean): Promise<Operator | null> {
    const staff = request.staff!;
    return create ? queue.operatorForLogin(staff.login, staff.name) : operatorByLogin(sql, staff.login);
  }
  const who = (op: Operator) => ({ id: op.id, name: op.name });
  const audit = (
    request: FastifyRequest,
    action: string,
    object?: string,
    details?: Record<string, unknown>,
  ) => writeAudit(sql, request.staff!.login, action, object, details);

  /** The queue's record of a call (404 when it was never queued). */
  async function record(callId: string) {
    const call = await queuedCall(sql, callId);
    if (!call) throw new OtklikError('NOT_FOUND', 'Вызов не найден');
    return call;
  }

  /** The call as this operator's open conversation: 409 when it is not theirs (or not open). */
  async function ownOpen(request: FastifyRequest, callId: string) {
    const call = await record(callId);
    const op = await mine(request, false);
    if (!op || call.state !== 'answered' || call.operatorId !== op.id || call.closedAt)
      throw new OtklikError('CONFLICT', 'Это не ваш открытый разговор', { details: { callId } });
    return { call, op };
  }

  app.get(
    '/api/desk/me',
    {
      schema: { tags: ['desk'], summary: 'Оператор на рабочем месте: состояние и очереди' },
      preHandler: desk,
    },
    async (request) => {
      const op = await mine(request, true);
      const state = await deskState(sql, queue, op, request.staff!.role);
      return { operator: state.operator, conversations: state.conversations };
    },
  );

  app.put(
    '/api/desk/presence',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Сменить своё состояние: на линии, перерыв, не в сети',
        body: Type.Object({
          state: Type.Union([Type.Literal('available'), Type.Literal('break'), Type.Literal('offline')]),
          reason: Type.Optional(Reason),
        }),
      },
    },
    async (request) => {
      const op = await mine(request, true);
      const { state, reason } = request.body;
      await queue.setPresence(op.id, state, reason ?? null, { viaDesk: true });
      await audit(request, 'desk.presence', op.id, { state, ...(reason ? { reason } : {}) });
      return { state };
    },
  );

  app.get(
    '/api/desk/offers',
    { schema: { tags: ['desk'], summary: 'Предложенные оператору звонки и чаты' }, preHandler: desk },
    async (request) => {
      const op = await mine(request, false);
      if (!op) return { offers: [] };
      return { offers: (await deskState(sql, queue, op, request.staff!.role)).offers };
    },
  );

  app.post(
    '/api/desk/offers/:callId/accept',
    {
      preHandler: desk,
      schema: { tags: ['desk'], summary: 'Принять предложенный звонок или чат', params: CallParams },
    },
    async (request) => {
      const { callId } = request.params;
      const call = await record(callId);
      const op = await mine(request, false);
      if (!op) throw new OtklikError('CONFLICT', 'Этот вызов вам не предлагается', { details: { callId } });
      await queue.accept(callId, op.id);
      await recordOperatorTaken(sql, callId, who(op));
      let joined: boolean | null = null;
      if (call.channel === 'text' && chats)
        joined = await chats.operatorJoined(callId, who(op)).catch((err) => {
          request.log.error({ err, callId }, 'the chat did not hear that the operator joined');
          return false;
        });
      await audit(request, 'desk.accept', callId, { operatorId: op.id, channel: call.channel });
      return { callId, state: 'answered' as const, channel: call.channel, chatLive: joined };
    },
  );

  app.post(
    '/api/desk/offers/:callId/decline',
    { preHandler: desk, schema: { tags: ['desk'], summary: 'Отклонить предложение', params: CallParams } },
    async (request) => {
      const { callId } = request.params;
      await record(callId);
      const op = await mine(request, false);
      if (!op) throw new OtklikError('CONFLICT', 'Этот вызов вам не предлагается', { details: { callId } });
      await queue.decline(callId, op.id);
      await audit(request, 'desk.decline', callId, { operatorId: op.id });
      return { callId };
    },
  );

  app.get(
    '/api/desk/conversations/:callId',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Разговор оператора: контекст от бота и реплики',
        params: CallParams,
      },
    },
    async (request) => {
      const { callId } = request.params;
      const call = await record(callId);
      const op = await mine(request, false);
      const role = request.staff!.role;
      const context = call.context as Record<string, unknown>;
      const offer = op ? (await queue.offersFor(op.id)).find((o) => o.callId === callId) : undefined;
      const settings = await queue.queue(call.queueId);
      const card = await getCall(sql, callId);
      const holds = op !== null && call.state === 'answered' && call.operatorId === op.id;
      await audit(request, 'desk.conversation.view', callId, { history: holds || seesNumbers(role) });
      return {
        callId,
        channel: call.channel,
        topicId: call.topicId,
        queueId: call.queueId,
        waitedMs: (call.answeredAt ?? now()).getTime() - call.enqueuedAt.getTime(),
        caller: callerOf(context, role),
        transcript: await transcriptOf(sql, callId, context),
        intents: intentsOf(context),
        expiresAt: offer ? offer.expiresAt.toISOString() : null,
        ringTimeoutMs: settings.ringTimeoutMs,
        state: conversationState(call),
        answeredAt: call.answeredAt,
        operatorId: call.operatorId,
        entities: entitiesOf(context),
        answers: await answersOf(kb, context),
        note: card?.operatorNote ?? null,
        transfers: transfersOf(context),
        callEnded: await callEnded(sql, callId),
        history:
          holds || seesNumbers(role) ? await historyOf(callId, context, card?.callerNumber ?? null) : null,
      };
    },
  );

  /** The caller's earlier calls and inquiries, by their number. */
  async function historyOf(callId: string, context: Record<string, unknown>, cardNumber: string | null) {
    const n = context.callerNumber ?? context.from ?? cardNumber;
    if (typeof n !== 'string' || n === '') return { calls: [], inquiries: [] };
    const calls = await callsFromNumber(sql, n, { except: callId });
    const inquiries = await inquiriesOfCaller(sql, n, [callId, ...calls.map((c) => c.id)]);
    return {
      calls: calls.map((c) => ({
        id: c.id,
        startedAt: c.startedAt,
        channel: c.channel,
        outcome: c.operatorOutcome ?? c.outcome,
      })),
      inquiries: inquiries.map((i) => ({
        id: i.id,
        number: String(i.id),
        status: i.status,
        question: i.question,
        createdAt: i.createdAt,
      })),
    };
  }

  app.post(
    '/api/desk/conversations/:callId/messages',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Сообщение оператора гражданину в чате',
        params: CallParams,
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 4000 }) }),
      },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { call, op } = await ownOpen(request, callId);
      if (call.channel !== 'text')
        throw new OtklikError('CONFLICT', 'Сообщения можно писать только в чат, это телефонный разговор');
      if (!chats) throw new OtklikError('UNAVAILABLE', 'Чат недоступен на этом сервере');
      const text = request.body.text.trim();
      if (!text) throw new OtklikError('VALIDATION_FAILED', 'Пустое сообщение');
      await chats.operatorSays(callId, who(op), text);
      await audit(request, 'desk.message', callId, { operatorId: op.id, length: text.length });
      return reply.code(201).send({ callId, text, at: now().toISOString() });
    },
  );

  app.post(
    '/api/desk/conversations/:callId/note',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Заметка оператора к разговору',
        params: CallParams,
        body: Type.Object({ note: Type.String({ maxLength: 4000 }) }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const call = await record(callId);
      const op = await mine(request, false);
      // The note may still be finished after the close, by the one who held the conversation.
      if (!op || call.state !== 'answered' || call.operatorId !== op.id)
        throw new OtklikError('CONFLICT', 'Это не ваш разговор', { details: { callId } });
      await saveOperatorNote(sql, callId, request.body.note);
      await audit(request, 'desk.note', callId, { operatorId: op.id });
      return { note: request.body.note };
    },
  );

  app.post(
    '/api/desk/conversations/:callId/close',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Завершить разговор с исходом',
        params: CallParams,
        body: Type.Object({ outcome: TextId, note: Type.Optional(Type.String({ maxLength: 4000 })) }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const { outcome, note } = request.body;
      if (!(await kb.outcomes()).some((o) => o.id === outcome))
        throw new OtklikError('VALIDATION_FAILED', `Неизвестный итог разговора: ${outcome}`, {
          details: { outcome },
        });
      const { call, op } = await ownOpen(request, callId);
      const closed = await queue.closeConversation(callId, op.id, { outcome });
      await recordOperatorClose(sql, callId, { operator: who(op), outcome, note: note ?? null, at: now() });
      if (call.channel === 'text' && chats)
        await chats.operatorClosed(callId, who(op)).catch((err) => {
          if (!isOtklikError(err, 'CHAT_ENDED'))
            request.log.error({ err, callId }, 'the chat was not closed');
        });
      await audit(request, 'desk.close', callId, { operatorId: op.id, outcome });
      return { callId, outcome, note: note ?? null, availableAt: closed.availableAt.toISOString() };
    },
  );

  app.get(
    '/api/desk/outcomes',
    { schema: { tags: ['desk'], summary: 'Список исходов разговора' }, preHandler: desk },
    async () => ({
      outcomes: (await kb.outcomes()).map((o) => ({ id: o.id, title: o.title })),
    }),
  );

  app.get(
    '/api/desk/scripts',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Поиск по утверждённым ответам (подсказки оператору)',
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 200 })),
          topic: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request) => {
      const { q, topic } = request.query;
      return { scripts: await kb.scripts({ ...(q ? { q } : {}), ...(topic ? { topic } : {}) }) };
    },
  );

  app.get(
    '/api/desk/events',
    { schema: { tags: ['desk'], summary: 'Поток событий рабочего места (SSE)' }, preHandler: desk },
    async (request, reply) => {
      const staff = request.staff!;
      const first = await mine(request, true);
      streams.open(request, reply, {
        event: 'desk',
        snapshot: async () =>
          deskState(sql, queue, (await operatorByLogin(sql, staff.login)) ?? first, staff.role),
        subscribe: (changed) => {
          const offQueue = queue.onChange(changed);
          const offChats = chats?.onChange(changed);
          return () => {
            offQueue();
            offChats?.();
          };
        },
      });
    },
  );

  await deskPhone(app, {
    sql,
    queue,
    kb,
    phone: opts.phone,
    now,
    tellChat: async (callId, op) => {
      if (!chats) return;
      await chats.operatorSays(callId, who(op), TRANSFER_TEXT).catch((err) => {
        if (!isOtklikError(err, 'CHAT_ENDED')) throw err;
      });
    },
  });
  await deskWall(app, { sql, queue, timeZone: opts.timeZone, now }, streams);
}
