/**
 * Inquiries, relay: the last step of an inquiry (regional rules), the agency's answer relayed to the caller.
 * The line calls the citizen back and runs the `inquiry-answer` flow, whose relay_answer step says the answer
 * and closes the inquiry (voicebot/flow/steps-relay.ts, through answer.ts). This job only places the calls:
 * within calling hours in the region's time zone, at most three attempts 30 minutes apart; after that the
 * inquiry waits for an operator to call by hand. Every attempt is counted before the call is placed, so two
 * sweeps never call one citizen twice for one attempt. Each inquiry of a request to several agencies is relayed
 * as its answer comes (answer.ts says why); an agency's extension gets a short notice callback (extension.ts).
 */
import { isOtklikError, OtklikError, toOtklikError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createKnowledgeBase } from '../kb/knowledge-base.js';
import { zonedParts } from '../kb/zoned-time.js';
import type { Sql } from '../store/sql.js';

export type PlaceCallStatus = 'answered' | 'busy' | 'no_answer' | 'failed';

export interface PlaceCallRequest {
  /** The callback number (personal data). */
  target: string;
  flowId: string;
  metadata: Record<string, unknown>;
}

/** Places a call and resolves with how it went (telephony's placeOutbound, or any call-leg channel). */
export type PlaceCall = (request: PlaceCallRequest) => Promise<{ status: PlaceCallStatus }>;

export interface RelayDeps {
  sql: Sql;
  log: Logger;
  placeCall: PlaceCall;
  now?: () => Date;
  /** The region's time zone; read from the knowledge base when not given. */
  timezone?: string;
  /**
   * An inquiry handed to operators (attempts used up, or a number the line cannot call): the composition root
   * makes it an operator's callback on the desk (telephony's callbacks, source 'inquiry'). A failure here is
   * logged; the inquiry stays flagged for operators all the same.
   */
  onNeedsOperator?: (inquiry: NeedsOperator) => Promise<void>;
}

export interface NeedsOperator {
  id: number;
  callbackNumber: string;
  callId: string;
  topicId: string | null;
}

export const RELAY_FLOW_ID = 'inquiry-answer';
export const RELAY_MAX_ATTEMPTS = 3;
export const RELAY_RETRY_MS = 30 * 60_000;
/** Citizens are not called at night: 09:00-21:00 local time of the region. */
export const CALLING_HOURS = { from: 9 * 3600_000, to: 21 * 3600_000 } as const;
/** Calls placed in one sweep at most; the rest follow in the next sweep a minute later. */
const BATCH = 20;

export interface RelaySummary {
  /** false outside calling hours: nothing was placed. */
  callingHours: boolean;
  placed: number;
  answered: number;
  notReached: number;
  /** Inquiries handed to operators in this sweep (attempts exhausted or a call that cannot be placed). */
  handedToOperators: number;
  /** Notice callbacks of an extension placed in this sweep (extension.ts). */
  notices: number;
}

export function withinCallingHours(at: Date, timeZone: string): boolean {
  const { timeOfDayMs } = zonedParts(at, timeZone);
  return timeOfDayMs >= CALLING_HOURS.from && timeOfDayMs < CALLING_HOURS.to;
}

const statuses: readonly PlaceCallStatus[] = ['answered', 'busy', 'no_answer', 'failed'];

/** Places the call; a throwing or malformed placeCall is a failed attempt with a coded error in the log. */
async function place(
  deps: RelayDeps,
  inquiryId: number,
  target: string,
): Promise<{ status: PlaceCallStatus; error?: OtklikError }> {
  try {
    const result = await deps.placeCall({
      target,
      flowId: RELAY_FLOW_ID,
      metadata: { inquiryId },
    });
    if (!statuses.includes(result?.status)) {
      throw new OtklikError('INTERNAL', `placeCall gave an unknown status ${JSON.stringify(result)}`);
    }
    return { status: result.status };
  } catch (err) {
    // The placing side's own coded errors keep their verdict (a number the trunk refuses is not retryable
    // and goes to a person); anything else is taken for a telephony outage that a later attempt may pass.
    const coded = isOtklikError(err)
      ? err
      : new OtklikError('UNAVAILABLE', toOtklikError(err).message, { retryable: true, cause: err });
    deps.log.warn(
      { inquiryId, code: coded.code, retryable: coded.retryable, err: coded.message },
      'the callback with the agency answer could not be placed',
    );
    return { status: 'failed', error: coded };
  }
}

