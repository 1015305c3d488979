/**
 * Escalations: calls handed to an operator with their context package. A row with status 'queued' is the
 * operator queue's input (telephony's ACD takes it from here); the package is everything an operator needs
 * so that the caller never has to repeat themselves.
 */

import type { Speaker } from '../../calls/records.js';
import type { Entity, IntentScore } from '../../nlu/types.js';
import type { Sql } from '../../store/sql.js';

export interface EscalationContext {
  callId: string;
  /** Personal data. */
  callerNumber: string | null;
  topic: string | null;
  reason: string;
  intents: Array<IntentScore & { atMs: number; text: string }>;
  entities: Entity[];
  transcript: Array<{ who: Speaker; text: string; atMs: number }>;
  answers: Array<{ intent: string; answerVersion: string }>;
}

export type EscalationStatus = 'queued' | 'taken' | 'abandoned' | 'done';

export interface EscalationRow {
  id: number;
  callId: string;
  reason: string;
  topicId: string | null;
  context: EscalationContext;
  status: EscalationStatus;
  createdAt: Date;
}

export async function createEscalation(sql: Sql, ctx: EscalationContext, at: Date): Promise<number> {
  const rows = await sql.query<{ id: number }>(
    `INSERT INTO escalations (call_id, reason, topic_id, context, status, created_at)
     VALUES ($1, $2, $3, $4, 'queued', $5) RETURNING id`,
    [ctx.callId, ctx.reason, ctx.topic, JSON.stringify(ctx), at],
  );
  return rows[0]!.id;
}

export async function setEscalationStatus(sql: Sql, id: number, status: EscalationStatus): Promise<void> {
  await sql.query('UPDATE escalations SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

/** The queue as the operator side sees it: oldest first. */
export async function queuedEscalations(sql: Sql): Promise<EscalationRow[]> {
  const rows = await sql.query<EscalationDbRow>(
    `SELECT * FROM escalations WHERE status = 'queued' ORDER BY created_at, id`,
  );
  return rows.map(toRow);
}

export async function escalationsOfCall(sql: Sql, callId: string): Promise<EscalationRow[]> {
  const rows = await sql.query<EscalationDbRow>('SELECT * FROM escalations WHERE call_id = $1 ORDER BY id', [
    callId,
  ]);
  return rows.map(toRow);
}

interface EscalationDbRow {
  id: number;
  call_id: string;
  reason: string;
  topic_id: string | null;
  context: EscalationContext;
  status: EscalationStatus;
  created_at: Date;
}

function toRow(r: EscalationDbRow): EscalationRow {
  return {
    id: r.id,
    callId: r.call_id,
    reason: r.reason,
    topicId: r.topic_id,
    context: r.context,
    status: r.status,
    createdAt: r.created_at,
  };
}
