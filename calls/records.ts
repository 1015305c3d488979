/**
 * Call records: the call row, its turns (each INSERTed the moment it happens, so a crash loses nothing
 * that was said), survey scores, and the start-up sweep that marks calls a crash left active.
 *
 * One row per call, whoever saw it: the voice bot writes the dialog (`createCall`, `endCall`, turns), and for a
 * phone call telephony writes the SIP facts onto the same row (`sip.ts`). Both writes are upserts on the call
 * id that leave the other side's columns alone, so either may come first.
 */
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { type SipFacts, sipFacts } from './sip.js';

export type CallChannel = 'sip' | 'media' | 'text' | 'simulator';
export type CallOutcome =
  | 'answered'
  | 'escalated'
  /** A web chat an operator took on the desk and talked through with the citizen. */
  | 'operator'
  | 'forwarded'
  | 'inquiry'
  | 'emergency'
  | 'abandoned'
  | 'hangup';
export type CallStatus = 'active' | 'completed' | 'interrupted';
export type Speaker = 'caller' | 'bot' | 'operator';

export interface NewCall {
  id: string;
  channel: CallChannel;
  callerNumber: string | null;
  dialledNumber: string;
  startedAt: Date;
  /** The flow the dialog runs (the voice bot always gives it: on telephony's row it marks the dialog begun). */
  flowId?: string;
  /**
   * The instance serving the call (OTKLIK_INSTANCE_ID): its restart closes the call if it is left active. On a
   * phone call the instance holding the SIP leg (written by telephony) owns the call instead.
   */
  instanceId?: string;
}

export interface Turn {
  who: Speaker;
  text: string;
  atMs: number;
  intent?: string | null;
  confidence?: number | null;
  answerVersion?: string | null;
  dtmf?: string | null;
}

export interface StoredTurn extends Turn {
  seq: number;
}

export interface CallRow {
  id: string;
  channel: CallChannel;
  callerNumber: string | null;
  dialledNumber: string;
  startedAt: Date;
  endedAt: Date | null;
  outcome: CallOutcome | null;
  status: CallStatus;
  topicId: string | null;
  flowId: string | null;
  /** The instance whose restart closes the call if it is left active (null: any instance's). */
  instanceId: string | null;
  /** What telephony recorded of the call's SIP leg; null for a call that had none (chat, simulation). */
  sip: SipFacts | null;
  /** The operator who took the call from the queue (the desk), their close outcome and note. */
  operator: { id: string; name: string } | null;
  operatorOutcome: string | null;
  operatorNote: string | null;
  operatorClosedAt: Date | null;
  /** The legal hold (legal-hold.ts): while it stands, retention removes nothing of the call. */
  legalHold: { at: Date; by: string; reason: string } | null;
  /** When the retention job removed the call's turns and note, and its numbers (retention.ts). */
  transcriptRemovedAt: Date | null;
  callerNumberRemovedAt: Date | null;
}

/**
 * The dialog begins. On a phone call telephony has usually written the row at INVITE already: then the
 * channel, the numbers and the owning instance stay telephony's (the call lives as long as its SIP leg, on
 * the instance that holds it), the start is the earlier of the two, and the flow is the dialog's. A call has
 * one dialog: a second one on the same call id (a second media socket for it) is refused with CONFLICT.
 */
export async function createCall(sql: Sql, call: NewCall): Promise<void> {
  const rows = await sql.query(
    `INSERT INTO calls (id, channel, caller_number, dialled_number, started_at, flow_id, instance_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET
       caller_number = COALESCE(calls.caller_number, EXCLUDED.caller_number),
       started_at = LEAST(calls.started_at, EXCLUDED.started_at),
       flow_id = EXCLUDED.flow_id,
       instance_id = COALESCE(calls.instance_id, EXCLUDED.instance_id)
     -- Only onto telephony's row of a call whose dialog has not begun.
     WHERE calls.direction IS NOT NULL AND calls.flow_id IS NULL
     RETURNING id`,
    [
      call.id,
      call.channel,
      call.callerNumber,
      call.dialledNumber,
      call.startedAt,
      call.flowId ?? null,
      call.instanceId ?? null,
    ],
  );
  if (rows.length === 0) throw new OtklikError('CONFLICT', `call ${call.id} already has its dialog`);
}

