/**
 * Inquiries, deadlines: the terms of the regional agreement for a registered question. The line passes it to
 * the agency within 15 minutes; the agency answers within working days, counted on the knowledge base's
 * production calendar in the region's time zone (kb/hours.ts does the working-day arithmetic, the KB reader
 * gives the calendar and the zone: this part never reads kb's tables).
 */
import { addWorkingDays, isWorkingDay, type ProductionCalendar } from '../kb/hours.js';
import type { KnowledgeBaseReader } from '../kb/knowledge-base.js';
import { zonedInstant, zonedParts } from '../kb/zoned-time.js';

/** The line passes a registered inquiry to the agency within 15 minutes. */
export const INQUIRY_DISPATCH_MS = 15 * 60_000;

export function inquiryDispatchDeadline(receivedAt: Date): Date {
  return new Date(receivedAt.getTime() + INQUIRY_DISPATCH_MS);
}

const HOUR_MS = 3_600_000;
/** The agency's daily cut-off: questions after it count from the next working day. */
const CUTOFF_MS = 16 * HOUR_MS;
const MAX_WORKING_DAYS = 5;

export interface DeadlineOptions {
  /** Working days the agency has to answer; 1 by default, never more than 5. */
  workingDays?: number;
}

/**
 * When a responsible agency must answer a question passed on by the line.
 * - Received on a working day before 16:00: by the same time of day, `workingDays` working days later.
 * - Received after 16:00, or on a non-working day: by 16:00 of the `workingDays`-th next working day.
 * The term is at least 1 and never more than 5 working days. Times are in `timezone` (the region's).
 */
export function agencyAnswerDeadline(
  receivedAt: Date,
  calendar: ProductionCalendar,
  timezone: string,
  opts: DeadlineOptions = {},
): Date {
  const term = Math.min(MAX_WORKING_DAYS, Math.max(1, Math.floor(opts.workingDays ?? 1)));
  const local = zonedParts(receivedAt, timezone);
  const inTime = isWorkingDay(calendar, local.date) && local.timeOfDayMs < CUTOFF_MS;
  const day = addWorkingDays(calendar, local.date, term);
  return zonedInstant(day, inTime ? local.timeOfDayMs : CUTOFF_MS, timezone);
}

export interface InquiryDeadlines {
  dispatchDueAt: Date;
  answerDueAt: Date;
  /** The region's time zone, in which the deadline is told to the caller. */
  timezone: string;
}

/** Both deadlines of a question received at `receivedAt`, on the calendar the knowledge base holds now. */
export async function inquiryDeadlines(
  kb: Pick<KnowledgeBaseReader, 'calendar' | 'timezone'>,
  receivedAt: Date,
): Promise<InquiryDeadlines> {
  const calendar = await kb.calendar();
  const timezone = await kb.timezone();
  return {
    dispatchDueAt: inquiryDispatchDeadline(receivedAt),
    answerDueAt: agencyAnswerDeadline(receivedAt, calendar, timezone),
    timezone,
  };
}
