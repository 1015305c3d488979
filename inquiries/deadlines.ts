/**
 * Inquiries, deadlines: the terms of the agreement with the agency for a registered question. The terms are the
 * knowledge base's (kb/inquiry-terms.ts: the region's default with the agency's overrides, read through the KB
 * reader; the Irkutsk rule in the sample: 15 minutes to send, one working day, after 16:00 by 16:00 of the next
 * working day, at most five). The arithmetic is here, on the KB's production calendar in the region's time zone
 * (kb/hours.ts does the working-day steps; this part never reads kb's tables).
 */
import { addWorkingDays, isWorkingDay, nextWorkingDay, type ProductionCalendar } from '../kb/hours.js';
import { type InquiryTerms, IRKUTSK_TERMS } from '../kb/inquiry-terms.js';
import type { KnowledgeBaseReader } from '../kb/knowledge-base.js';
import { addDays, parseClock, zonedInstant, zonedParts } from '../kb/zoned-time.js';

/** The Irkutsk rule's 15 minutes to dispatch (the sample's default; the KB's terms decide). */
export const INQUIRY_DISPATCH_MS = IRKUTSK_TERMS.dispatchMinutes * 60_000;

export function inquiryDispatchDeadline(
  receivedAt: Date,
  dispatchMinutes = IRKUTSK_TERMS.dispatchMinutes,
): Date {
  return new Date(receivedAt.getTime() + dispatchMinutes * 60_000);
}

const HOUR_MS = 3_600_000;

export type AnswerTerm = Pick<InquiryTerms, 'answerUnit' | 'answerAmount' | 'cutoff' | 'maxAmount'>;

export interface DeadlineOptions {
  /** Working days the agency has to answer (the Irkutsk rule with another term); at most 5. */
  workingDays?: number;
}

/**
 * When the agency must answer a question whose term counts from `from`, by the agreement's `term`:
 * - hours: `answerAmount` clock hours after `from` (the cut-off does not apply).
 * - working_days: a question on a working day before the cut-off is due at the same time of day, that many
 *   working days later; one after the cut-off, or on a day off, by the cut-off time of the `answerAmount`-th
 *   next working day (without a cut-off, at the time of day it came).
 * - calendar_days: the same, counting every day; a deadline that falls on a day off moves to the next working
 *   day (Civil Code art. 193), at the same time of day.
 * The amount is at least 1 and never more than `maxAmount`. Days are the region's (`timezone`).
 */
export function answerDeadline(
  from: Date,
  term: AnswerTerm,
  calendar: ProductionCalendar,
  timezone: string,
): Date {
  const amount = Math.min(term.maxAmount, Math.max(1, Math.floor(term.answerAmount)));
  if (term.answerUnit === 'hours') return new Date(from.getTime() + amount * HOUR_MS);
  const local = zonedParts(from, timezone);
  const cutoffMs = term.cutoff === null ? null : parseClock(term.cutoff);
  if (term.answerUnit === 'working_days') {
    const late = !isWorkingDay(calendar, local.date) || (cutoffMs !== null && local.timeOfDayMs >= cutoffMs);
    const day = addWorkingDays(calendar, local.date, amount);
    return zonedInstant(day, late && cutoffMs !== null ? cutoffMs : local.timeOfDayMs, timezone);
  }
  const late = cutoffMs !== null && local.timeOfDayMs >= cutoffMs;
  let day = addDays(local.date, amount);
  if (!isWorkingDay(calendar, day)) day = nextWorkingDay(calendar, day);
  return zonedInstant(day, late && cutoffMs !== null ? cutoffMs : local.timeOfDayMs, timezone);
}

/** The Irkutsk rule (the sample's default) with `workingDays` as the term: kept for callers that have no terms. */
export function agencyAnswerDeadline(
  receivedAt: Date,
  calendar: ProductionCalendar,
  timezone: string,
  opts: DeadlineOptions = {},
): Date {
  return answerDeadline(
    receivedAt,
    { ...IRKUTSK_TERMS, answerAmount: opts.workingDays ?? IRKUTSK_TERMS.answerAmount },
    calendar,
    timezone,
  );
}

export interface InquiryDeadlines {
  dispatchDueAt: Date;
  answerDueAt: Date;
  /** The region's time zone, in which the deadline is told to the caller. */
  timezone: string;
  /** The agreement the deadlines follow (kept on the inquiry: an extension counts on it). */
  terms: InquiryTerms;
}

/**
 * Both deadlines of a question for `agencyId` (the region's default terms without one) whose term counts from
 * `receivedAt`, on the calendar and terms the knowledge base holds now.
 */
export async function inquiryDeadlines(
  kb: Pick<KnowledgeBaseReader, 'calendar' | 'timezone' | 'inquiryTerms'>,
  receivedAt: Date,
  agencyId: string | null = null,
): Promise<InquiryDeadlines> {
  const calendar = await kb.calendar();
  const timezone = await kb.timezone();
  const terms = await kb.inquiryTerms(agencyId);
  return {
    dispatchDueAt: inquiryDispatchDeadline(receivedAt, terms.dispatchMinutes),
    answerDueAt: answerDeadline(receivedAt, terms, calendar, timezone),
    timezone,
    terms,
  };
}

/** The term in words for staff and the citizen: «3 рабочих дня», «24 часа», «10 календарных дней». */
export function termInWords(amount: number, unit: InquiryTerms['answerUnit']): string {
  const n = Math.abs(amount) % 100;
  const n1 = n % 10;
  const form = n > 10 && n < 20 ? 2 : n1 === 1 ? 0 : n1 >= 2 && n1 <= 4 ? 1 : 2;
  const words = {
    hours: ['час', 'часа', 'часов'],
    calendar_days: ['календарный день', 'календарных дня', 'календарных дней'],
    working_days: ['рабочий день', 'рабочих дня', 'рабочих дней'],
  }[unit];
  return `${amount} ${words[form]}`;
}
