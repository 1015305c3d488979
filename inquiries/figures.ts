/**
 * Inquiries, figures: for supervisors, how many inquiries broke the 15-minute or the agency's deadline, are
 * stuck on their way to the agency, and where relaying the answers back to callers stands. The overview
 * (admin/plugins/calls.ts) shows them; the staff list (list.ts) flags stuck ones by the same definition.
 */
import type { Sql } from '../store/sql.js';

export interface InquiryFigures {
  registered: number;
  dispatchedLate: number;
  waitingForAgency: number;
  agencyOverdue: number;
  answered: number;
  /** The agency's answer reached the caller (relay_answer on the callback). */
  relayed: number;
  /** Answered, callbacks still to be tried (inquiries/relay.ts). */
  awaitingRelay: number;
  /** Three callbacks did not reach the caller: an operator must call by hand. */
  relayToOperator: number;
  /** Not passed to the agency: the mail was refused for good, or the dispatch deadline passed unsent. */
  dispatchStuck: number;
}

/**
 * An inquiry stuck on its way to the agency (parameter $1 is now): a supervisor must act. One definition for
 * the overview's count and the list's flag (list.ts); SQL over this part's own table only.
 */
export const dispatchStuckSql = `(status = 'registered' AND dispatched_at IS NULL
  AND (dispatch_error IS NOT NULL OR dispatch_due_at < $1))`;

/** The figures at `now`: counts by status, by deadline broken, stuck and to be relayed. */
export async function inquiryFigures(sql: Sql, now: Date): Promise<InquiryFigures> {
  const [row] = await sql.query<InquiryFigures>(
    `SELECT count(*)::int8 AS "registered",
            count(*) FILTER (WHERE COALESCE(dispatched_at, $1) > dispatch_due_at)::int8 AS "dispatchedLate",
            count(*) FILTER (WHERE status IN ('registered', 'dispatched'))::int8 AS "waitingForAgency",
            count(*) FILTER (WHERE status IN ('registered', 'dispatched') AND answer_due_at < $1)::int8 AS "agencyOverdue",
            count(*) FILTER (WHERE status IN ('answered', 'closed'))::int8 AS "answered",
            count(*) FILTER (WHERE relayed_at IS NOT NULL)::int8 AS "relayed",
            count(*) FILTER (WHERE status = 'answered' AND relayed_at IS NULL AND NOT relay_needs_operator)::int8 AS "awaitingRelay",
            count(*) FILTER (WHERE status = 'answered' AND relayed_at IS NULL AND relay_needs_operator)::int8 AS "relayToOperator",
            count(*) FILTER (WHERE ${dispatchStuckSql})::int8 AS "dispatchStuck"
       FROM inquiries`,
    [now],
  );
  return row!;
}
