import { OtklikError } from '../core/errors.js';
import type { EnqueueOutcome, HandOff, QueuedCall, QueuePosition } from '../media/handoff.js';
import type { Sql } from '../store/sql.js';
import { Callbacks } from './acd/callbacks.js';
import { type EnqueueRequest, enqueueCall, queuedCall, staffed } from './acd/calls.js';
import { abandonCall, endWait, releaseOperator } from './acd/endings.js';
import { type QueueStats, queueStats, type WallFigures, wallFigures } from './acd/figures.js';
import {
  ensureQueues,
  handOverConversation,
  type Membership,
  memberships,
  moveCall,
  type OperatorInput,
  operatorForLogin,
  type QueueMember,
  queuesWithMembers,
  removeOperator,
  removeQueue,
  requeueTransferred,
  saveOperator,
  upsertOperator,
} from './acd/manage.js';
import {
  type AcdQueue,
  DEFAULT_ANNOUNCE_MAX,
  DEFAULT_MAX_NO_ANSWER,
  DEFAULT_RING_TIMEOUT_MS,
  DEFAULT_WRAP_UP_MS,
  loadQueue,
  type Operator,
  type OperatorRow,
  type Presence,
  type QueueCallState,
  type QueueDefaults,
  toOperator,
} from './acd/model.js';
import { acceptOffer, endOffer, type Offer, offerCall, sweep } from './acd/offers.js';
import { type CloseResult, closeConversation, setPresence } from './acd/operators.js';
import { type AcdEvent, acdEvents, offersFor } from './acd/reads.js';
import { type QueueSettings, saveQueue } from './acd/settings.js';
import type { AcdChange, Assignment, Channel, QueueOptions } from './acd/types.js';
import {
  claimAcceptedCallbacks,
  markBridged,
  type OverflowDue,
  overflowDue,
  overflowToQueue,
  queuePosition,
  requeueCall,
  type Unbridged,
  unbridgedCalls,
} from './acd/waiting.js';

export {
  type Callback,
  type CallbackEdit,
  type CallbackResult,
  type CallbackSettings,
  type CallbackSource,
  type CallbackState,
  Callbacks,
  callbackIdOf,
  type NewCallback,
} from './acd/callbacks.js';
export { type EnqueueRequest, enqueueCall, type QueueRecord, queuedCall } from './acd/calls.js';
export {
  type QueueDayFigures,
  type QueueStats,
  queueFiguresByDay,
  type WallFigures,
} from './acd/figures.js';
export type { Membership, OperatorInput, QueueMember } from './acd/manage.js';
export type {
  AcdQueue,
  Operator,
  OperatorState,
  OverflowTarget,
  Presence,
  QueueCallState,
} from './acd/model.js';
export type { Offer } from './acd/offers.js';
export {
  type AcdEvent,
  type ActiveCall,
  activeCalls,
  type ConversationRow,
  conversationsOf,
  operatorByLogin,
} from './acd/reads.js';
export {
  type CallbackReportRow,
  callbackReportRows,
  type QueueReportRow,
  queueReportRows,
} from './acd/report-rows.js';
export type { QueueSettings } from './acd/settings.js';
export { STRATEGIES, type Strategy, seededRandom } from './acd/strategies.js';
export type { AcdChange, Assignment, Channel, QueueOptions } from './acd/types.js';
export type { OverflowDue, Unbridged } from './acd/waiting.js';

