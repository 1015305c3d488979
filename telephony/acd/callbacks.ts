import { OtklikError } from '../../core/errors.js';
import { createKnowledgeBase } from '../../kb/knowledge-base.js';
import { zonedParts } from '../../kb/zoned-time.js';
import type { Sql } from '../../store/sql.js';
import { enqueueCall } from './calls.js';
import { acdEvent, type QueueDefaults } from './model.js';
import { endOffer } from './offers.js';
import { closeConversation } from './operators.js';

/**
 * Callbacks ([3/7]): the line calls a citizen back. One comes from the caller (key 1 at the wait norm), from
 * the queue (a caller who pressed 1 at the norm, or one registered after the announcements), from an inquiry whose answer three relay calls did not
 * deliver, or from an operator who schedules one on the desk. A callback is a row here; the job worker
 * (admin/jobs/worker.ts) only wakes it at its time: when it is due it becomes an entry of the ACD
 * (telephony_queue_calls, channel 'phone', at its original place) offered to operators like any call, and the
 * operator who takes it is rung first, then the citizen (telephony/callback-call.ts). A citizen not reached is
 * tried again after the configured spacing, `max_attempts` times in all; then the callback has failed and waits
 * on the desk for an operator to act.
 *
 * States: scheduled (due later) → pending (due: waiting in the ACD for an operator) → dialling (an operator took
 * it) → done | scheduled (the next attempt) | failed; cancelled by staff at any time but while dialling.
 */
export type CallbackSource = 'caller' | 'queue' | 'inquiry' | 'operator';
export type CallbackState = 'pending' | 'scheduled' | 'dialling' | 'done' | 'failed' | 'cancelled';
/** How one attempt went: the citizen's leg, or the operator's phone that did not answer first. */
export type CallbackResult = 'answered' | 'busy' | 'no_answer' | 'failed' | 'operator_unreached';

export const CALLBACK_SOURCES: readonly CallbackSource[] = ['caller', 'queue', 'inquiry', 'operator'];
export const CALLBACK_STATES: readonly CallbackState[] = [
  'pending',
  'scheduled',
  'dialling',
  'done',
  'failed',
  'cancelled',
];
/** Ten minutes after the first unanswered attempt, thirty after the second (the last spacing repeats). */
export const DEFAULT_CALLBACK_RETRY_MS: readonly number[] = [600_000, 1_800_000];
export const DEFAULT_CALLBACK_MAX_ATTEMPTS = 3;
/** A callback dialling longer than this lost its telephony node mid-attempt (two phones ring for a minute). */
const STALE_DIALLING_MS = 15 * 60_000;
/**
 * Citizens are not called at night: 09:00-21:00 in the region's time zone (the inquiry relay's hours). An
 * operator's callback for a time the citizen asked for is placed at that time; its retries keep the hours.
 */
export const CALLBACK_HOURS = { from: 9 * 3600_000, to: 21 * 3600_000 } as const;