/** One sweep: hands exhausted inquiries to operators, then places the callbacks that are due. */
export async function relayAnswers(deps: RelayDeps): Promise<RelaySummary> {
  const { sql, log } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const summary: RelaySummary = {
    callingHours: true,
    placed: 0,
    answered: 0,
    notReached: 0,
    handedToOperators: 0,
    notices: 0,
  };
  // An answered callback whose caller hung up before hearing the answer gets its retry too; once the third
  // attempt's retry time passes without a relay, the inquiry is an operator's.
  const exhausted = await sql.query<InquiryToCall>(
    `UPDATE inquiries SET relay_needs_operator = true
      WHERE status = 'answered' AND relayed_at IS NULL AND NOT relay_needs_operator
        AND relay_attempts >= $2 AND (relay_next_attempt_at IS NULL OR relay_next_attempt_at <= $1)
      RETURNING id, callback_number, call_id, topic_id`,
    [now, RELAY_MAX_ATTEMPTS],
  );
  summary.handedToOperators += exhausted.length;
  for (const inquiry of exhausted) {
    log.warn({ inquiryId: inquiry.id }, 'agency answer not relayed in 3 calls; an operator must call');
    await toOperators(deps, inquiry);
  }

  const timeZone = deps.timezone ?? (await createKnowledgeBase(sql).timezone());
  if (!withinCallingHours(now, timeZone)) {
    summary.callingHours = false;
    return summary;
  }
  const due = await sql.query<InquiryToCall & { relay_attempts: number }>(
    `SELECT id, callback_number, call_id, topic_id, relay_attempts FROM inquiries
      WHERE status = 'answered' AND relayed_at IS NULL AND NOT relay_needs_operator
        AND callback_number <> '' AND relay_attempts < $2
        AND (relay_next_attempt_at IS NULL OR relay_next_attempt_at <= $1)
      ORDER BY answered_at, id LIMIT ${BATCH}`,
    [now, RELAY_MAX_ATTEMPTS],
  );
  summary.notices = await placeExtensionNotices(deps, now);
  for (const inquiry of due) {
    // Claim the attempt first: a sweep running beside this one finds the count moved on and skips it.
    const claimed = await sql.query<{ relay_attempts: number }>(
      `UPDATE inquiries SET relay_attempts = relay_attempts + 1, relay_last_attempt_at = $2,
              relay_next_attempt_at = $3
        WHERE id = $1 AND relay_attempts = $4 AND status = 'answered' AND relayed_at IS NULL
        RETURNING relay_attempts`,
      [inquiry.id, now, new Date(now.getTime() + RELAY_RETRY_MS), inquiry.relay_attempts],
    );
    const attempts = claimed[0]?.relay_attempts;
    if (attempts === undefined) continue;
    summary.placed++;
    const { status, error } = await place(deps, inquiry.id, inquiry.callback_number);
    const reached = status === 'answered';
    if (reached) summary.answered++;
    else summary.notReached++;
    const toOperator =
      !reached && (attempts >= RELAY_MAX_ATTEMPTS || (error !== undefined && !error.retryable));
    if (toOperator) summary.handedToOperators++;
    await sql.query(
      `UPDATE inquiries SET relay_last_result = $2,
              relay_needs_operator = relay_needs_operator OR ($3 AND relayed_at IS NULL)
        WHERE id = $1`,
      [inquiry.id, status, toOperator],
    );
    log.info(
      { inquiryId: inquiry.id, attempt: attempts, status, toOperator },
      'callback with the agency answer placed',
    );
    if (toOperator) await toOperators(deps, inquiry);
  }
  return summary;
}

/**
 * Notice callbacks of an extension (extension.ts): the same flow with `notice: 'extension'` in the metadata,
 * whose relay_answer step says the new date. At most three attempts 30 minutes apart, counted before the call
 * as the answers' are; one never reached is left: the answer's callback says the date.
 */
async function placeExtensionNotices(deps: RelayDeps, now: Date): Promise<number> {
  const due = await deps.sql.query<{
    id: number | string;
    callback_number: string;
    extension_notice_attempts: number;
  }>(
    `SELECT id, callback_number, extension_notice_attempts FROM inquiries
      WHERE extension_notice_due_at IS NOT NULL AND extension_notice_due_at <= $1 AND extension_noticed_at IS NULL
        AND status IN ('registered', 'dispatched') AND callback_number <> '' AND extension_notice_attempts < $2
      ORDER BY extension_notice_due_at, id LIMIT ${BATCH}`,
    [now, RELAY_MAX_ATTEMPTS],
  );
  let placed = 0;
  for (const inquiry of due) {
    const id = Number(inquiry.id);
    const claimed = await deps.sql.query(
      `UPDATE inquiries SET extension_notice_attempts = extension_notice_attempts + 1, extension_notice_due_at = $3
        WHERE id = $1 AND extension_notice_attempts = $2 AND extension_noticed_at IS NULL RETURNING id`,
      [id, inquiry.extension_notice_attempts, new Date(now.getTime() + RELAY_RETRY_MS)],
    );
    if (claimed.length === 0) continue;
    placed++;
    try {
      const result = await deps.placeCall({
        target: inquiry.callback_number,
        flowId: RELAY_FLOW_ID,
        metadata: { inquiryId: id, notice: 'extension' },
      });
      deps.log.info({ inquiryId: id, status: result?.status }, 'extension notice callback placed');
    } catch (err) {
      deps.log.warn({ inquiryId: id, err: toOtklikError(err).message }, 'extension notice callback failed');
    }
  }
  return placed;
}

interface InquiryToCall {
  id: number;
  callback_number: string;
  call_id: string;
  topic_id: string | null;
}

async function toOperators(deps: RelayDeps, inquiry: InquiryToCall): Promise<void> {
  if (!deps.onNeedsOperator || !inquiry.callback_number) return;
  try {
    await deps.onNeedsOperator({
      id: inquiry.id,
      callbackNumber: inquiry.callback_number,
      callId: inquiry.call_id,
      topicId: inquiry.topic_id,
    });
  } catch (err) {
    deps.log.error({ err, inquiryId: inquiry.id }, 'the operator callback of an inquiry was not created');
  }
}
