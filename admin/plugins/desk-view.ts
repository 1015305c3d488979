import { getCall, getTurns } from '../../calls/records.js';
import { maskPhone } from '../../core/log.js';
import type { KnowledgeBaseReader } from '../../kb/knowledge-base.js';
import type { Sql } from '../../store/sql.js';
import {
  type ConversationRow,
  conversationsOf,
  type Membership,
  type Offer,
  type Operator,
  type OperatorQueue,
  type QueueRecord,
} from '../../telephony/queue.js';
import type { Role } from '../users.js';

/**
 * The desk's shapes (../shared/contracts/desk-api.md and DESK-SPEC.md): what an operator sees of an offer, a
 * conversation and themselves, built from the queue's record, the call's turns and the context package the
 * bot handed over. Caller numbers are masked for operators (152-FZ: least personal data), clear for
 * supervisors and admins, who call people back.
 */

export interface TranscriptLine {
  who: 'caller' | 'bot' | 'operator';
  text: string;
  atMs: number;
  intent?: string;
}

export interface OfferView {
  callId: string;
  channel: 'phone' | 'text';
  topicId: string | null;
  queueId: string;
  waitedMs: number;
  caller: string | null;
  transcript: TranscriptLine[];
  intents: Array<{ intent: string; confidence: number }>;
  expiresAt: string | null;
  ringTimeoutMs: number;
}

export const seesNumbers = (role: Role) => role === 'supervisor' || role === 'admin';

type Context = Record<string, unknown>;
const list = (v: unknown): Array<Record<string, unknown>> =>
  Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Array<Record<string, unknown>>) : [];

export function callerOf(context: Context, role: Role): string | null {
  const n = context.callerNumber ?? context.from;
  if (typeof n !== 'string' || n === '') return null;
  return seesNumbers(role) ? n : maskPhone(n);
}

/** The conversation so far: the call's stored turns (the chat's grow), else the package's transcript. */
export async function transcriptOf(sql: Sql, callId: string, context: Context): Promise<TranscriptLine[]> {
  const turns = await getTurns(sql, callId);
  const lines =
    turns.length > 0
      ? turns.map((t) => ({ who: t.who, text: t.text, atMs: t.atMs, intent: t.intent ?? null }))
      : list(context.transcript).map((t) => ({
          who: t.who as TranscriptLine['who'],
          text: String(t.text ?? ''),
          atMs: Number(t.atMs ?? 0),
          intent: typeof t.intent === 'string' ? t.intent : null,
        }));
  return lines.map(({ intent, ...l }) => (intent ? { ...l, intent } : l));
}

export function intentsOf(context: Context): Array<{ intent: string; confidence: number }> {
  return list(context.intents).map((i) => ({ intent: String(i.intent), confidence: Number(i.confidence) }));
}

export async function offerView(sql: Sql, offer: Offer, role: Role): Promise<OfferView> {
  return {
    callId: offer.callId,
    channel: offer.channel,
    topicId: offer.topicId,
    queueId: offer.queueId,
    waitedMs: offer.waitedMs,
    caller: callerOf(offer.context, role),
    transcript: await transcriptOf(sql, offer.callId, offer.context),
    intents: intentsOf(offer.context),
    expiresAt: offer.expiresAt.toISOString(),
    ringTimeoutMs: offer.expiresAt.getTime() - offer.offeredAt.getTime(),
  };
}

/** Whether the citizen's side is over: the call hung up, the chat left or ended. */
export async function callEnded(sql: Sql, callId: string): Promise<boolean> {
  const call = await getCall(sql, callId);
  return call !== null && (call.endedAt !== null || call.status !== 'active');
}

export async function summaryOf(sql: Sql, c: ConversationRow) {
  return {
    callId: c.callId,
    channel: c.channel,
    topicId: c.topicId,
    queueId: c.queueId,
    state: c.closedAt ? ('closed' as const) : ('answered' as const),
    answeredAt: c.answeredAt,
    callEnded: await callEnded(sql, c.callId),
    // How many turns the record has: a citizen's new message changes it, so the desk's stream pushes and
    // the page re-reads the conversation.
    turns: (await getTurns(sql, c.callId)).length,
  };
}

export function operatorView(op: Operator, queues: Membership[]) {
  return {
    id: op.id,
    name: op.name,
    login: op.login,
    state: op.state,
    breakReason: op.breakReason,
    stateSince: op.stateSince,
    sipUri: op.sipUri,
    skills: op.skills,
    queues,
  };
}

/** The operator's desk: themselves, what is offered to them, their conversations (GET /me, the SSE event). */
export async function deskState(sql: Sql, queue: OperatorQueue, op: Operator, role: Role) {
  const offers = await queue.offersFor(op.id);
  return {
    operator: operatorView(op, await queue.memberships(op.id)),
    offers: await Promise.all(offers.map((o) => offerView(sql, o, role))),
    conversations: await Promise.all((await conversationsOf(sql, op.id)).map((c) => summaryOf(sql, c))),
  };
}

/** The conversation's state as the desk names it. */
export function conversationState(r: QueueRecord): string {
  if (r.state === 'answered') return r.closedAt ? 'closed' : 'answered';
  return r.state;
}

/** The approved answers the caller already got, with their intents' titles. */
export async function answersOf(kb: KnowledgeBaseReader, context: Context) {
  return Promise.all(
    list(context.answers).map(async (a) => {
      const intent = String(a.intent);
      return {
        intent,
        answerVersion: String(a.answerVersion ?? ''),
        title: (await kb.intent(intent))?.title ?? intent,
      };
    }),
  );
}

export function entitiesOf(context: Context) {
  return list(context.entities).map((e) => ({
    type: String(e.type),
    text: String(e.text ?? ''),
    value: (typeof e.value === 'number' ? e.value : String(e.value ?? '')) as string | number,
  }));
}

/**
 * The conversation's earlier hand-overs (context.transfers, written by the ACD): who passed it on, where to,
 * and the briefing for the colleague who takes it next.
 */
export function transfersOf(context: Record<string, unknown>): {
  operatorId: string | null;
  fromQueue: string | null;
  toQueue: string | null;
  toOperator: string | null;
  briefing: string | null;
  at: string | null;
}[] {
  const list = Array.isArray(context.transfers) ? (context.transfers as Record<string, unknown>[]) : [];
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return list.map((t) => ({
    operatorId: text(t.operatorId),
    fromQueue: text(t.fromQueue),
    toQueue: text(t.toQueue),
    toOperator: text(t.toOperator),
    briefing: text(t.briefing),
    at: text(t.at),
  }));
}
