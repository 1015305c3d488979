/**
 * Call records: the call row, its turns (each INSERTed the moment it happens, so a crash loses nothing
 * that was said), survey scores, and the start-up sweep that marks calls a crash left active.
 */
import type { Sql } from '../store/sql.js';

export type CallChannel = 'sip' | 'media' | 'text' | 'simulator';
export type CallOutcome =
  | 'answered'
  | 'escalated'
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
  flowId?: string;
  /** The instance serving the call (OTKLIK_INSTANCE_ID): its restart closes the call if it is left active. */
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
}

export async function createCall(sql: Sql, call: NewCall): Promise<void> {
  await sql.query(
    `INSERT INTO calls (id, channel, caller_number, dialled_number, started_at, flow_id, instance_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
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

export async function endCall(sql: Sql, callId: string, outcome: CallOutcome, endedAt: Date): Promise<void> {
  await sql.query(
    `UPDATE calls SET ended_at = $2, outcome = $3, status = 'completed' WHERE id = $1 AND status = 'active'`,
    [callId, endedAt, outcome],
  );
}

export async function saveSurvey(sql: Sql, callId: string, score: number, at: Date): Promise<void> {
  await sql.query(
    `INSERT INTO survey_results (call_id, score, at) VALUES ($1, $2, $3)
     ON CONFLICT (call_id) DO UPDATE SET score = EXCLUDED.score, at = EXCLUDED.at`,
    [callId, score, at],
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

export async function getCall(sql: Sql, callId: string): Promise<CallRow | null> {
  const rows = await sql.query<{
    id: string;
    channel: CallChannel;
    caller_number: string | null;
    dialled_number: string;
    started_at: Date;
    ended_at: Date | null;
    outcome: CallOutcome | null;
    status: CallStatus;
    topic_id: string | null;
  }>('SELECT * FROM calls WHERE id = $1', [callId]);
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    channel: r.channel,
    callerNumber: r.caller_number,
    dialledNumber: r.dialled_number,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    outcome: r.outcome,
    status: r.status,
    topicId: r.topic_id,
  };
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
