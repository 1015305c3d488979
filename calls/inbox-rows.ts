/**
 * The knowledge studio's inbox reads the callers' turns the bot did not handle well (admin/plugins/inbox.ts):
 * this part owns the turns, so the query is here. A caller turn is a candidate when it was
 *   - confirmed_wrong: the bot asked to confirm what it understood (a bot turn carrying the intent it asks
 *     about, voicebot/flow/steps-consult.ts confirmStep) and the caller's next turn said «нет» (dialog.no) or
 *     pressed 2: the caller's words before that question were misread;
 *   - not_understood: classified out_of_scope;
 *   - low_confidence: a question intent below the given confidence;
 *   - to_operator: any other question of a call that reached an operator (before the operator joined).
 * One reason per turn, in that order. Dialog control (dialog.*), service requests (service.*: «соедините с
 * оператором») and emergencies are never candidates. The period is that of the calls' start.
 */
import type { Sql } from '../store/sql.js';

export type InboxReason = 'confirmed_wrong' | 'not_understood' | 'low_confidence' | 'to_operator';

export interface InboxTurn {
  callId: string;
  seq: number;
  /** When it was said (the call's start plus the turn's offset). */
  at: Date;
  /** The caller's words as stored: personal data, the caller masks them before showing. */
  text: string;
  intent: string;
  confidence: number | null;
  reason: InboxReason;
}

export interface InboxQuery {
  from: Date;
  to: Date;
  /** A question intent below this confidence is low_confidence (the serving model's confirm threshold). */
  lowConfidence: number;
  /** At most this many turns, the latest first (default 5000). */
  limit?: number;
}

const TURNS = `SELECT t.call_id, t.seq, t.who, t.text, t.intent, t.confidence, t.dtmf,
         c.started_at + t.at_ms * interval '1 millisecond' AS at, c.outcome, c.operator_id
    FROM call_turns t JOIN calls c ON c.id = t.call_id
   WHERE c.started_at >= $1 AND c.started_at < $2`;

export async function inboxTurns(sql: Sql, q: InboxQuery): Promise<InboxTurn[]> {
  const rows = await sql.query<{
    call_id: string;
    seq: number;
    at: Date;
    text: string;
    intent: string;
    confidence: number | null;
    reason: InboxReason;
  }>(
    `WITH turns AS (${TURNS}),
     confirmed_wrong AS (
       SELECT DISTINCT b.call_id, x.seq
         FROM turns b
         JOIN LATERAL (SELECT x.seq FROM turns x
                        WHERE x.call_id = b.call_id AND x.seq < b.seq AND x.who = 'caller' AND x.dtmf IS NULL
                        ORDER BY x.seq DESC LIMIT 1) x ON true
         JOIN LATERAL (SELECT y.intent, y.dtmf FROM turns y
                        WHERE y.call_id = b.call_id AND y.seq > b.seq AND y.who = 'caller'
                        ORDER BY y.seq LIMIT 1) y ON true
        WHERE b.who = 'bot' AND b.intent IS NOT NULL AND (y.intent = 'dialog.no' OR y.dtmf = '2')
     ),
     operator_joined AS (SELECT call_id, min(seq) AS seq FROM turns WHERE who = 'operator' GROUP BY call_id),
     candidates AS (
       SELECT t.call_id, t.seq, t.at, t.text, t.intent, t.confidence,
              CASE WHEN cw.seq IS NOT NULL THEN 'confirmed_wrong'
                   WHEN t.intent = 'out_of_scope' THEN 'not_understood'
                   WHEN t.confidence < $3 THEN 'low_confidence'
                   WHEN t.outcome IN ('escalated', 'operator') OR t.operator_id IS NOT NULL THEN 'to_operator'
              END AS reason
         FROM turns t
         LEFT JOIN confirmed_wrong cw ON cw.call_id = t.call_id AND cw.seq = t.seq
         LEFT JOIN operator_joined oj ON oj.call_id = t.call_id
        WHERE t.who = 'caller' AND t.dtmf IS NULL AND t.intent IS NOT NULL AND btrim(t.text) <> ''
          AND t.intent NOT LIKE 'dialog.%' AND t.intent NOT LIKE 'service.%' AND t.intent <> 'emergency'
          AND (oj.seq IS NULL OR t.seq < oj.seq)
     )
     SELECT * FROM candidates WHERE reason IS NOT NULL ORDER BY at DESC, call_id, seq LIMIT $4`,
    [q.from, q.to, q.lowConfidence, q.limit ?? 5000],
  );
  return rows.map((r) => ({
    callId: r.call_id,
    seq: Number(r.seq),
    at: r.at,
    text: r.text,
    intent: r.intent,
    confidence: r.confidence === null ? null : Number(r.confidence),
    reason: r.reason,
  }));
}

export interface TurnWeek {
  /** The Monday the ISO week starts on, in the given time zone (YYYY-MM-DD). */
  week: string;
  /** The callers' turns the NLU read (speech and chat messages, not keys). */
  turns: number;
  /** Of them classified out_of_scope. */
  unrecognized: number;
}

/**
 * The callers' classified turns per ISO week (local weeks of `timeZone`) of the calls started in [from, to),
 * and how many of them the bot did not understand (out_of_scope): the inbox's «is the line learning» figure.
 * Weeks without turns are absent.
 */
export async function callerTurnWeeks(
  sql: Sql,
  q: { from: Date; to: Date; timeZone: string },
): Promise<TurnWeek[]> {
  const rows = await sql.query<{ week: string; turns: number; unrecognized: number }>(
    `SELECT to_char(date_trunc('week', (c.started_at + t.at_ms * interval '1 millisecond') AT TIME ZONE $3),
                    'YYYY-MM-DD') AS week,
            count(*)::int AS turns,
            (count(*) FILTER (WHERE t.intent = 'out_of_scope'))::int AS unrecognized
       FROM call_turns t JOIN calls c ON c.id = t.call_id
      WHERE c.started_at >= $1 AND c.started_at < $2
        AND t.who = 'caller' AND t.dtmf IS NULL AND t.intent IS NOT NULL
      GROUP BY 1 ORDER BY 1`,
    [q.from, q.to, q.timeZone],
  );
  return rows.map((r) => ({ week: r.week, turns: Number(r.turns), unrecognized: Number(r.unrecognized) }));
}