export interface Callback {
  id: string;
  /** The call it came from; null for an operator's own. */
  callId: string | null;
  /** The number to call (personal data: masked for operators, never logged in clear). */
  phone: string | null;
  topicId: string | null;
  source: CallbackSource;
  state: CallbackState;
  /** When it is due; null: as soon as an operator is free. */
  dueAt: Date | null;
  attempts: number;
  maxAttempts: number;
  lastResult: string | null;
  /** reached | unreached | cancelled | done (closed by hand). */
  outcome: string | null;
  operatorId: string | null;
  note: string | null;
  /** The place it keeps in the ACD (the caller's original queue time). */
  placeAt: Date | null;
  context: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

interface CallbackRow {
  id: string;
  call_id: string | null;
  phone: string | null;
  topic_id: string | null;
  source: CallbackSource;
  state: CallbackState;
  due_at: Date | null;
  attempts: number;
  max_attempts: number;
  last_result: string | null;
  outcome: string | null;
  operator_id: string | null;
  note: string | null;
  place_at: Date | null;
  context: Record<string, unknown>;
  created_at: Date;
  updated_at: Date | null;
}

const toCallback = (r: CallbackRow): Callback => ({
  id: r.id,
  callId: r.call_id,
  phone: r.phone,
  topicId: r.topic_id,
  source: r.source,
  state: r.state,
  dueAt: r.due_at,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  lastResult: r.last_result,
  outcome: r.outcome,
  operatorId: r.operator_id,
  note: r.note,
  placeAt: r.place_at,
  context: r.context,
  createdAt: r.created_at,
  updatedAt: r.updated_at ?? r.created_at,
});

export interface CallbackSettings {
  /** Spacing of the attempts after an unreached one (CALLBACK_RETRY_MS); the last one repeats. */
  retryMs: readonly number[];
  /** Attempts in all (CALLBACK_MAX_ATTEMPTS) of the callbacks created here; the queue's own get the column's 3. */
  maxAttempts: number;
  /** The ACD priority of a callback's entry (CALLBACK_PRIORITY; higher first, live calls have 0). */
  priority: number;
}

export interface NewCallback {
  /** A stable id makes the creation idempotent (an inquiry's: `inquiry-<id>`). */
  id?: string;
  phone: string;
  source: CallbackSource;
  callId?: string | null;
  topicId?: string | null;
  dueAt?: Date | null;
  note?: string | null;
  operatorId?: string | null;
  context?: Record<string, unknown>;
}

export interface CallbackEdit {
  dueAt?: Date | null;
  phone?: string;
  state?: 'cancelled' | 'done';
  note?: string | null;
}

/** The ACD entry of a callback's attempt `n`: its own call id, so each attempt is one queue row. */
export const callbackEntryId = (id: string, attempt: number) => `callback:${id}:${attempt}`;

/** A callback's id from its ACD entry's context (what the dispatcher and the desk see), if it is one. */
export function callbackIdOf(context: Record<string, unknown> | null | undefined): string | null {
  const id = context?.callbackId;
  return typeof id === 'string' && id !== '' ? id : null;
}

function checkPhone(phone: unknown): string {
  const p = typeof phone === 'string' ? phone.trim() : '';
  if (!/^\+?[\d\s()-]{3,20}$/.test(p) || p.replace(/\D/g, '').length < 3)
    throw new OtklikError('VALIDATION_FAILED', 'Укажите номер телефона для обратного звонка', {
      details: { field: 'phone' },
    });
  return p.replace(/[\s()-]/g, '');
}

export class Callbacks {
  readonly settings: CallbackSettings;

  constructor(
    private readonly sql: Sql,
    private readonly o: {
      now: () => Date;
      defaults: QueueDefaults;
      settings?: Partial<CallbackSettings>;
      /** The region's time zone for the calling hours; the knowledge base's when unset. */
      timezone?: () => Promise<string>;
    },
  ) {
    this.settings = {
      retryMs: o.settings?.retryMs?.length ? o.settings.retryMs : DEFAULT_CALLBACK_RETRY_MS,
      maxAttempts: o.settings?.maxAttempts ?? DEFAULT_CALLBACK_MAX_ATTEMPTS,
      priority: o.settings?.priority ?? 0,
    };
    if (!(this.settings.maxAttempts >= 1))
      throw new OtklikError('CONFIG_INVALID', 'callbacks need at least one attempt');
  }

  /** A new callback, due at `dueAt` (or now); an existing id or call id returns the callback it names. */
  async create(req: NewCallback): Promise<Callback> {
    const phone = checkPhone(req.phone);
    if (!CALLBACK_SOURCES.includes(req.source))
      throw new OtklikError('VALIDATION_FAILED', `Неизвестный источник обратного звонка: ${req.source}`);
    const now = this.o.now();
    const dueAt = req.dueAt ?? null;
    const rows = await this.sql.query<CallbackRow>(
      `INSERT INTO telephony_callbacks (id, call_id, phone, topic_id, context, created_at, updated_at, source,
         state, due_at, max_attempts, note, operator_id, place_at)
       VALUES (COALESCE($1, gen_random_uuid()::text), $2, $3, $4, $5::jsonb, $6::timestamptz, $6, $7, $8,
         $9::timestamptz, $10, $11, $12, COALESCE($9, $6))
       ON CONFLICT DO NOTHING RETURNING *`,
      [
        req.id ?? null,
        req.callId ?? null,
        phone,
        req.topicId ?? null,
        JSON.stringify(req.context ?? {}),
        now,
        req.source,
        dueAt && dueAt.getTime() > now.getTime() ? 'scheduled' : 'pending',
        dueAt,
        this.settings.maxAttempts,
        req.note ?? null,
        req.operatorId ?? null,
      ],
    );
    if (rows[0]) return toCallback(rows[0]);
    const existing = await this.sql.query<CallbackRow>(
      'SELECT * FROM telephony_callbacks WHERE id = $1 OR call_id = $2 LIMIT 1',
      [req.id ?? null, req.callId ?? null],
    );
    if (!existing[0]) throw new OtklikError('CONFLICT', 'Обратный звонок не создан');
    return toCallback(existing[0]);
  }

