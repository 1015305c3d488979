import { z } from 'zod';
import { checklistItemSchema } from './checklist.js';
import { flowShapeIssues } from './flow-check.js';
import { agencyTermsSchema, regionTermsSchema } from './inquiry-terms.js';
import { kbIdPattern, kbIdRule } from './sample-intents.js';
import { isValidTimeZone, parseClock, weekdays } from './zoned-time.js';

/**
 * The knowledge base as one YAML document (kb/seed/FORMAT.md): the shape of `kb export` and `kb import`.
 * Field names are the YAML's (snake_case). Cross-references are checked separately (references.ts).
 */
export const KB_FORMAT = 'otklik-kb/1';

const id = z.string().regex(/^[a-z0-9_.-]+$/, 'ids are lower-case ASCII [a-z0-9_.-]');
const text = z.string().trim().min(1, 'must not be empty');
const optionalText = z.string().nullish();

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((d) => {
    const parsed = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(d);
  }, 'no such calendar date');

const instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/,
    'expected an ISO 8601 instant with offset, e.g. 2026-10-01T10:00:00+03:00',
  )
  .refine((s) => !Number.isNaN(Date.parse(s)), 'no such instant');

const timeZone = z.string().refine(isValidTimeZone, 'unknown IANA time zone');

/** A KB document without `timezone` (and kb_meta's column default, migration 0001): the line's zone. */
export const DEFAULT_REGION_TIMEZONE = 'Europe/Moscow';

const interval = z.string().refine((s) => {
  const [from, to, ...rest] = s.split('-');
  if (rest.length > 0) return false;
  try {
    return parseClock(from ?? '') !== parseClock(to ?? '');
  } catch {
    return false;
  }
}, 'expected an interval "HH:MM-HH:MM"');

const weekday = z.enum(weekdays as [string, ...string[]]);
/** Topic and intent ids: open, chosen by the editors (uniqueness is checked with the references). */
const kbId = z.string().regex(kbIdPattern, kbIdRule);
const topicId = kbId;

const calendarDay = z.strictObject({
  date: isoDate,
  kind: z.enum(['holiday', 'working_day', 'short_day']),
  title: z.string().default(''),
  works_as: z.enum(['mon', 'tue', 'wed', 'thu', 'fri']).nullish(),
});

const schedule = z.strictObject({
  id,
  title: text,
  always_open: z.boolean().default(false),
  timezone: timeZone.nullish(),
  observe_calendar: z.boolean().default(true),
  weekly: z.partialRecord(weekday, z.array(interval)).default({}),
});

const participant = z.strictObject({ id, name: text });

const agency = z.strictObject({
  id,
  name: text,
  participant: id.nullish(),
  forward_number: z
    .string()
    .regex(/^\+?[0-9 ()-]{3,24}$/, 'expected a phone number such as "+7 000 000-00-01"')
    .nullish(),
  contact_person: optionalText,
  email: z.email('expected an e-mail address').nullish(),
  schedule: id,
  /** The agency's agreement: fields that differ from the region's `inquiry_terms`. */
  inquiry_terms: agencyTermsSchema.nullish(),
});

const topic = z.strictObject({
  id: topicId,
  title: text,
  agency: id.nullish(),
  participant: id.nullish(),
  /** Retired (kb/topic-editor.ts): its intents are not trained, classified or served. */
  retired: z.boolean().optional(),
});

const intent = z.strictObject({
  id: kbId,
  topic: topicId,
  title: text,
  handling: z.enum(['answer', 'operator', 'forward', 'system']),
  phrases: z.array(text).default([]),
  /** Retired: not trained, classified or served; kept for the calls and inquiries that name it. */
  retired: z.boolean().optional(),
  /** The intent a merge moved this one's phrases to (a merged intent is retired). */
  merged_into: kbId.optional(),
});

const answerVersion = z.strictObject({
  version: z.number().int().positive(),
  status: z.enum(['draft', 'pending_approval', 'approved', 'retired']),
  speech: text,
  /** The written form for the web chat; absent: the chat shows `speech`. */
  chat: optionalText,
  /** The operator's card (the desk shows it). */
  screen: text,
  /** What the line does once this version is approved (kb/answer-handling.ts). */
  handling: z.enum(['answer', 'forward', 'inquiry']).optional(),
  author: optionalText,
  created_at: instant.nullish(),
  submitted_at: instant.nullish(),
  approved_by: optionalText,
  approved_at: instant.nullish(),
  retired_at: instant.nullish(),
  note: optionalText,
  review_note: optionalText,
  returned_by: optionalText,
  returned_at: instant.nullish(),
});

