import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { recordOperatorClose, recordOperatorTaken } from '../../calls/records.js';
import { isOtklikError, OtklikError } from '../../core/errors.js';
import type { KnowledgeBaseReader } from '../../kb/knowledge-base.js';
import type { ForwardResult } from '../../media/call-leg.js';
import type { Sql } from '../../store/sql.js';
import { type Operator, type OperatorQueue, operatorByLogin, queuedCall } from '../../telephony/queue.js';
import { writeAudit } from '../audit.js';
import { TextId, type TypedApp } from '../typed.js';
import { requireRole } from './auth.js';

/**
 * What the desk needs of telephony to act on a live phone call (telephony's CallControl implements it, on the
 * node that holds the caller's channel). Each act throws UNAVAILABLE when this node does not hold the call.
 */
export interface DeskPhone {
  /** The operator's leg on hold (the caller hears the hold music), or back. */
  hold(callId: string, on: boolean): Promise<void>;
  /** Ends the call; the operator's conversation stays open for its outcome. */
  hangup(callId: string): Promise<void>;
  /**
   * Blind transfer: the target (SIP URI or number) rings, and answered, the caller is bridged to it and the
   * operator's leg released; busy / no answer / failure change nothing.
   */
  transfer(callId: string, to: { target: string; operatorId?: string }): Promise<ForwardResult>;
  /** The conversation went to another queue: the operator's leg released, the caller waits again. */
  backToQueue(callId: string): Promise<void>;
  /** A supervisor's phone listens in (FreeSWITCH eavesdrop): both sides heard. */
  listen(callId: string, supervisorSipUri: string): Promise<ForwardResult>;
}

export interface DeskPhoneOptions {
  sql: Sql;
  queue: OperatorQueue;
  kb: KnowledgeBaseReader;
  /** Telephony of this process, once it runs (it starts after the HTTP server); absent: 503. */
  phone?: (() => DeskPhone | undefined) | undefined;
  /** Told to a chat handed to another queue (the desk's TRANSFER_TEXT), before the transfer. */
  tellChat: (callId: string, op: Operator) => Promise<void>;
  now: () => Date;
}

export const NO_TELEPHONY = 'Телефония не запущена на этом узле';
export const NOT_FOR_CHAT = 'Для чата недоступно';

const CallParams = Type.Object({ callId: TextId });
const Briefing = Type.String({ maxLength: 2000 });
const SipUri = Type.String({ minLength: 5, maxLength: 200, pattern: '^sips?:[^\\s]+$' });

const FAILED: Record<ForwardResult['status'], string> = {
  answered: '',
  busy: 'занято',
  no_answer: 'нет ответа',
  failed: 'вызов не прошёл',
};

/**
 * The desk's acts on a live conversation beyond its text: hold, hang-up, transfer to a queue, an operator or an
 * agency (blind, with an optional briefing for the colleague: context.transfers[].briefing, shown on their
 * conversation), and the supervisor's listening in. The operator who holds the conversation acts on it, or a
 * supervisor/admin. Every act is audited, refusals of telephony included.
 */
