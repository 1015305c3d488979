/**
 * The text chat API for a web widget (fastify plugin), the same sessions and records as calls:
 *   POST /api/chat/sessions                 {caller?}           → {id, messages, ended, outcome}
 *   POST /api/chat/sessions/:id/messages    {text} | {dtmf}     → what the citizen sees since the last turn:
 *                                                                 messages {who:'bot'|'operator', text, at,
 *                                                                 name (operator's), notice (the bot's line
 *                                                                 that an operator joined or left)}; 409
 *                                                                 {code:'CHAT_ENDED'} once the chat is over
 *   DELETE /api/chat/sessions/:id                               → the caller leaves
 *   GET  /api/chat/sessions/:id/transcript                      → the stored record, turn by turn
 *   WS   /api/chat/ws   client: {type:'start', caller?} | {type:'attach', id} | {type:'message', text}
 *                       | {type:'dtmf', digits} | {type:'hangup'}
 *                       server: {type:'started', id} | {type:'attached', id} | {type:'bot', text, at, notice?}
 *                       | {type:'operator', text, at, name} | {type:'ended', outcome}
 *                       | {type:'error', code, message}  (the socket stays open: the citizen can go on).
 *                       Operator messages and the end of a chat (the operator closed it, the idle timeout)
 *                       come as they happen, not only in reply to the citizen.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { getCall, getTurns } from '../../../calls/records.js';
import { isOtklikError, OtklikError, otklikErrorReply } from '../../../core/errors.js';
import { MAX_CALLER_TEXT_CHARS } from '../limits.js';
import { type ChatEvent, ChatRouter } from './chat-router.js';
import {
  CALLER_NUMBER,
  CHAT_ENDED_MESSAGE,
  type ChatDeps,
  ChatSessions,
  type ChatSessionsOptions,
  type ChatTurn,
} from './chat-sessions.js';

/**
 * The chat's sessions run on `deps` like calls do; its queue wait norm (deps.queueWaitNormMs, config
 * telephony.queueWaitNormMs) is required by the type, and the admin app's list of areas checks the options
 * against it (admin/server.ts adminArea), so nothing is checked at run time.
 */
export interface TextChatOptions extends ChatSessionsOptions {
  deps: ChatDeps;
  /**
   * The live chats, shared with the operator desk (cli/services.ts creates one and gives it to both); unset,
   * the plugin makes its own on `deps` (tests, a chat without a desk). Either way the plugin closes them.
   */
  chats?: ChatSessions;
  /**
   * The chats as every node shares them (chat-router.ts, on Redis), made on `chats` by cli/services.ts;
   * unset, a router of this process alone. Whoever made it closes it.
   */
  router?: ChatRouter;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

/** A chat frame is a short JSON object; anything bigger is refused by the socket itself. */
const MAX_FRAME_BYTES = 64 * 1024;

/** The chat's own refusals in the API's one error shape (the plugin also runs on a bare fastify). */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (
    !isOtklikError(err, 'NOT_FOUND') &&
    !isOtklikError(err, 'VALIDATION_FAILED') &&
    !isOtklikError(err, 'CHAT_ENDED')
  )
    throw err;
  const { status, body } = otklikErrorReply(err);
  return reply.code(status).send(body);
}

type ClientMessage = { type?: unknown; text?: unknown; digits?: unknown; caller?: unknown; id?: unknown };

/** A WebSocket frame as a client message, or the Russian reason it is not one. */
function parseFrame(data: unknown, isBinary: boolean): ClientMessage | string {
  if (isBinary) return 'Принимаются только текстовые сообщения (JSON), не двоичные';
  let msg: unknown;
  try {
    msg = JSON.parse(String(data));
  } catch {
    return 'Сообщение должно быть JSON-объектом, например {"type":"message","text":"..."}';
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg))
    return 'Сообщение должно быть JSON-объектом с полем type, например {"type":"start"}';
  return msg as ClientMessage;
}

