import { z } from 'zod';
import { parseClock } from './zoned-time.js';

/**
 * The terms of the agreement with an agency for the inquiries the line passes it (Irkutsk's regulation 10.1-10.3;
 * Yakutia's model agreement leaves the term to each agreement): minutes to dispatch, the answer term (an amount
 * of hours, calendar days or working days), the daily cut-off after which a question counts from the next day,
 * and the maximum the term may reach with extensions. The region's default sits next to kb_meta (YAML
 * `inquiry_terms:`), an agency's agreement overrides any of the fields (YAML `agencies[].inquiry_terms:`). The
 * KB owns the terms; the inquiries part reads them through the KnowledgeBaseReader and does the arithmetic.
 */
export const answerTermUnits = ['hours', 'calendar_days', 'working_days'] as const;
export type AnswerTermUnit = (typeof answerTermUnits)[number];

export interface InquiryTerms {
  /** Minutes the line has to pass a registered question on. */
  dispatchMinutes: number;
  answerUnit: AnswerTermUnit;
  /** The answer term in `answerUnit`. */
  answerAmount: number;
  /** "HH:MM" local time: a question after it counts from the next day; null: no cut-off (ignored for hours). */
  cutoff: string | null;
  /** The longest term, extensions included, in `answerUnit`. */
  maxAmount: number;
}

/** The Irkutsk rule: 15 minutes to send; one working day; after 16:00 by 16:00 of the next; at most five. */
export const IRKUTSK_TERMS: InquiryTerms = {
  dispatchMinutes: 15,
  answerUnit: 'working_days',
  answerAmount: 1,
  cutoff: '16:00',
  maxAmount: 5,
};

const clock = z.string().refine((s) => {
  try {
    parseClock(s);
    return s !== '24:00';
  } catch {
    return false;
  }
}, 'expected a time "HH:MM" such as "16:00"');