/**
 * The operator queue (ACD), in PostgreSQL so that every telephony node shares it. Queues (one per KB topic
 * that has one, plus `default`) each have a strategy (telephony/acd/strategies.ts, mod_callcenter's), a wait
 * norm, a wrap-up time, max-no-answer and a ring timeout; operators join queues with tiers, or take a topic's
 * calls by skill. A dispatcher round (`assignNext`) ends lapsed offers and wrap-ups, then offers waiting calls,
 * the higher priority first, then the longest waiting; a call past its queue's norm is opened to any available
 * operator. The waiting caller's side (position, callback request, overflow, the desk-accepted bridge) is in
 * telephony/acd/waiting.ts; telephony's call control decides what the caller hears.
 * Every state change is an event row (telephony_acd_events) for reports; the acts themselves are in
 * telephony/acd/ (offers.ts: the locking; operators.ts: presence and close; manage.ts: operators, queues and
 * moves; endings.ts: hang-ups and callbacks). Every act of this process is told to `onChange` listeners
 * (the desk's push); other processes' acts reach the desk by its re-reading the store.
 * It is the voice bot's hand-off (media/handoff.ts): a queued call's `context` is everything the bot learned.
 */

export class OperatorQueue implements HandOff {
  readonly waitNormMs: number;
  readonly defaults: QueueDefaults;
  private readonly now: () => Date;
  private readonly random: (() => number) | undefined;
  private readonly priorityOf: (call: QueuedCall) => number;
  /** The callbacks (create, list, edit; due ones into the ACD; an attempt's result). */
  readonly callbacks: Callbacks;
  private readonly listeners = new Set<(e: AcdChange) => void>();

  constructor(
    private readonly sql: Sql,
    opts: QueueOptions,
  ) {
    if (!(opts.waitNormMs > 0)) throw new OtklikError('CONFIG_INVALID', 'queue wait norm must be positive');
    this.waitNormMs = opts.waitNormMs;
    this.defaults = {
      waitNormMs: opts.waitNormMs,
      wrapUpMs: opts.wrapUpMs ?? DEFAULT_WRAP_UP_MS,
      maxNoAnswer: opts.maxNoAnswer ?? DEFAULT_MAX_NO_ANSWER,
      ringTimeoutMs: opts.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS,
      announceMax: opts.announceMax ?? DEFAULT_ANNOUNCE_MAX,
    };
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random;
    this.priorityOf = opts.priorityOf ?? (() => 0);
    this.callbacks = new Callbacks(sql, {
      now: this.now,
      defaults: this.defaults,
      ...(opts.callbacks ? { settings: opts.callbacks } : {}),
    });
  }

  private at(now: Date = this.now()) {
    return { defaults: this.defaults, now };
  }