export async function addTurn(sql: Sql, callId: string, seq: number, turn: Turn): Promise<void> {
  await sql.query(
    `INSERT INTO call_turns (call_id, seq, who, text, at_ms, intent, confidence, answer_version, dtmf)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      callId,
      seq,
      turn.who,
      turn.text,
      Math.round(turn.atMs),
      turn.intent ?? null,
      turn.confidence ?? null,
      turn.answerVersion ?? null,
      turn.dtmf ?? null,
    ],
  );
}

export async function setCallTopic(sql: Sql, callId: string, topicId: string): Promise<void> {
  await sql.query('UPDATE calls SET topic_id = $2 WHERE id = $1', [callId, topicId]);
}

/**
 * The dialog ends with its outcome. The first end wins, and a call a restart marked interrupted stays so; a
 * call telephony already closed at hang-up (the caller hung up mid-dialog) still gets the dialog's outcome.
 */
export async function endCall(sql: Sql, callId: string, outcome: CallOutcome, endedAt: Date): Promise<void> {
  await sql.query(
    `UPDATE calls SET ended_at = $2, outcome = $3, status = 'completed'
      WHERE id = $1 AND outcome IS NULL AND status <> 'interrupted'`,
    [callId, endedAt, outcome],
  );
}

/**
 * Whether the voice bot closed the dialog of this call with an outcome (it does before it hangs up), as
 * opposed to its socket dropping mid-dialog: telephony's question when the audio fork disconnects.
 */
export async function dialogEnded(sql: Sql, callId: string): Promise<boolean> {
  const rows = await sql.query<{ outcome: string | null }>('SELECT outcome FROM calls WHERE id = $1', [
    callId,
  ]);
  return rows[0]?.outcome != null;
}

/**
 * The caller's survey score (1-5). `after`: where it was taken: the bot's flow, or telephony's survey once an
 * operator or an agency hung up first (then `operatorId` names the operator it scores).
 */
export async function saveSurvey(
  sql: Sql,
  callId: string,
  score: number,
  at: Date,
  opts: { after?: 'bot' | 'operator' | 'agency'; operatorId?: string | null } = {},
): Promise<void> {
  await sql.query(
    `INSERT INTO survey_results (call_id, score, at, after, operator_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (call_id) DO UPDATE SET score = EXCLUDED.score, at = EXCLUDED.at, after = EXCLUDED.after,
       operator_id = EXCLUDED.operator_id`,
    [callId, score, at, opts.after ?? 'bot', opts.operatorId ?? null],
  );
}

/**
 * Run at start-up of instance `instanceId`: marks the calls it left `active` (by a crash or kill) as
 * interrupted, and those recorded without an owner; returns how many. Calls other instances on the same
 * database are serving stay active: each instance closes only its own.
 */
export async function markInterruptedCalls(sql: Sql, instanceId: string): Promise<number> {
  const rows = await sql.query<{ id: string }>(
    `UPDATE calls SET status = 'interrupted',
            ended_at = COALESCE(ended_at, (SELECT started_at + (max(t.at_ms) * interval '1 millisecond')
                                             FROM call_turns t WHERE t.call_id = calls.id), started_at)
      WHERE status = 'active' AND (instance_id = $1 OR instance_id IS NULL) RETURNING id`,
    [instanceId],
  );
  return rows.length;
}

/**
 * Another instance takes a web chat over (its node was stopped or killed, see
 * voicebot/channels/text/chat-router.ts): the chat's record names the new owner and is active again, also when
 * the old owner's restart already marked it interrupted. Returns the record as it stands, or null when it is
 * not a chat that can go on (unknown, not a text chat, or ended with an outcome).
 */
export async function claimChatCall(sql: Sql, callId: string, instanceId: string): Promise<CallRow | null> {
  const rows = await sql.query<CallDbRow>(
    `UPDATE calls SET instance_id = $2, status = 'active', ended_at = NULL
      WHERE id = $1 AND channel = 'text' AND outcome IS NULL AND status IN ('active', 'interrupted')
      RETURNING *`,
    [callId, instanceId],
  );
  return rows[0] ? toCall(rows[0]) : null;
}

type CallDbRow = Record<string, unknown> & {
  id: string;
  channel: CallChannel;
  caller_number: string | null;
  dialled_number: string;
  started_at: Date;
  ended_at: Date | null;
  outcome: CallOutcome | null;
  status: CallStatus;
  topic_id: string | null;
  flow_id: string | null;
  instance_id: string | null;
  operator_id: string | null;
  operator_name: string | null;
  operator_outcome: string | null;
  operator_note: string | null;
  operator_closed_at: Date | null;
  legal_hold_at: Date | null;
  legal_hold_by: string | null;
  legal_hold_reason: string | null;
  transcript_removed_at: Date | null;
  caller_number_removed_at: Date | null;
};

const toCall = (r: CallDbRow): CallRow => ({
  id: r.id,
  channel: r.channel,
  callerNumber: r.caller_number,
  dialledNumber: r.dialled_number,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  outcome: r.outcome,
  status: r.status,
  topicId: r.topic_id,
  flowId: r.flow_id,
  instanceId: r.instance_id,
  sip: sipFacts(r),
  operator: r.operator_id ? { id: r.operator_id, name: r.operator_name ?? r.operator_id } : null,
  operatorOutcome: r.operator_outcome,
  operatorNote: r.operator_note,
  operatorClosedAt: r.operator_closed_at,
  legalHold: r.legal_hold_at
    ? { at: r.legal_hold_at, by: r.legal_hold_by ?? '', reason: r.legal_hold_reason ?? '' }
    : null,
  transcriptRemovedAt: r.transcript_removed_at ?? null,
  callerNumberRemovedAt: r.caller_number_removed_at ?? null,
});

export async function getCall(sql: Sql, callId: string): Promise<CallRow | null> {
  const rows = await sql.query<CallDbRow>('SELECT * FROM calls WHERE id = $1', [callId]);
  return rows[0] ? toCall(rows[0]) : null;
}

/** The latest calls, newest first (the staff's call list). */
export async function listCalls(sql: Sql, limit: number): Promise<CallRow[]> {
  const rows = await sql.query<CallDbRow>('SELECT * FROM calls ORDER BY started_at DESC, id LIMIT $1', [
    limit,
  ]);
  return rows.map(toCall);
}

export async function getTurns(sql: Sql, callId: string): Promise<StoredTurn[]> {
  const rows = await sql.query<{
    seq: number;
    who: Speaker;
    text: string;
    at_ms: number;
    intent: string | null;
    confidence: number | null;
    answer_version: string | null;
    dtmf: string | null;
  }>('SELECT * FROM call_turns WHERE call_id = $1 ORDER BY seq', [callId]);
  return rows.map((r) => ({
    seq: r.seq,
    who: r.who,
    text: r.text,
    atMs: r.at_ms,
    intent: r.intent,
    confidence: r.confidence,
    answerVersion: r.answer_version,
    dtmf: r.dtmf,
  }));
}

/** The operator took the call from the queue (the desk's accept): the card names them from now on. */
export async function recordOperatorTaken(
  sql: Sql,
  callId: string,
  operator: { id: string; name: string },
): Promise<void> {
  await sql.query('UPDATE calls SET operator_id = $2, operator_name = $3 WHERE id = $1', [
    callId,
    operator.id,
    operator.name,
  ]);
}

/** The operator's note on the call while the conversation goes on (the desk saves it as they type). */
export async function saveOperatorNote(sql: Sql, callId: string, note: string): Promise<void> {
  await sql.query('UPDATE calls SET operator_note = $2 WHERE id = $1', [callId, note]);
}

/** The operator closed the conversation: who, the outcome (a kb_outcomes id) and the note, on the card. */
export async function recordOperatorClose(
  sql: Sql,
  callId: string,
  close: { operator: { id: string; name: string }; outcome: string; note: string | null; at: Date },
): Promise<void> {
  await sql.query(
    `UPDATE calls SET operator_id = $2, operator_name = $3, operator_outcome = $4,
       operator_note = COALESCE($5, operator_note), operator_closed_at = $6 WHERE id = $1`,
    [callId, close.operator.id, close.operator.name, close.outcome, close.note, close.at],
  );
}

/** Earlier calls from the same number, newest first (the desk's history of a caller). */
export async function callsFromNumber(
  sql: Sql,
  callerNumber: string,
  opts: { except?: string; limit?: number } = {},
): Promise<CallRow[]> {
  const rows = await sql.query<CallDbRow>(
    `SELECT * FROM calls WHERE caller_number = $1 AND id <> $2 ORDER BY started_at DESC, id LIMIT $3`,
    [callerNumber, opts.except ?? '', opts.limit ?? 20],
  );
  return rows.map(toCall);
}