const positive = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be at least 1`);

const fields = {
  dispatch_minutes: positive('dispatch_minutes').max(7 * 24 * 60, 'dispatch_minutes must be at most a week'),
  answer_unit: z.enum(answerTermUnits, { error: 'answer_unit is one of hours, calendar_days, working_days' }),
  answer_amount: positive('answer_amount').max(1000, 'answer_amount must be at most 1000'),
  cutoff: clock.nullable(),
  max_amount: positive('max_amount').max(1000, 'max_amount must be at most 1000'),
};

/** The region's default (YAML `inquiry_terms:`); a field left out is the Irkutsk rule's. */
export const regionTermsSchema = z
  .strictObject({
    dispatch_minutes: fields.dispatch_minutes.default(IRKUTSK_TERMS.dispatchMinutes),
    answer_unit: fields.answer_unit.default(IRKUTSK_TERMS.answerUnit),
    answer_amount: fields.answer_amount.default(IRKUTSK_TERMS.answerAmount),
    cutoff: fields.cutoff.default(IRKUTSK_TERMS.cutoff),
    max_amount: fields.max_amount.default(IRKUTSK_TERMS.maxAmount),
  })
  .default({
    dispatch_minutes: IRKUTSK_TERMS.dispatchMinutes,
    answer_unit: IRKUTSK_TERMS.answerUnit,
    answer_amount: IRKUTSK_TERMS.answerAmount,
    cutoff: IRKUTSK_TERMS.cutoff,
    max_amount: IRKUTSK_TERMS.maxAmount,
  });

/** An agency's agreement (YAML `agencies[].inquiry_terms:`): the fields it sets; `cutoff: null` is none. */
export const agencyTermsSchema = z.strictObject({
  dispatch_minutes: fields.dispatch_minutes.optional(),
  answer_unit: fields.answer_unit.optional(),
  answer_amount: fields.answer_amount.optional(),
  cutoff: fields.cutoff.optional(),
  max_amount: fields.max_amount.optional(),
});

export type RegionTermsDoc = z.infer<typeof regionTermsSchema>;
export type AgencyTermsDoc = z.infer<typeof agencyTermsSchema>;

export function termsFromDoc(doc: RegionTermsDoc): InquiryTerms {
  return {
    dispatchMinutes: doc.dispatch_minutes,
    answerUnit: doc.answer_unit,
    answerAmount: doc.answer_amount,
    cutoff: doc.cutoff,
    maxAmount: doc.max_amount,
  };
}

/** An agency's agreement over the region's default. */
export function mergeTerms(region: InquiryTerms, agency: AgencyTermsDoc | null | undefined): InquiryTerms {
  if (!agency) return region;
  return {
    dispatchMinutes: agency.dispatch_minutes ?? region.dispatchMinutes,
    answerUnit: agency.answer_unit ?? region.answerUnit,
    answerAmount: agency.answer_amount ?? region.answerAmount,
    cutoff: agency.cutoff === undefined ? region.cutoff : agency.cutoff,
    maxAmount: agency.max_amount ?? region.maxAmount,
  };
}

/** The one consistency rule across fields: the term is within its maximum. */
export function termsIssue(terms: InquiryTerms): { field: 'answer_amount'; message: string } | null {
  if (terms.answerAmount <= terms.maxAmount) return null;
  return {
    field: 'answer_amount',
    message: `answer_amount ${terms.answerAmount} exceeds max_amount ${terms.maxAmount} (in ${terms.answerUnit})`,
  };
}

// The store: kb_meta holds the region's (NOT NULL, cut-off 'none' for none); agencies hold the overrides,
// NULL where the agency follows the region (migration 0315).
type Row = Record<string, unknown>;
const NONE = 'none';

export const termColumns = {
  inquiry_dispatch_minutes: 'integer',
  inquiry_answer_unit: 'text',
  inquiry_answer_amount: 'integer',
  inquiry_cutoff: 'text',
  inquiry_max_amount: 'integer',
} as const;

export function regionTermsRow(doc: RegionTermsDoc): Row {
  return {
    inquiry_dispatch_minutes: doc.dispatch_minutes,
    inquiry_answer_unit: doc.answer_unit,
    inquiry_answer_amount: doc.answer_amount,
    inquiry_cutoff: doc.cutoff ?? NONE,
    inquiry_max_amount: doc.max_amount,
  };
}

export function agencyTermsRow(doc: AgencyTermsDoc | null | undefined): Row {
  return {
    inquiry_dispatch_minutes: doc?.dispatch_minutes ?? null,
    inquiry_answer_unit: doc?.answer_unit ?? null,
    inquiry_answer_amount: doc?.answer_amount ?? null,
    inquiry_cutoff: doc?.cutoff === undefined ? null : (doc.cutoff ?? NONE),
    inquiry_max_amount: doc?.max_amount ?? null,
  };
}

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

export function regionTermsFromRow(r: Row | null | undefined): RegionTermsDoc {
  if (!r) return regionTermsSchema.parse(undefined);
  return {
    dispatch_minutes: Number(r.inquiry_dispatch_minutes ?? IRKUTSK_TERMS.dispatchMinutes),
    answer_unit: (r.inquiry_answer_unit ?? IRKUTSK_TERMS.answerUnit) as AnswerTermUnit,
    answer_amount: Number(r.inquiry_answer_amount ?? IRKUTSK_TERMS.answerAmount),
    cutoff: r.inquiry_cutoff === NONE ? null : String(r.inquiry_cutoff ?? IRKUTSK_TERMS.cutoff),
    max_amount: Number(r.inquiry_max_amount ?? IRKUTSK_TERMS.maxAmount),
  };
}

/** The overrides of an agency row; null when it follows the region in everything. */
export function agencyTermsFromRow(r: Row): AgencyTermsDoc | null {
  const out: AgencyTermsDoc = {};
  const dispatch = num(r.inquiry_dispatch_minutes);
  if (dispatch !== undefined) out.dispatch_minutes = dispatch;
  if (r.inquiry_answer_unit != null) out.answer_unit = r.inquiry_answer_unit as AnswerTermUnit;
  const amount = num(r.inquiry_answer_amount);
  if (amount !== undefined) out.answer_amount = amount;
  if (r.inquiry_cutoff != null) out.cutoff = r.inquiry_cutoff === NONE ? null : String(r.inquiry_cutoff);
  const max = num(r.inquiry_max_amount);
  if (max !== undefined) out.max_amount = max;
  return Object.keys(out).length > 0 ? out : null;
}
