import { OtklikError } from '../core/errors.js';
import type { EnqueueOutcome, HandOff, QueuedCall } from '../media/handoff.js';
import type { Sql } from '../store/sql.js';
import { type CallbackSettings, Callbacks } from './acd/callbacks.js';
import { type EnqueueRequest, enqueueCall, queuedCall } from './acd/calls.js';
import { type QueueStats, queueStats } from './acd/figures.js';
import {
  type AcdQueue,
  acdEvent,
  DEFAULT_MAX_NO_ANSWER,
  DEFAULT_RING_TIMEOUT_MS,
  DEFAULT_WRAP_UP_MS,
  loadQueue,
  type Operator,
  type OperatorRow,
  type Presence,
  type QueueCallRow,
  type QueueCallState,
  type QueueDefaults,
  toOperator,
} from './acd/model.js';
import { acceptOffer, endOffer, type Offer, offerCall, sweep } from './acd/offers.js';
import { type CloseResult, closeConversation, setPresence } from './acd/operators.js';
import { isStrategy, type Strategy } from './acd/strategies.js';

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
export { type QueueDayFigures, type QueueStats, queueFiguresByDay } from './acd/figures.js';
export type { AcdQueue, Operator, OperatorState, Presence, QueueCallState } from './acd/model.js';
export type { Offer } from './acd/offers.js';
export { STRATEGIES, type Strategy, seededRandom } from './acd/strategies.js';

/**
 * The operator queue (ACD), in PostgreSQL so that every telephony node shares it. Queues (one per KB topic
 * that has one, plus `default`) each have a strategy (telephony/acd/strategies.ts, mod_callcenter's), a wait
 * norm, a wrap-up time, max-no-answer and a ring timeout; operators join queues with tiers, or take a topic's
 * calls by skill. A dispatcher round (`assignNext`) ends lapsed offers and wrap-ups, then offers waiting calls,
 * the higher priority first, then the longest waiting; a call past its queue's norm is opened to any available
 * operator, and one past `callbackAfterMs` becomes a callback request, so nobody is left waiting forever.
 * Every state change is an event row (telephony_acd_events) for reports; the acts themselves are in
 * telephony/acd/ (offers.ts: the locking; operators.ts: presence and close).
 * It is the voice bot's hand-off (media/handoff.ts): a queued call's `context` is everything the bot learned.
 */

/** An offer as telephony's dispatcher reads it: whom to ring. */
export interface Assignment extends Offer {
  operator: Operator;
}

export interface QueueOptions {
  /** How long a call may wait for an operator with the right skill (QUEUE_WAIT_NORM_MS, e.g. 60 000 ms). */
  waitNormMs: number;
  /** After this wait the call becomes a callback request; defaults to twice the norm. */
  callbackAfterMs?: number;
  /** Defaults for queues that do not set their own (model.ts has mod_callcenter's). */
  wrapUpMs?: number;
  maxNoAnswer?: number;
  ringTimeoutMs?: number;
  now?: () => Date;
  /** For the random strategy; a seeded one (seededRandom) in tests. */
  random?: () => number;
  /**
   * The caller priority of a hand-off (higher first): emergency-adjacent reasons, VIP numbers from the
   * configuration; the composition root decides. 0 for every call when unset.
   */
  priorityOf?: (call: QueuedCall) => number;
  /** Callbacks: attempt spacing, attempts, their ACD priority (telephony/acd/callbacks.ts has the defaults). */
  callbacks?: Partial<CallbackSettings>;
}

export interface QueueSettings {
  id: string;
  name?: string;
  strategy?: Strategy;
  waitNormMs?: number | null;
  wrapUpMs?: number | null;
  maxNoAnswer?: number | null;
  ringTimeoutMs?: number | null;
}

export interface AcdEvent {
  at: Date;
  callId: string | null;
  operatorId: string | null;
  queueId: string | null;
  event: string;
  details: Record<string, unknown>;
}

export class OperatorQueue implements HandOff {
  readonly waitNormMs: number;
  readonly callbackAfterMs: number;
  readonly defaults: QueueDefaults;
  private readonly now: () => Date;
  private readonly random: (() => number) | undefined;
  private readonly priorityOf: (call: QueuedCall) => number;
  /** The callbacks (create, list, edit; due ones into the ACD; an attempt's result). */
  readonly callbacks: Callbacks;