  async get(id: string): Promise<Callback | null> {
    const rows = await this.sql.query<CallbackRow>('SELECT * FROM telephony_callbacks WHERE id = $1', [id]);
    return rows[0] ? toCallback(rows[0]) : null;
  }

  /** The callbacks (of one state), the open ones by due time first, then the closed, newest first. */
  async list(filter: { state?: CallbackState; limit?: number } = {}): Promise<Callback[]> {
    const rows = await this.sql.query<CallbackRow>(
      `SELECT * FROM telephony_callbacks WHERE ($1::text IS NULL OR state = $1)
        ORDER BY CASE WHEN state IN ('pending', 'scheduled', 'dialling', 'failed') THEN 0 ELSE 1 END,
                 CASE WHEN state IN ('done', 'cancelled') THEN NULL ELSE COALESCE(due_at, place_at, created_at) END,
                 COALESCE(updated_at, created_at) DESC, id
        LIMIT $2`,
      [filter.state ?? null, filter.limit ?? 500],
    );
    return rows.map(toCallback);
  }

  /**
   * Staff's change: a new due time (a failed or cancelled callback is opened again for a new series of attempts), a
   * new number, a note, cancelled, or done by hand. A callback waiting in the ACD leaves it when it is no
   * longer due now; CONFLICT while it is being dialled, or for a due time on one that is done.
   */
  async edit(id: string, edit: CallbackEdit, by: string | null = null): Promise<Callback> {
    const now = this.o.now();
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query<CallbackRow>('SELECT * FROM telephony_callbacks WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const cb = rows[0];
      if (!cb) throw new OtklikError('NOT_FOUND', 'Нет такого обратного звонка', { details: { id } });
      const changesCall = edit.dueAt !== undefined || edit.phone !== undefined || edit.state !== undefined;
      if (changesCall && cb.state === 'dialling')
        throw new OtklikError('CONFLICT', 'Этому абоненту уже звонят: дождитесь итога звонка');
      if (edit.dueAt !== undefined && edit.state === undefined && cb.state === 'done')
        throw new OtklikError('CONFLICT', 'Обратный звонок уже состоялся');
      const phone = edit.phone !== undefined ? checkPhone(edit.phone) : cb.phone;
      let state = cb.state;
      let dueAt = cb.due_at;
      let maxAttempts = cb.max_attempts;
      let outcome = cb.outcome;
      let placeAt = cb.place_at;
      if (edit.dueAt !== undefined) {
        dueAt = edit.dueAt;
        state = dueAt && dueAt.getTime() > now.getTime() ? 'scheduled' : 'pending';
        // A new time is a new place in the line; a failed or cancelled callback starts over.
        placeAt = dueAt ?? now;
        // A failed or cancelled callback opened again gets a new series of attempts (numbered on, so that each
        // attempt keeps its own ACD entry).
        if (cb.state === 'failed' || cb.state === 'cancelled') {
          maxAttempts = cb.attempts + this.settings.maxAttempts;
          outcome = null;
        }
      }
      if (edit.state === 'cancelled') {
        state = 'cancelled';
        outcome = 'cancelled';
      } else if (edit.state === 'done') {
        state = 'done';
        outcome = 'done';
      }
      // Out of the ACD unless it is still due now with its entry waiting there.
      if (state !== 'pending' || edit.dueAt !== undefined) await this.leaveAcd(tx, cb, now);
      const updated = await tx.query<CallbackRow>(
        `UPDATE telephony_callbacks SET phone = $2, state = $3, due_at = $4, max_attempts = $5, outcome = $6,
           place_at = $7, note = CASE WHEN $8 THEN $9 ELSE note END, updated_at = $10,
           operator_id = COALESCE($11, operator_id)
          WHERE id = $1 RETURNING *`,
        [
          id,
          phone,
          state,
          dueAt,
          maxAttempts,
          outcome,
          placeAt,
          edit.note !== undefined,
          edit.note ?? null,
          now,
          edit.state === 'done' ? by : null,
        ],
      );
      return toCallback(updated[0]!);
    });
  }