export async function deskPhone(app: TypedApp, o: DeskPhoneOptions): Promise<void> {
  const { sql, queue, kb } = o;
  const desk = requireRole('operator', 'supervisor');
  const audit = (request: FastifyRequest, action: string, object: string, details: Record<string, unknown>) =>
    writeAudit(sql, request.staff!.login, action, object, details);
  const supervises = (request: FastifyRequest) =>
    request.staff!.role === 'supervisor' || request.staff!.role === 'admin';

  /** The open conversation the signed-in user may act on, with its operator. */
  async function live(request: FastifyRequest, callId: string) {
    const call = await queuedCall(sql, callId);
    if (!call) throw new OtklikError('NOT_FOUND', 'Вызов не найден');
    const mine = await operatorByLogin(sql, request.staff!.login);
    const theirs = call.state === 'answered' && !call.closedAt && call.operatorId !== null;
    if (!theirs || (!supervises(request) && call.operatorId !== mine?.id))
      throw new OtklikError('CONFLICT', 'Это не ваш открытый разговор', { details: { callId } });
    const op = await queue.operator(call.operatorId!);
    if (!op) throw new OtklikError('CONFLICT', 'Оператор разговора не найден', { details: { callId } });
    return { call, op };
  }

  function phoneOf(channel: string): DeskPhone {
    if (channel === 'text') throw new OtklikError('CONFLICT', NOT_FOR_CHAT);
    const phone = o.phone?.();
    if (!phone) throw new OtklikError('UNAVAILABLE', NO_TELEPHONY);
    return phone;
  }

  /** Runs a telephony act, auditing a refusal before it reaches the client. */
  async function act<T>(request: FastifyRequest, action: string, callId: string, run: () => Promise<T>) {
    try {
      return await run();
    } catch (err) {
      await audit(request, action, callId, {
        refused: isOtklikError(err) ? err.code : 'ERROR',
        reason: (err as Error).message,
      });
      throw err;
    }
  }

  const unanswered = (who: string, r: ForwardResult) =>
    new OtklikError('CONFLICT', `${who} не ответил: ${FAILED[r.status]}`, {
      details: { status: r.status, ...(r.status === 'failed' ? { reason: r.reason } : {}) },
    });

  // Whom a phone conversation can go to: colleagues with a phone who are free now (the desk's transfer form).
  app.get(
    '/api/desk/colleagues',
    { schema: { tags: ['desk'], summary: 'Коллеги для перевода звонка' }, preHandler: desk },
    async (request) => {
      const me = await operatorByLogin(sql, request.staff!.login);
      return {
        operators: (await queue.operators())
          .filter((op) => op.id !== me?.id && op.sipUri && op.state === 'available')
          .map((op) => ({ id: op.id, name: op.name, state: op.state })),
      };
    },
  );

  app.post(
    '/api/desk/conversations/:callId/hold',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Поставить звонок на удержание или снять с него',
        params: CallParams,
        body: Type.Object({ on: Type.Boolean() }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const { on } = request.body;
      await act(request, 'desk.hold', callId, async () => {
        const { call } = await live(request, callId);
        await phoneOf(call.channel).hold(callId, on);
      });
      await audit(request, 'desk.hold', callId, { on });
      return { callId, held: on };
    },
  );

  app.post(
    '/api/desk/conversations/:callId/hangup',
    {
      preHandler: desk,
      schema: { tags: ['desk'], summary: 'Завершить телефонный звонок', params: CallParams },
    },
    async (request) => {
      const { callId } = request.params;
      await act(request, 'desk.hangup', callId, async () => {
        const { call } = await live(request, callId);
        await phoneOf(call.channel).hangup(callId);
      });
      await audit(request, 'desk.hangup', callId, {});
      return { callId, callEnded: true };
    },
  );

  app.post(
    '/api/desk/conversations/:callId/transfer',
    {
      preHandler: desk,
      schema: {
        tags: ['desk'],
        summary: 'Перевести звонок: в очередь, коллеге или в ведомство',
        params: CallParams,
        body: Type.Object({
          queueId: Type.Optional(TextId),
          operatorId: Type.Optional(TextId),
          agencyId: Type.Optional(TextId),
          briefing: Type.Optional(Briefing),
        }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const { queueId, operatorId, agencyId } = request.body;
      const briefing = request.body.briefing?.trim() || null;
      const targets = [queueId, operatorId, agencyId].filter((t) => t !== undefined);
      if (targets.length !== 1)
        throw new OtklikError('VALIDATION_FAILED', 'Укажите одно: очередь, оператора или ведомство');
      const { call, op } = await live(request, callId);
      const details = { operatorId: op.id, from: call.queueId, briefing: briefing !== null };
      if (queueId !== undefined) {
        if (!(await queue.queues()).some((q) => q.id === queueId))
          throw new OtklikError('NOT_FOUND', `Нет очереди ${queueId}`);
        if (call.channel === 'text') await o.tellChat(callId, op);
        else await act(request, 'desk.transfer', callId, () => phoneOf(call.channel).backToQueue(callId));
        await queue.transferConversation(callId, op.id, queueId, { briefing });
        await audit(request, 'desk.transfer', callId, { ...details, to: queueId });
        return { callId, queueId };
      }
      const phone = phoneOf(call.channel);
      if (operatorId !== undefined) {
        const target = await queue.operator(operatorId);
        if (!target) throw new OtklikError('NOT_FOUND', `Нет оператора ${operatorId}`);
        if (target.id === op.id) throw new OtklikError('CONFLICT', 'Разговор уже у этого оператора');
        if (!target.sipUri)
          throw new OtklikError('CONFLICT', `У оператора ${target.name} нет SIP-адреса для звонков`);
        if (target.state !== 'available')
          throw new OtklikError('CONFLICT', `Оператор ${target.name} сейчас не может принять звонок`, {
            details: { state: target.state },
          });
        const sipUri = target.sipUri;
        const r = await act(request, 'desk.transfer', callId, () =>
          phone.transfer(callId, { target: sipUri, operatorId: target.id }),
        );
        if (r.status !== 'answered') {
          await audit(request, 'desk.transfer', callId, {
            ...details,
            toOperator: target.id,
            status: r.status,
          });
          throw unanswered(`Оператор ${target.name}`, r);
        }
        await queue.handOverConversation(callId, op.id, target.id, briefing);
        await recordOperatorTaken(sql, callId, { id: target.id, name: target.name });
        await audit(request, 'desk.transfer', callId, { ...details, toOperator: target.id });
        return { callId, operatorId: target.id };
      }
      const agency = await kb.agency(agencyId!);
      if (!agency) throw new OtklikError('NOT_FOUND', `Нет ведомства ${agencyId}`);
      if (!agency.forwardNumber)
        throw new OtklikError('CONFLICT', `У ведомства «${agency.name}» нет номера для перевода звонков`);
      const open = await kb.agencyOpen(agency.id, o.now());
      if (!open.open)
        throw new OtklikError('CONFLICT', `Ведомство «${agency.name}» сейчас не работает`, {
          details: { opensAt: open.nextChange?.toISOString() ?? null },
        });
      const number = agency.forwardNumber;
      const r = await act(request, 'desk.transfer', callId, () => phone.transfer(callId, { target: number }));
      if (r.status !== 'answered') {
        await audit(request, 'desk.transfer', callId, { ...details, toAgency: agency.id, status: r.status });
        throw unanswered(`Ведомство «${agency.name}»`, r);
      }
      // The caller is with the agency: the operator's conversation ends with the outcome «forwarded».
      await queue.closeConversation(callId, op.id, { outcome: 'forwarded' });
      await recordOperatorClose(sql, callId, {
        operator: { id: op.id, name: op.name },
        outcome: 'forwarded',
        note: null,
        at: o.now(),
      });
      await audit(request, 'desk.transfer', callId, { ...details, toAgency: agency.id });
      return { callId, agencyId: agency.id };
    },
  );

  app.post(
    '/api/desk/calls/:callId/listen',
    {
      preHandler: requireRole('supervisor'),
      schema: {
        tags: ['desk'],
        summary: 'Прослушать звонок (старший смены)',
        params: CallParams,
        body: Type.Object({ sipUri: SipUri }),
      },
    },
    async (request) => {
      const { callId } = request.params;
      const { sipUri } = request.body;
      const r = await act(request, 'desk.listen', callId, async () => {
        const { call } = await live(request, callId);
        return phoneOf(call.channel).listen(callId, sipUri);
      });
      await audit(request, 'desk.listen', callId, { sipUri, status: r.status });
      if (r.status !== 'answered') throw unanswered('Телефон супервизора', r);
      return { callId, listening: true };
    },
  );
}