  /** Hears every ACD act of this process (after it is stored); returns the unsubscribe. */
  onChange(listener: (e: AcdChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: AcdChange): void {
    for (const l of this.listeners) {
      // A listener's failure (a closed stream) is its own: the act is done and stored.
      try {
        l(e);
      } catch {}
    }
  }

  /** A CLI operator (id, name, SIP URI, skills); the desk's management uses saveOperator. */
  upsertOperator(op: { id: string; name: string; sipUri: string; skills: string[] }): Promise<void> {
    return upsertOperator(this.sql, op);
  }

  /**
   * Creates or changes an operator with their login, SIP URI (none: chats only), skills and, when given, all
   * their queue memberships; CONFLICT when the login is another operator's.
   */
  async saveOperator(op: OperatorInput): Promise<Operator> {
    const saved = await saveOperator(this.sql, op, this.now());
    this.emit({ event: 'presence', operatorId: op.id });
    return saved;
  }

  /** The operator leaves the line: offline, out of every queue, removed (their history stays in the events). */
  async removeOperator(id: string): Promise<void> {
    await removeOperator(this.sql, id, this.at());
    this.emit({ event: 'presence', operatorId: id });
  }

  /** The operator row of a staff login, created on first use (id = login, no SIP URI, offline). */
  async operatorForLogin(login: string, name: string): Promise<Operator> {
    return operatorForLogin(this.sql, login, name, this.now());
  }

  async memberships(operatorId: string): Promise<Membership[]> {
    return memberships(this.sql, operatorId);
  }

  /** Every queue with its settings (defaults filled in) and members. */
  async queues(): Promise<Array<AcdQueue & { members: QueueMember[] }>> {
    return queuesWithMembers(this.sql, this.defaults);
  }

  /** Removes an empty queue (CONFLICT while calls are in it; `default` always stays). */
  async removeQueue(id: string): Promise<void> {
    await removeQueue(this.sql, id);
  }

  /** A supervisor moves a waiting call to another queue; it keeps its place by the time it has waited. */
  async moveCall(callId: string, queueId: string): Promise<void> {
    await moveCall(this.sql, callId, queueId, this.at());
    this.emit({ event: 'moved', callId });
  }

  /**
   * The operator transfers their conversation to another queue: closed for them (wrap-up follows), and the
   * call waits anew there with its context, the previous operator noted in `context.transfers`.
   */
  async transferConversation(
    callId: string,
    operatorId: string,
    queueId: string,
    opts: { briefing?: string | null } = {},
  ): Promise<void> {
    const { now } = this.at();
    const rows = await this.sql.query('SELECT 1 FROM telephony_acd_queues WHERE id = $1', [queueId]);
    if (rows.length === 0) throw new OtklikError('NOT_FOUND', `Нет очереди ${queueId}`);
    await closeConversation(this.sql, callId, operatorId, { outcome: 'transferred' }, this.at(now));
    await requeueTransferred(this.sql, callId, operatorId, queueId, now, opts.briefing ?? null);
    this.emit({ event: 'moved', callId, operatorId });
  }

  /** A live phone conversation went to a colleague's phone: theirs now (acd/manage.ts handOverConversation). */
  async handOverConversation(
    callId: string,
    from: string,
    to: string,
    briefing: string | null,
  ): Promise<void> {
    await handOverConversation(this.sql, { callId, from, to, briefing }, this.at());
    this.emit({ event: 'closed', callId, operatorId: from });
    this.emit({ event: 'accepted', callId, operatorId: to });
  }

  /**
   * The operator's own presence (the desk's PUT /api/desk/presence): available, break (reason) or offline.
   * `viaDesk` marks them a desk user: their phone offers wait for the desk's accept.
   */
  async setPresence(
    operatorId: string,
    state: Presence,
    reason: string | null = null,
    opts: { viaDesk?: boolean } = {},
  ): Promise<void> {
    await setPresence(this.sql, operatorId, state, reason, { ...this.at(), viaDesk: opts.viaDesk === true });
    this.emit({ event: 'presence', operatorId });
  }

  /** The CLI's older word: `busy` is a break (reason 'busy'). */
  async setOperatorState(id: string, state: Presence | 'busy', reason: string | null = null): Promise<void> {
    if (state === 'busy') return this.setPresence(id, 'break', reason ?? 'busy');
    return this.setPresence(id, state, reason);
  }

  async operators(): Promise<Operator[]> {
    const rows = await this.sql.query<OperatorRow>('SELECT * FROM telephony_operators ORDER BY id');
    return rows.map(toOperator);
  }

  async operator(id: string): Promise<Operator | null> {
    const rows = await this.sql.query<OperatorRow>('SELECT * FROM telephony_operators WHERE id = $1', [id]);
    return rows[0] ? toOperator(rows[0]) : null;
  }

  /** Creates or changes a queue (id: a KB topic id, or `default`); unset fields keep their value. */
  async upsertQueue(q: QueueSettings): Promise<AcdQueue> {
    await saveQueue(this.sql, q);
    return this.queue(q.id);
  }

  /** A queue's settings with the defaults filled in (an unknown id reads as the defaults). */
  /** A queue per KB topic (or other id) that has none yet; existing ones keep their settings. */
  ensureQueues(queues: Array<{ id: string; name: string }>): Promise<string[]> {
    return ensureQueues(this.sql, queues);
  }

  async queue(id: string): Promise<AcdQueue> {
    const { rrLastOperator: _, ...q } = await loadQueue(this.sql, id, this.defaults);
    return q;
  }

  /** Puts the operator in a queue with a tier (level, position: lower first under top-down). */
  async setMember(queueId: string, operatorId: string, tier: { level?: number; position?: number } = {}) {
    await this.sql.query(
      `INSERT INTO telephony_acd_members (queue_id, operator_id, level, position) VALUES ($1, $2, $3, $4)
       ON CONFLICT (queue_id, operator_id) DO UPDATE SET level = EXCLUDED.level, position = EXCLUDED.position`,
      [queueId, operatorId, tier.level ?? 1, tier.position ?? 1],
    );
  }

  async removeMember(queueId: string, operatorId: string): Promise<void> {
    await this.sql.query('DELETE FROM telephony_acd_members WHERE queue_id = $1 AND operator_id = $2', [
      queueId,
      operatorId,
    ]);
  }

  /** Puts a call in the queue; enqueuing the same call again changes nothing. */
  async enqueueCall(req: EnqueueRequest): Promise<void> {
    await enqueueCall(this.sql, req, this.now());
    this.emit({ event: 'enqueued', callId: req.callId });
  }

  /**
   * The voice bot's hand-off. A phone call always waits (its wait norm and the callback take over when nobody
   * comes). A web chat waits only while some operator is signed in (the desk takes chats): with nobody there
   * it is unserved, so the bot offers the citizen an inquiry instead of a wait nobody ends.
   */
  async enqueue(call: QueuedCall): Promise<EnqueueOutcome> {
    const text = call.channel === 'text';
    if (text && !(await this.staffed('text'))) return 'unserved';
    await enqueueCall(
      this.sql,
      {
        callId: call.callId,
        topicId: call.topicId,
        context: { ...call.context },
        priority: this.priorityOf(call),
        channel: text ? 'text' : 'phone',
      },
      call.at,
    );
    this.emit({ event: 'enqueued', callId: call.callId });
    return 'queued';
  }

  /**
   * Some operator is signed in (any state but offline) who can take this channel: a chat goes to the desk,
   * a phone call needs the operator's SIP URI (an operator without one takes chats only).
   */
  staffed(channel: QueuedCall['channel']): Promise<boolean> {
    return staffed(this.sql, channel === 'text' ? 'text' : 'phone');
  }

  /**
   * One dispatcher round: lapsed offers and wrap-ups end, then waiting calls are offered, the higher priority
   * first, then the longest waiting. Returns the offers made (several for one call under ring-all).
   * `channel` offers only calls of that channel (telephony's dispatcher 'phone', the desk's 'text'); a phone
   * call is never offered to an operator without a SIP URI.
   */
  async assignNext(opts: { channel?: Channel } = {}): Promise<Assignment[]> {
    const now = this.now();
    const swept = await sweep(this.sql, this.at(now));
    for (const l of swept.lapsed) this.emit({ event: 'no_answer', ...l });
    for (const operatorId of swept.wrapUpsEnded) this.emit({ event: 'presence', operatorId });
    const waiting = await this.sql.query<{ call_id: string }>(
      `SELECT call_id FROM telephony_queue_calls
        WHERE state = 'waiting' AND ($1::text IS NULL OR channel = $1)
          AND EXISTS (SELECT 1 FROM telephony_operators
                       WHERE state = 'available' AND ($1::text IS DISTINCT FROM 'phone' OR sip_uri IS NOT NULL))
        ORDER BY priority DESC, enqueued_at, call_id`,
      [opts.channel ?? null],
    );
    const out: Assignment[] = [];
    for (const { call_id } of waiting) {
      const { offers, freeLeft } = await offerCall(this.sql, call_id, {
        ...this.at(now),
        ...(this.random ? { random: this.random } : {}),
      });
      for (const { operator, ...offer } of offers) {
        out.push({ ...offer, operator: toOperator(operator) });
        this.emit({ event: 'offered', callId: offer.callId, operatorId: offer.operatorId });
      }
      // Nobody left to offer to (a call another dispatcher holds says nothing: -1).
      if (freeLeft === 0) break;
    }
    return out;
  }

  /** What is offered to this operator now (the desk's GET /api/desk/offers). */
  offersFor(operatorId: string): Promise<Offer[]> {
    return offersFor(this.sql, operatorId, this.now());
  }

  /** The operator takes the offered call; CONFLICT when someone else took it or it no longer waits. */
  async accept(callId: string, operatorId: string): Promise<void> {
    await acceptOffer(this.sql, callId, operatorId, this.at());
    this.emit({ event: 'accepted', callId, operatorId });
  }

  /** The operator declines: the call keeps its place; the decline counts toward max-no-answer. */
  async decline(callId: string, operatorId: string): Promise<void> {
    const ended = await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'declined', this.at()));
    if (!ended)
      throw new OtklikError('CONFLICT', 'Этот вызов вам сейчас не предлагается', { details: { callId } });
    this.emit({ event: 'declined', callId, operatorId });
  }

  /** Takes an offer back without holding it against the operator (their phone was not rung after all). */
  async withdrawOffer(callId: string, operatorId: string): Promise<void> {
    await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'withdrawn', this.at()));
    this.emit({ event: 'withdrawn', callId, operatorId });
  }

  /** The operator ends the conversation; wrap-up follows (the queue's), then available. */
  async closeConversation(
    callId: string,
    operatorId: string,
    close: { outcome?: string | null } = {},
  ): Promise<CloseResult> {
    const closed = await closeConversation(this.sql, callId, operatorId, close, this.at());
    this.emit({ event: 'closed', callId, operatorId });
    return closed;
  }

  /** Telephony's word for an accept: the operator's phone answered the call's one offer. */
  async answered(callId: string): Promise<void> {
    const offers = await this.offerRows(callId);
    if (offers.length !== 1)
      throw new OtklikError('CONFLICT', `call ${callId} has ${offers.length} offers, not one`);
    await this.accept(callId, offers[0]!);
  }

  /** The offered phone did not pick up (or was busy): the call goes back to its place in the queue. */
  async declined(callId: string): Promise<void> {
    for (const operatorId of await this.offerRows(callId)) {
      await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'no_answer', this.at()));
      this.emit({ event: 'no_answer', callId, operatorId });
    }
  }

  private async offerRows(callId: string): Promise<string[]> {
    const rows = await this.sql.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id',
      [callId],
    );
    return rows.map((r) => r.operator_id);
  }

  /**
   * The caller hung up while waiting (or while an operator's phone was ringing). `at` is the call's own
   * clock, the one it was queued on (the voice bot's simulated calls), so the wait is measured on it.
   */
  async abandon(callId: string, at: Date = this.now()): Promise<void> {
    if (await abandonCall(this.sql, callId, this.waitNormMs, this.at(at)))
      this.emit({ event: 'abandoned', callId });
  }

  /**
   * Telephony's word for the end of an operator's phone call: their open conversation is closed (wrap-up
   * follows); an operator on a call without one is simply available.
   */
  async releaseOperator(operatorId: string, at: Date = this.now()): Promise<void> {
    await releaseOperator(this.sql, operatorId, this.at(at));
    this.emit({ event: 'closed', operatorId });
  }

  /** The caller priority `priorityOf` gives a call telephony queues itself (the bot could not take it). */
  priorityFor(call: { callId: string; reason: string; callerNumber: string | null; at: Date }): number {
    const context = { topic: null, intents: [], entities: [], transcript: [], answers: [] };
    const { callId, reason, callerNumber, at } = call;
    return this.priorityOf({
      callId,
      channel: 'sip',
      topicId: null,
      at,
      context: { ...context, reason, callerNumber },
    });
  }

  /** Where the call stands in its queue, and its expected wait (acd/waiting.ts says how it is estimated). */
  async position(callId: string, at: Date = this.now()): Promise<QueuePosition | null> {
    return queuePosition(this.sql, callId, this.defaults, at);
  }

  /**
   * The waiting caller is to be called back on `phone`: the wait ends (state 'callback', measured against the
   * norm like any end), offers are withdrawn, and the callback request is written with the call's topic and
   * context (r-callback's jobs place it). `source`: 'caller' (key 1), 'queue' (registered for the caller).
   * false when the call no longer waits.
   */
  async requestCallback(
    callId: string,
    req: { phone: string; at?: Date; source?: string },
  ): Promise<boolean> {
    const at = req.at ?? this.now();
    return endWait(this.sql, callId, 'callback', this.waitNormMs, this.at(at), async (tx, call) => {
      await tx.query(
        `INSERT INTO telephony_callbacks (call_id, phone, topic_id, context, created_at, source)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6) ON CONFLICT (call_id) DO NOTHING`,
        [callId, req.phone, call.topic_id, JSON.stringify(call.context), at, req.source ?? 'caller'],
      );
      return { source: req.source ?? 'caller' };
    });
  }

  /** The wait ends in the bot's inquiry flow (no operator came, no number to call back). */
  async toInquiry(callId: string, at: Date = this.now()): Promise<boolean> {
    return endWait(this.sql, callId, 'inquiry', this.waitNormMs, this.at(at), async () => ({}));
  }

  /** A desk-accepted phone call whose bridge failed goes back to the head of its queue (acd/waiting.ts). */
  async requeue(callId: string, at: Date = this.now()): Promise<boolean> {
    return requeueCall(this.sql, callId, at);
  }

  /** Desk-accepted phone calls among `callIds` (the ones this node holds) still to be bridged. */
  async unbridged(callIds: string[]): Promise<Unbridged[]> {
    return unbridgedCalls(this.sql, callIds);
  }

  /** Desk-accepted callbacks not placed yet, claimed for this node (telephony places them). */
  claimAcceptedCallbacks(at: Date = this.now()) {
    return claimAcceptedCallbacks(this.sql, at);
  }

  async markBridged(callId: string, at: Date = this.now()): Promise<void> {
    await markBridged(this.sql, callId, at);
  }

  /** Calls among `callIds` that waited their queue's overflow time and have not overflowed yet. */
  async overflowDue(callIds: string[], at: Date = this.now()): Promise<OverflowDue[]> {
    return overflowDue(this.sql, callIds, at);
  }

  /** The call overflows into `queueId` keeping its wait; null: marks the overflow done without a move. */
  async overflowToQueue(callId: string, queueId: string | null, at: Date = this.now()): Promise<boolean> {
    return overflowToQueue(this.sql, callId, queueId, at);
  }

  async callState(callId: string): Promise<{ state: QueueCallState; operatorId: string | null } | null> {
    const call = await queuedCall(this.sql, callId);
    return call ? { state: call.state, operatorId: call.operatorId } : null;
  }

  /** Statistics over calls enqueued in [from, to) (one queue's where `queueId` is given). */
  async stats(range: { from?: Date; to?: Date; queueId?: string } = {}): Promise<QueueStats> {
    const norm = range.queueId ? (await this.queue(range.queueId)).waitNormMs : this.waitNormMs;
    return queueStats(this.sql, norm, range);
  }

  /** The wall's figures over calls enqueued in [from, to), with the default queue's norm. */
  async wallFigures(range: { from: Date; to: Date }): Promise<WallFigures> {
    return wallFigures(this.sql, range, (await this.queue('default')).waitNormMs);
  }

  /** The ACD's events, oldest first (for reports and the supervisor's wall). */
  async events(filter: { callId?: string; operatorId?: string } = {}): Promise<AcdEvent[]> {
    return acdEvents(this.sql, filter);
  }
}