async function textChatPlugin(app: FastifyInstance, opts: TextChatOptions): Promise<void> {
  const sessions = opts.chats ?? new ChatSessions(opts.deps, opts);
  const chats =
    opts.router ??
    (await ChatRouter.start({
      sessions,
      sql: opts.deps.sql,
      log: opts.deps.log,
      instanceId: opts.deps.instanceId ?? 'local',
    }));
  if (!app.hasDecorator('websocketServer'))
    await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.addHook('onClose', async () => sessions.closeAll());

  app.post<{ Body: { caller?: string } | undefined }>(
    '/api/chat/sessions',
    {
      schema: {
        tags: ['chat'],
        summary: 'Начать чат гражданина с ботом',
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { caller: { type: 'string', pattern: CALLER_NUMBER.source } },
        },
      },
    },
    async (req, reply) => reply.code(201).send(await chats.start(req.body?.caller)),
  );

  app.post<{ Params: { id: string }; Body: { text?: string; dtmf?: string } }>(
    '/api/chat/sessions/:id/messages',
    {
      // A NUL or other control character in what the citizen typed is removed, the message kept (ChatSessions.say).
      config: { acceptsControlChars: true },
      schema: {
        tags: ['chat'],
        summary: 'Сообщение или нажатая клавиша гражданина; ответ бота',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: {
            text: { type: 'string', minLength: 1, maxLength: MAX_CALLER_TEXT_CHARS },
            dtmf: { type: 'string', pattern: '^[0-9*#]{1,20}$' },
          },
        },
      },
    },
    async (req, reply) => {
      try {
        const body = req.body;
        return await (body.text !== undefined
          ? chats.say(req.params.id, body.text)
          : chats.press(req.params.id, body.dtmf!));
      } catch (err) {
        // A chat ended long ago is gone from memory but not from the record: still «ended», not «unknown».
        if (isOtklikError(err, 'NOT_FOUND') && (await endedChat(opts.deps.sql, req.params.id)))
          return sendError(reply, new OtklikError('CHAT_ENDED', CHAT_ENDED_MESSAGE));
        return sendError(reply, err);
      }
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/chat/sessions/:id',
    { schema: { tags: ['chat'], summary: 'Гражданин завершает чат', params: idParams } },
    async (req, reply) => {
      try {
        return await chats.hangup(req.params.id);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/chat/sessions/:id/transcript',
    { schema: { tags: ['chat'], summary: 'Переписка чата', params: idParams } },
    async (req, reply) => {
      const call = await getCall(opts.deps.sql, req.params.id);
      if (!call || (call.channel !== 'text' && call.channel !== 'simulator'))
        return sendError(reply, notFound());
      const turns = await getTurns(opts.deps.sql, call.id);
      return {
        id: call.id,
        status: call.status,
        outcome: call.outcome,
        startedAt: call.startedAt.toISOString(),
        transcript: turns.map((t) => ({ who: t.who, text: t.text, atMs: t.atMs, intent: t.intent ?? null })),
      };
    },
  );

  app.get(
    '/api/chat/ws',
    {
      schema: { tags: ['chat'], summary: 'Чат через WebSocket (те же сообщения, что и по HTTP)' },
      websocket: true,
    },
    (socket: WebSocket) => {
      let id: string | null = null;
      let detach: () => void = () => {};
      // `ended` goes out once per chat, whether a reply of the citizen's or the operator's close ended it.
      let endedSent: string | null = null;
      const send = (msg: unknown) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
      };
      const report = (turn: ChatTurn) => {
        if (!turn.ended || endedSent === turn.id) return;
        endedSent = turn.id;
        send({ type: 'ended', outcome: turn.outcome });
      };
      // Shared over Redis, the end comes as an event after the bot's last words; the reply may overtake them.
      const replied = (turn: ChatTurn) => {
        if (!chats.shared) report(turn);
      };
      const attach = async (chatId: string) => {
        detach();
        id = chatId;
        const off = await chats.watch(chatId, (e: ChatEvent) => {
          if (e.type === 'ended') {
            if (id === chatId)
              report({ id: chatId, messages: [], ended: true, outcome: e.outcome as ChatTurn['outcome'] });
          } else send(e);
        });
        if (id !== chatId) off();
        else detach = off;
      };
      socket.on('message', (data, isBinary) => {
        void (async () => {
          const msg = parseFrame(data, isBinary);
          if (typeof msg === 'string') {
            send({ type: 'error', code: 'VALIDATION_FAILED', message: msg });
            return;
          }
          try {
            if (msg.type === 'start') {
              if (msg.caller !== undefined && typeof msg.caller !== 'string')
                throw new OtklikError('VALIDATION_FAILED', 'Номер телефона (caller) должен быть строкой');
              const turn = await chats.start(msg.caller);
              await attach(turn.id);
              send({ type: 'started', id: turn.id });
              for (const m of turn.messages) send({ type: 'bot', text: m.text, at: m.at });
              report(turn);
            } else if (msg.type === 'attach' && typeof msg.id === 'string') {
              await attach(msg.id);
              send({ type: 'attached', id: msg.id });
            } else if (!id) {
              send({
                type: 'error',
                code: 'VALIDATION_FAILED',
                message: 'Сначала начните сеанс: {"type":"start"}',
              });
            } else if (msg.type === 'message' && typeof msg.text === 'string') {
              replied(await chats.say(id, msg.text));
            } else if (msg.type === 'dtmf' && typeof msg.digits === 'string') {
              replied(await chats.press(id, msg.digits));
            } else if (msg.type === 'hangup') {
              replied(await chats.hangup(id));
            } else {
              send({
                type: 'error',
                code: 'VALIDATION_FAILED',
                message: 'Неизвестный тип сообщения: ожидается start, attach, message, dtmf или hangup',
              });
            }
          } catch (err) {
            if (isOtklikError(err)) {
              const { body } = otklikErrorReply(err);
              send({ type: 'error', code: body.code, message: body.message });
            } else {
              opts.deps.log.error({ err }, 'chat websocket message failed');
              send({ type: 'error', code: 'INTERNAL', message: 'Внутренняя ошибка, повторите сообщение' });
            }
          }
        })();
      });
      socket.on('close', () => detach());
    },
  );
}

async function endedChat(sql: ChatDeps['sql'], id: string): Promise<boolean> {
  const call = await getCall(sql, id);
  return call !== null && call.channel === 'text' && call.status !== 'active';
}

function notFound(): OtklikError {
  return new OtklikError('NOT_FOUND', 'Сеанс чата не найден');
}

export default fp(textChatPlugin, { name: 'otklik-text-chat', fastify: '5.x' });
export { textChatPlugin };
