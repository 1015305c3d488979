/**
 * The SIP facts of a call (its call-detail record), written by telephony onto the call's one row in `calls`:
 * the caller's channel, answer and hang-up, where the line took the call, and the legs of forwards and
 * bridges. Written when the call starts and updated as it goes, so a crash loses only the end time.
 *
 * Telephony writes only these columns (and, at INVITE, the row's identity: channel 'sip', numbers, start,
 * owning instance); the dialog's columns (outcome, flow, topic) are the voice bot's. `sipOutcome` is where
 * the line took the call, not what the dialog achieved: a call the bot answered has sipOutcome 'bot' and
 * outcome 'answered'.
 */
import type { Sql } from '../store/sql.js';

export interface SipLeg {
  kind: 'bot' | 'agency' | 'operator' | 'outbound' | 'message';
  target?: string;
  status: string;
  at: string;
}

export interface SipFacts {
  channelUuid: string | null;
  direction: 'inbound' | 'outbound';
  /** When the far end answered; null for an outbound call nobody picked up. */
  answeredAt: Date | null;
  /** When the SIP leg ended (hang-up, or the end of a dial that failed). */
  endedAt: Date | null;
  /** From answer to hang-up; for a dial nobody answered, how long it rang. */
  durationMs: number | null;
  /** Where the line took the call: bot, forwarded, operator, callback, abandoned, not_reached, ... */
  outcome: string | null;
  /** Who hung up (caller_hangup, bot_hangup) or why a dial failed (busy, no_answer, failed). */
  endReason: string | null;
  legs: SipLeg[];
}

export interface SipCallStart {
  callId: string;
  channelUuid: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  startedAt: Date;
  /** When the call was answered; null for an outbound attempt that was not. */
  answeredAt: Date | null;
  /**
   * The telephony instance holding the SIP leg (OTKLIK_INSTANCE_ID): the call lives as long as that leg,
   * so only that instance's restart marks the call interrupted, even when the dialog runs elsewhere.
   */
  instanceId: string;
}

/**
 * The SIP leg is up (INVITE answered, or an outbound dial made). Creates the call's row, or completes the one
 * the voice bot wrote first: its dialog columns are kept, the start is the earlier one. Writing the same
 * start again changes nothing.
 */
export async function cdrStart(sql: Sql, c: SipCallStart): Promise<void> {
  await sql.query(
    `INSERT INTO calls (id, channel, caller_number, dialled_number, started_at, instance_id,
                        channel_uuid, direction, answered_at)
     VALUES ($1, 'sip', $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET
       channel = 'sip',
       caller_number = COALESCE(calls.caller_number, EXCLUDED.caller_number),
       started_at = LEAST(calls.started_at, EXCLUDED.started_at),
       instance_id = EXCLUDED.instance_id,
       channel_uuid = EXCLUDED.channel_uuid,
       direction = EXCLUDED.direction,
       answered_at = EXCLUDED.answered_at
     WHERE calls.direction IS NULL`,
    [
      c.callId,
      c.from || null,
      c.to || '122',
      c.startedAt,
      c.instanceId,
      c.channelUuid,
      c.direction,
      c.answeredAt,
    ],
  );
}

export async function cdrAddLeg(
  sql: Sql,
  callId: string,
  leg: Omit<SipLeg, 'at'>,
  at = new Date(),
): Promise<void> {
  await sql.query(`UPDATE calls SET legs = legs || $2::jsonb WHERE id = $1`, [
    callId,
    JSON.stringify([{ ...leg, at: at.toISOString() }]),
  ]);
}

/**
 * The SIP leg ended. The record is closed too if the dialog has not closed it (a call the bot never had, or
 * a caller who hung up mid-dialog: the bot's `endCall` then still writes the dialog's outcome).
 */
export async function cdrEnd(
  sql: Sql,
  callId: string,
  end: { endedAt: Date; outcome: string; endReason: string },
): Promise<void> {
  await sql.query(
    `UPDATE calls SET sip_ended_at = $2, sip_outcome = $3, sip_end_reason = $4,
       duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($2::timestamptz - COALESCE(answered_at, started_at))) * 1000)::bigint),
       ended_at = COALESCE(ended_at, $2),
       status = CASE WHEN status = 'active' THEN 'completed' ELSE status END
     WHERE id = $1 AND sip_ended_at IS NULL`,
    [callId, end.endedAt, end.outcome, end.endReason],
  );
}

/** The SIP facts of a `calls` row as read from the store; null where the call had no SIP leg. */
export function sipFacts(r: Record<string, unknown>): SipFacts | null {
  if (r.direction == null) return null;
  return {
    channelUuid: r.channel_uuid as string | null,
    direction: r.direction as SipFacts['direction'],
    answeredAt: r.answered_at as Date | null,
    endedAt: r.sip_ended_at as Date | null,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    outcome: r.sip_outcome as string | null,
    endReason: r.sip_end_reason as string | null,
    legs: (r.legs as SipLeg[] | null) ?? [],
  };
}