  /** Takes the callback's waiting entry out of the ACD (its offers withdrawn, not held against anyone). */
  private async leaveAcd(tx: Sql, cb: CallbackRow, now: Date): Promise<void> {
    const entry = callbackEntryId(cb.id, cb.attempts + 1);
    const offers = await tx.query<{ operator_id: string }>(
      'SELECT operator_id FROM telephony_acd_offers WHERE call_id = $1 ORDER BY operator_id FOR UPDATE',
      [entry],
    );
    for (const f of offers)
      await endOffer(tx, entry, f.operator_id, 'withdrawn', { defaults: this.o.defaults, now });
    const answered = await tx.query(
      `SELECT 1 FROM telephony_queue_calls WHERE call_id = $1 AND state = 'answered'`,
      [entry],
    );
    if (answered.length > 0) throw new OtklikError('CONFLICT', 'Оператор уже взял этот обратный звонок');
    await tx.query(
      `DELETE FROM telephony_queue_calls WHERE call_id = $1 AND state IN ('waiting', 'offered')`,
      [entry],
    );
  }

  /**
   * Due callbacks (all, or the one named) become ACD entries at their place, offered to operators like any call
   * (within the calling hours, CALLBACK_HOURS);
   * a scheduled one that is due now turns pending. Idempotent: one whose entry is there already is left alone.
   * Returns the ids put in the ACD.
   */
  async enqueueDue(id?: string): Promise<string[]> {
    const now = this.o.now();
    if (id === undefined) await this.recoverStale(now);
    const due = await this.sql.query<CallbackRow & { queued_at: Date | null }>(
      `SELECT cb.*, q.enqueued_at AS queued_at FROM telephony_callbacks cb
         LEFT JOIN telephony_queue_calls q ON q.call_id = cb.call_id
        WHERE cb.state IN ('pending', 'scheduled') AND (cb.due_at IS NULL OR cb.due_at <= $1)
          AND ($2::text IS NULL OR cb.id = $2) AND cb.phone IS NOT NULL AND cb.phone <> ''
          AND NOT EXISTS (SELECT 1 FROM telephony_queue_calls e
                           WHERE e.call_id = 'callback:' || cb.id || ':' || (cb.attempts + 1))
        ORDER BY COALESCE(cb.place_at, q.enqueued_at, cb.created_at), cb.id`,
      [now, id ?? null],
    );
    const queued: string[] = [];
    const timezone = await (this.o.timezone ?? createKnowledgeBase(this.sql).timezone)();
    const { timeOfDayMs } = zonedParts(now, timezone);
    const callingHours = timeOfDayMs >= CALLBACK_HOURS.from && timeOfDayMs < CALLBACK_HOURS.to;
    for (const cb of due) {
      // Outside the hours only an operator's first call at the time the citizen asked for; the rest wait for
      // the morning's sweep.
      if (!callingHours && (cb.source !== 'operator' || cb.attempts > 0)) continue;
      const placeAt = cb.place_at ?? cb.queued_at ?? cb.created_at;
      await this.sql.transaction(async (tx) => {
        const moved = await tx.query(
          `UPDATE telephony_callbacks SET state = 'pending', place_at = $2, updated_at = $3
            WHERE id = $1 AND state IN ('pending', 'scheduled') RETURNING id`,
          [cb.id, placeAt, now],
        );
        if (moved.length === 0) return;
        await enqueueCall(
          tx,
          {
            callId: callbackEntryId(cb.id, cb.attempts + 1),
            topicId: cb.topic_id,
            channel: 'phone',
            priority: this.settings.priority,
            context: {
              ...cb.context,
              callerNumber: cb.phone,
              reason: 'callback',
              callbackId: cb.id,
              phone: cb.phone,
              attempt: cb.attempts + 1,
            },
          },
          placeAt,
        );
        queued.push(cb.id);
      });
    }
    return queued;
  }

  /**
   * Dialling lasts as long as two phones ring (the result is written when the citizen answers or not): one
   * dialling for longer lost its telephony node mid-attempt, and the attempt counts as failed.
   */
  private async recoverStale(now: Date): Promise<void> {
    const stale = await this.sql.query<{ id: string }>(
      `SELECT id FROM telephony_callbacks WHERE state = 'dialling' AND updated_at <= $1 ORDER BY id`,
      [new Date(now.getTime() - STALE_DIALLING_MS)],
    );
    for (const { id } of stale) await this.recordResult(id, 'failed');
  }

  /** Open callbacks by state (the supervisor's wall: what still waits for the line or a person). */
  async openCount(): Promise<{ pending: number; scheduled: number; dialling: number; failed: number }> {
    const rows = await this.sql.query<{ state: CallbackState; n: number }>(
      `SELECT state, count(*)::int AS n FROM telephony_callbacks
        WHERE state IN ('pending', 'scheduled', 'dialling', 'failed') GROUP BY state`,
    );
    const n = (s: CallbackState) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    return { pending: n('pending'), scheduled: n('scheduled'), dialling: n('dialling'), failed: n('failed') };
  }