const answer = z.strictObject({
  intent: z.string().min(1),
  versions: z.array(answerVersion).min(1, 'an answer needs at least one version'),
});

/** `text` is spoken (TTS reads it); `chat` is the written form for the text chat, when it differs. */
const prompt = z.strictObject({ id, text, chat: text.optional() });

const action = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('topic'), topic: topicId }),
  z.strictObject({ kind: z.literal('queue'), queue: id }),
  z.strictObject({ kind: z.literal('forward'), agency: id }),
  z.strictObject({ kind: z.literal('message'), prompt: id }),
  z.strictObject({ kind: z.literal('submenu'), menu: id }),
]);

const menuItem = z.strictObject({
  digit: z
    .union([z.string(), z.number().int()])
    .transform(String)
    .pipe(z.string().regex(/^[0-9*#]$/, 'a digit is one of 0-9, * or #')),
  label: text,
  keywords: z.array(text).default([]),
  action,
});

const menu = z.strictObject({ id, prompt: id, items: z.array(menuItem) });

const incident = z.strictObject({
  id,
  level: z.enum(['federal', 'regional']),
  title: text,
  announcement: text,
  starts_at: instant,
  ends_at: instant.nullish(),
  topic: topicId.nullish(),
  /** On the air only once this intent's answer is approved (an incident started with its own answer). */
  awaits_intent: kbId.nullish(),
});

/**
 * A call flow (flow-schema.ts): checked in full, kept as written (the defaults are the voice bot's to fill),
 * so that export gives back the author's document. Links and references: references.ts.
 */
/**
 * A number the line serves (kb/numbers.ts) and the flow its calls run; compared by its digits, so two
 * entries may not be the same number written differently (references.ts).
 */
const servedNumber = z.strictObject({
  number: z
    .string()
    .regex(/^\+?[0-9 ()-]{2,24}$/, 'expected a phone number such as "122" or "+7 800 200-01-22"')
    .refine((n) => {
      const digits = n.replace(/\D/g, '').length;
      return digits >= 2 && digits <= 15;
    }, 'a number has 2 to 15 digits'),
  title: z.string().default(''),
  flow: id,
  note: optionalText,
});

const flow = z.looseObject({ id }).superRefine((doc, ctx) => {
  for (const issue of flowShapeIssues(doc).issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

export const kbDocumentSchema = z.strictObject({
  format: z.literal(KB_FORMAT).default(KB_FORMAT),
  region: z.string().default(''),
  timezone: timeZone.default(DEFAULT_REGION_TIMEZONE),
  /** The region's default terms for inquiries (kb/inquiry-terms.ts); the Irkutsk rule when left out. */
  inquiry_terms: regionTermsSchema,
  calendar: z.array(calendarDay).default([]),
  schedules: z.array(schedule).default([]),
  participants: z.array(participant).default([]),
  agencies: z.array(agency).default([]),
  topics: z.array(topic).default([]),
  intents: z.array(intent).default([]),
  answers: z.array(answer).default([]),
  prompts: z.array(prompt).default([]),
  menus: z.array(menu).default([]),
  incidents: z.array(incident).default([]),
  flows: z.array(flow).default([]),
  /** The numbers the line serves and the flow each runs (122 → default, 117 → …). */
  numbers: z.array(servedNumber).default([]),
  /** Clinic, district and town names for speech-recognition hints. */
  vocabulary: z.array(text).default([]),
  /**
   * The supervisors' quality checklist (kb/checklist.ts). Unlike the other sections, a file without it
   * leaves the stored checklist as it is (exports older than the section keep importing); with it, items it
   * leaves out are retired.
   */
  checklist: z.array(checklistItemSchema).optional(),
  /**
   * The held-out set the editors keep (kb/test-phrases.ts): phrases per intent that models are tested on and
   * never trained on. Like the checklist, a file without the section leaves the stored set as it is.
   */
  test_phrases: z.array(z.strictObject({ intent: z.string().min(1), phrases: z.array(text) })).optional(),
});

export type KbDocument = z.infer<typeof kbDocumentSchema>;
export type KbAnswerVersion = z.infer<typeof answerVersion>;
export type KbMenuAction = z.infer<typeof action>;

/** Section names in document order (export writes them in this order). */
export const sectionNames = Object.keys(kbDocumentSchema.shape) as (keyof KbDocument)[];
/** Sections that are lists of items (merged item by item when seed files are combined). */
export const listSections = sectionNames.filter(
  (s) => !['format', 'region', 'timezone', 'inquiry_terms'].includes(s),
);