  constructor(
    private readonly sql: Sql,
    opts: QueueOptions,
  ) {
    if (!(opts.waitNormMs > 0)) throw new OtklikError('CONFIG_INVALID', 'queue wait norm must be positive');
    this.waitNormMs = opts.waitNormMs;
    this.callbackAfterMs = opts.callbackAfterMs ?? opts.waitNormMs * 2;
    this.defaults = {
      waitNormMs: opts.waitNormMs,
      wrapUpMs: opts.wrapUpMs ?? DEFAULT_WRAP_UP_MS,
      maxNoAnswer: opts.maxNoAnswer ?? DEFAULT_MAX_NO_ANSWER,
      ringTimeoutMs: opts.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS,
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

  async upsertOperator(op: { id: string; name: string; sipUri: string; skills: string[] }): Promise<void> {
    if (!op.id || !op.sipUri)
      throw new OtklikError('VALIDATION_FAILED', 'operator needs an id and a SIP URI');
    await this.sql.query(
      `INSERT INTO telephony_operators (id, name, sip_uri, skills) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sip_uri = EXCLUDED.sip_uri, skills = EXCLUDED.skills,
         updated_at = now()`,
      [op.id, op.name, op.sipUri, JSON.stringify(op.skills)],
    );
  }

  /** The operator's own presence (the desk's PUT /api/desk/presence): available, break (reason) or offline. */
  async setPresence(operatorId: string, state: Presence, reason: string | null = null): Promise<void> {
    await setPresence(this.sql, operatorId, state, reason, this.at());
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
    if (!q.id) throw new OtklikError('VALIDATION_FAILED', 'a queue needs an id');
    if (q.strategy !== undefined && !isStrategy(q.strategy))
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Неизвестная стратегия распределения: ${String(q.strategy)}`,
      );
    const has = (v: unknown) => v !== undefined;
    await this.sql.query(
      `INSERT INTO telephony_acd_queues (id, name, strategy, wait_norm_ms, wrap_up_ms, max_no_answer, ring_timeout_ms)
       VALUES ($1, COALESCE($2, $1), COALESCE($3, 'longest-idle-agent'), $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET
         name = COALESCE($2, telephony_acd_queues.name),
         strategy = COALESCE($3, telephony_acd_queues.strategy),
         wait_norm_ms = CASE WHEN $8 THEN $4 ELSE telephony_acd_queues.wait_norm_ms END,
         wrap_up_ms = CASE WHEN $9 THEN $5 ELSE telephony_acd_queues.wrap_up_ms END,
         max_no_answer = CASE WHEN $10 THEN $6 ELSE telephony_acd_queues.max_no_answer END,
         ring_timeout_ms = CASE WHEN $11 THEN $7 ELSE telephony_acd_queues.ring_timeout_ms END,
         updated_at = now()`,
      [
        q.id,
        q.name ?? null,
        q.strategy ?? null,
        q.waitNormMs ?? null,
        q.wrapUpMs ?? null,
        q.maxNoAnswer ?? null,
        q.ringTimeoutMs ?? null,
        has(q.waitNormMs),
        has(q.wrapUpMs),
        has(q.maxNoAnswer),
        has(q.ringTimeoutMs),
      ],
    );
    return this.queue(q.id);
  }

  /** A queue's settings with the defaults filled in (an unknown id reads as the defaults). */
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
    return 'queued';
  }

  /**
   * Some operator is signed in (any state but offline) who can take this channel: a chat goes to the desk,
   * a phone call needs the operator's SIP URI (an operator without one takes chats only).
   */
  async staffed(channel: QueuedCall['channel']): Promise<boolean> {
    const rows = await this.sql.query(
      `SELECT 1 FROM telephony_operators
        WHERE state <> 'offline' AND ($1::boolean OR COALESCE(sip_uri, '') <> '') LIMIT 1`,
      [channel === 'text'],
    );
    return rows.length > 0;
  }

  /**
   * One dispatcher round: lapsed offers and wrap-ups end, then waiting calls are offered, the higher priority
   * first, then the longest waiting. Returns the offers made (several for one call under ring-all).
   */
  async assignNext(): Promise<Assignment[]> {
    const now = this.now();
    await sweep(this.sql, this.at(now));
    const waiting = await this.sql.query<{ call_id: string }>(
      `SELECT call_id FROM telephony_queue_calls
        WHERE state = 'waiting' AND EXISTS (SELECT 1 FROM telephony_operators WHERE state = 'available')
        ORDER BY priority DESC, enqueued_at, call_id`,
    );
    const out: Assignment[] = [];
    for (const { call_id } of waiting) {
      const { offers, freeLeft } = await offerCall(this.sql, call_id, {
        ...this.at(now),
        ...(this.random ? { random: this.random } : {}),
      });
      for (const { operator, ...offer } of offers) out.push({ ...offer, operator: toOperator(operator) });
      // Nobody left to offer to (a call another dispatcher holds says nothing: -1).
      if (freeLeft === 0) break;
    }
    return out;
  }

  /** What is offered to this operator now (the desk's GET /api/desk/offers). */
  async offersFor(operatorId: string): Promise<Offer[]> {
    const now = this.now();
    const rows = await this.sql.query<QueueCallRow & { offered_at: Date; expires_at: Date }>(
      `SELECT c.*, f.offered_at, f.expires_at FROM telephony_acd_offers f
         JOIN telephony_queue_calls c ON c.call_id = f.call_id
        WHERE f.operator_id = $1 AND f.expires_at > $2 ORDER BY f.offered_at`,
      [operatorId, now],
    );
    return rows.map((r) => ({
      callId: r.call_id,
      operatorId,
      queueId: r.queue_id,
      topicId: r.topic_id,
      channel: r.channel,
      context: r.context,
      enqueuedAt: r.enqueued_at,
      offeredAt: r.offered_at,
      expiresAt: r.expires_at,
      anyOperator: r.any_operator,
      waitedMs: now.getTime() - r.enqueued_at.getTime(),
    }));
  }

  /** The operator takes the offered call; CONFLICT when someone else took it or it no longer waits. */
  async accept(callId: string, operatorId: string): Promise<void> {
    await acceptOffer(this.sql, callId, operatorId, this.at());
  }

  /** The operator declines: the call keeps its place; the decline counts toward max-no-answer. */
  async decline(callId: string, operatorId: string): Promise<void> {
    const ended = await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'declined', this.at()));
    if (!ended)
      throw new OtklikError('CONFLICT', 'Этот вызов вам сейчас не предлагается', { details: { callId } });
  }

  /** Takes an offer back without holding it against the operator (their phone was not rung after all). */
  async withdrawOffer(callId: string, operatorId: string): Promise<void> {
    await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'withdrawn', this.at()));
  }

  /** The operator ends the conversation; wrap-up follows (the queue's), then available. */
  async closeConversation(
    callId: string,
    operatorId: string,
    close: { outcome?: string | null } = {},
  ): Promise<CloseResult> {
    return closeConversation(this.sql, callId, operatorId, close, this.at());
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
    for (const operatorId of await this.offerRows(callId))
      await this.sql.transaction((tx) => endOffer(tx, callId, operatorId, 'no_answer', this.at()));
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
    await this.sql.transaction(async (tx) => {
      // Offers before the call, the order every act locks in (an accept racing the hang-up waits, never deadlocks).
      await tx.query('SELECT 1 FROM telephony_acd_offers WHERE call_id = $1 FOR UPDATE', [callId]);
      const ended = await this.finish(tx, callId, 'abandoned', ['waiting', 'offered'], at);
      if (!ended) return;
      for (const operatorId of await this.offerRowsIn(tx, callId))
        await endOffer(tx, callId, operatorId, 'withdrawn', this.at(at));
      await acdEvent(tx, at, { event: 'abandoned', callId, queueId: ended.queue_id });
    });
  }

  private async offerRowsIn(tx: Sql, callId: string): Promise<string[]> {
    const rows = await tx.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id',
      [callId],
    );
    return rows.map((r) => r.operator_id);
  }

  /**
   * Telephony's word for the end of an operator's phone call: their open conversation is closed (wrap-up
   * follows); an operator on a call without one is simply available.
   */
  async releaseOperator(operatorId: string, at: Date = this.now()): Promise<void> {
    const open = await this.sql.query<{ call_id: string }>(
      `SELECT call_id FROM telephony_queue_calls
        WHERE operator_id = $1 AND state = 'answered' AND closed_at IS NULL ORDER BY answered_at`,
      [operatorId],
    );
    for (const c of open) await closeConversation(this.sql, c.call_id, operatorId, {}, this.at(at));
    if (open.length === 0)
      await this.sql.query(
        `UPDATE telephony_operators SET state = 'available', idle_since = $2, state_since = $2, updated_at = $2
          WHERE id = $1 AND state = 'on_call'`,
        [operatorId, at],
      );
  }

  /**
   * Calls that waited past `callbackAfterMs` become callback requests; returns their ids. A callback's own
   * entry (it keeps the caller's old place, so it looks overdue) waits for an operator instead.
   */
  async moveOverdueToCallback(
    phoneOf: (callId: string, context: Record<string, unknown>) => string | null = defaultPhone,
  ): Promise<string[]> {
    const now = this.now();
    const cutoff = new Date(now.getTime() - this.callbackAfterMs);
    const overdue = await this.sql.query<QueueCallRow>(
      `SELECT * FROM telephony_queue_calls
        WHERE state = 'waiting' AND enqueued_at <= $1 AND context->>'callbackId' IS NULL ORDER BY enqueued_at`,
      [cutoff],
    );
    const moved: string[] = [];
    for (const call of overdue) {
      const done = await this.sql.transaction(async (tx) => {
        const ended = await this.finish(tx, call.call_id, 'callback', ['waiting'], now);
        if (!ended) return false;
        await tx.query(
          `INSERT INTO telephony_callbacks (call_id, phone, topic_id, context, created_at)
           VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (call_id) DO NOTHING`,
          [
            call.call_id,
            phoneOf(call.call_id, call.context),
            call.topic_id,
            JSON.stringify(call.context),
            now,
          ],
        );
        await acdEvent(tx, now, { event: 'callback', callId: call.call_id, queueId: call.queue_id });
        return true;
      });
      if (done) moved.push(call.call_id);
    }
    return moved;
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

  /** The ACD's events, oldest first (for reports and the supervisor's wall). */
  async events(filter: { callId?: string; operatorId?: string } = {}): Promise<AcdEvent[]> {
    const rows = await this.sql.query<{
      at: Date;
      call_id: string | null;
      operator_id: string | null;
      queue_id: string | null;
      event: string;
      details: Record<string, unknown>;
    }>(
      `SELECT * FROM telephony_acd_events WHERE ($1::text IS NULL OR call_id = $1)
          AND ($2::text IS NULL OR operator_id = $2) ORDER BY id`,
      [filter.callId ?? null, filter.operatorId ?? null],
    );
    return rows.map((r) => ({
      at: r.at,
      callId: r.call_id,
      operatorId: r.operator_id,
      queueId: r.queue_id,
      event: r.event,
      details: r.details,
    }));
  }

  /** Ends the wait of a call (from one of `from`), measured against its queue's norm. */
  private async finish(
    sql: Sql,
    callId: string,
    state: QueueCallState,
    from: QueueCallState[],
    now: Date,
  ): Promise<{ queue_id: string } | null> {
    const rows = await sql.query<{ queue_id: string }>(
      `UPDATE telephony_queue_calls c SET state = $2, ended_at = $3,
         wait_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000)::bigint),
         past_norm = (EXTRACT(EPOCH FROM ($3::timestamptz - enqueued_at)) * 1000) >
           COALESCE((SELECT q.wait_norm_ms FROM telephony_acd_queues q WHERE q.id = c.queue_id), $5)
       WHERE call_id = $1 AND state = ANY($4::text[]) RETURNING queue_id`,
      [callId, state, now, from, this.waitNormMs],
    );
    return rows[0] ?? null;
  }
}

function defaultPhone(_callId: string, context: Record<string, unknown>): string | null {
  const phone = context.callerNumber ?? context.from;
  return typeof phone === 'string' ? phone : null;
}