  /** Callbacks due later (the worker keeps a delayed job for each). */
  async scheduled(): Promise<Array<{ id: string; dueAt: Date }>> {
    const rows = await this.sql.query<{ id: string; due_at: Date }>(
      `SELECT id, due_at FROM telephony_callbacks WHERE state = 'scheduled' AND due_at > $1 ORDER BY due_at, id`,
      [this.o.now()],
    );
    return rows.map((r) => ({ id: r.id, dueAt: r.due_at }));
  }

  /**
   * The operator took the callback's entry (their phone answered, or the desk's accept): it is being dialled.
   * null when the callback is no longer to be called (cancelled, done meanwhile).
   */
  async startAttempt(entryCallId: string, operatorId: string): Promise<Callback | null> {
    const id = /^callback:(.+):\d+$/.exec(entryCallId)?.[1];
    if (!id) return null;
    const rows = await this.sql.query<CallbackRow>(
      `UPDATE telephony_callbacks SET state = 'dialling', operator_id = $2, updated_at = $3
        WHERE id = $1 AND state IN ('pending', 'scheduled', 'dialling') RETURNING *`,
      [id, operatorId, this.o.now()],
    );
    return rows[0] ? toCallback(rows[0]) : null;
  }

  /**
   * The operator took the entry on the desk but their phone did not answer: their conversation ends (no talk
   * to speak of) and the entry waits in the ACD again at its place, for whoever is free next.
   */
  async operatorMissed(id: string, entryCallId: string, operatorId: string): Promise<Callback> {
    const now = this.o.now();
    await closeConversation(
      this.sql,
      entryCallId,
      operatorId,
      { outcome: 'no_answer' },
      {
        defaults: this.o.defaults,
        now,
      },
    ).catch(() => {});
    await this.sql.transaction(async (tx) => {
      const back = await tx.query<{ queue_id: string }>(
        `UPDATE telephony_queue_calls SET state = 'waiting', operator_id = NULL, answered_at = NULL, ended_at = NULL,
           closed_at = NULL, wait_ms = NULL, talk_ms = NULL, bridged_at = NULL WHERE call_id = $1 AND state = 'answered'
         RETURNING queue_id`,
        [entryCallId],
      );
      if (back[0])
        await acdEvent(tx, now, {
          event: 'requeued',
          callId: entryCallId,
          operatorId,
          queueId: back[0].queue_id,
        });
    });
    return this.recordResult(id, 'operator_unreached');
  }

  /**
   * How the attempt went. Reached: done. The operator's phone did not answer: still pending (the ACD offers the
   * entry again). The citizen not reached: the next attempt after the spacing, or failed after the last one.
   */
  async recordResult(id: string, result: CallbackResult): Promise<Callback> {
    const now = this.o.now();
    const rows = await this.sql.query<CallbackRow>('SELECT * FROM telephony_callbacks WHERE id = $1', [id]);
    const cb = rows[0];
    if (!cb) throw new OtklikError('NOT_FOUND', 'Нет такого обратного звонка', { details: { id } });
    let set: { state: CallbackState; attempts: number; dueAt: Date | null; outcome: string | null };
    if (result === 'operator_unreached') {
      set = { state: 'pending', attempts: cb.attempts, dueAt: cb.due_at, outcome: cb.outcome };
    } else if (result === 'answered') {
      set = { state: 'done', attempts: cb.attempts + 1, dueAt: cb.due_at, outcome: 'reached' };
    } else {
      const attempts = cb.attempts + 1;
      const spacing = this.settings.retryMs;
      set =
        attempts >= cb.max_attempts
          ? { state: 'failed', attempts, dueAt: cb.due_at, outcome: 'unreached' }
          : {
              state: 'scheduled',
              attempts,
              dueAt: new Date(now.getTime() + spacing[Math.min(attempts - 1, spacing.length - 1)]!),
              outcome: null,
            };
    }
    const updated = await this.sql.query<CallbackRow>(
      `UPDATE telephony_callbacks SET state = $2, attempts = $3, due_at = $4, outcome = $5, last_result = $6,
         updated_at = $7 WHERE id = $1 RETURNING *`,
      [id, set.state, set.attempts, set.dueAt, set.outcome, result, now],
    );
    return toCallback(updated[0]!);
  }
}
