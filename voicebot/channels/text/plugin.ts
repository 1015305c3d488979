/**
 * The text chat API for a web widget (fastify plugin), the same sessions and records as calls:
 *   POST /api/chat/sessions                 {caller?}           → {id, messages, ended, outcome}
 *   POST /api/chat/sessions/:id/messages    {text} | {dtmf}     → the bot's reply to this turn
 *   DELETE /api/chat/sessions/:id                               → the caller leaves
 *   GET  /api/chat/sessions/:id/transcript                      → the stored record, turn by turn
 *   WS   /api/chat/ws   client: {type:'start', caller?} | {type:'attach', id} | {type:'message', text}
 *                       | {type:'dtmf', digits} | {type:'hangup'}
 *                       server: {type:'started', id} | {type:'bot', text, at} | {type:'ended', outcome}
 *                       | {type:'error', message}
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { isOtklikError, OtklikError } from '../../../core/errors.js';
import { getCall, getTurns } from '../../records/calls.js';
import { MAX_CALLER_TEXT_CHARS } from '../limits.js';
import { type ChatDeps, ChatSessions, type ChatSessionsOptions, type ChatTurn } from './chat-sessions.js';

export interface TextChatOptions extends ChatSessionsOptions {
  deps: ChatDeps;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isOtklikError(err, 'NOT_FOUND'))
    return reply.code(404).send({ error: 'not_found', message: 'Сеанс чата не найден' });
  if (isOtklikError(err, 'VALIDATION_FAILED'))
    return reply.code(400).send({ error: 'bad_request', message: err.message });
  throw err;
}

async function textChatPlugin(app: FastifyInstance, opts: TextChatOptions): Promise<void> {
  const chats = new ChatSessions(opts.deps, opts);
  if (!app.hasDecorator('websocketServer')) await app.register(websocket);
  app.addHook('onClose', async () => chats.closeAll());

  app.post<{ Body: { caller?: string } | undefined }>(
    '/api/chat/sessions',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { caller: { type: 'string', pattern: '^\\+?[0-9]{5,15}$' } },
        },
      },
    },
    async (req, reply) => reply.code(201).send(await chats.start(req.body?.caller)),
  );

  app.post<{ Params: { id: string }; Body: { text?: string; dtmf?: string } }>(
    '/api/chat/sessions/:id/messages',
    {
      schema: {
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
        return sendError(reply, err);
      }
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/chat/sessions/:id',
    { schema: { params: idParams } },
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
    { schema: { params: idParams } },
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
        transcript: turns.map((t) => ({ who: t.who, text: t.text, at_ms: t.atMs, intent: t.intent ?? null })),
      };
    },
  );

  app.get('/api/chat/ws', { websocket: true }, (socket: WebSocket) => {
    let id: string | null = null;
    let detach: () => void = () => {};
    const send = (msg: unknown) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
    };
    const attach = (chatId: string) => {
      detach();
      id = chatId;
      detach = chats
        .leg(chatId)
        .onBotMessage((m) => send({ type: 'bot', text: m.text, at: m.at.toISOString() }));
    };
    const report = (turn: ChatTurn) => {
      if (turn.ended) send({ type: 'ended', outcome: turn.outcome });
    };
    socket.on('message', (data) => {
      void (async () => {
        let msg: { type?: string; text?: string; digits?: string; caller?: string; id?: string };
        try {
          msg = JSON.parse(String(data));
        } catch {
          send({ type: 'error', message: 'Сообщение должно быть JSON-объектом' });
          return;
        }
        try {
          if (msg.type === 'start') {
            const turn = await chats.start(typeof msg.caller === 'string' ? msg.caller : undefined);
            attach(turn.id);
            send({ type: 'started', id: turn.id });
            for (const m of turn.messages) send({ type: 'bot', text: m.text, at: m.at });
            report(turn);
          } else if (msg.type === 'attach' && typeof msg.id === 'string') {
            attach(msg.id);
            send({ type: 'attached', id: msg.id });
          } else if (!id) {
            send({ type: 'error', message: 'Сначала начните сеанс: {"type":"start"}' });
          } else if (msg.type === 'message' && typeof msg.text === 'string') {
            report(await chats.say(id, msg.text));
          } else if (msg.type === 'dtmf' && typeof msg.digits === 'string') {
            report(await chats.press(id, msg.digits));
          } else if (msg.type === 'hangup') {
            report(await chats.hangup(id));
          } else {
            send({ type: 'error', message: 'Неизвестный тип сообщения' });
          }
        } catch (err) {
          send({ type: 'error', message: isOtklikError(err) ? err.message : 'Внутренняя ошибка' });
          if (!isOtklikError(err)) opts.deps.log.error({ err }, 'chat websocket message failed');
        }
      })();
    });
    socket.on('close', () => detach());
  });
}

function notFound(): OtklikError {
  return new OtklikError('NOT_FOUND', 'no such chat');
}

export default fp(textChatPlugin, { name: 'otklik-text-chat', fastify: '5.x' });
export { textChatPlugin };
