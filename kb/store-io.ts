import type { Sql } from '../store/sql.js';
import { listChecklist, writeChecklist } from './checklist.js';
import type { KbDocument } from './document.js';
import { DEFAULT_REGION_TIMEZONE, KB_FORMAT } from './document.js';
import {
  agencyTermsFromRow,
  agencyTermsRow,
  regionTermsFromRow,
  regionTermsRow,
  termColumns,
} from './inquiry-terms.js';
import { numberColumns, numberRow, readNumbers } from './numbers.js';
import { readTestPhraseGroups, writeTestPhraseGroups } from './test-phrases.js';
import { formatZoned, weekdays } from './zoned-time.js';

/**
 * The whole knowledge base in and out of the store, as the validated document of document.ts. Writing
 * replaces every KB table's content in the caller's transaction, with one INSERT per table (rows travel as
 * one JSON parameter), so a large KB loads in a few statements.
 */

/** Tables in the order their rows can be deleted (referencing tables first). */
const contentTables = [
  'menu_items',
  'menus',
  'incidents',
  'answer_versions',
  'intent_phrases',
  'intents',
  'topics',
  'agencies',
  'participants',
  'schedules',
  'prompts',
  'calendar_days',
  'flows',
  'vocabulary',
  'kb_numbers',
];

export async function insertRows(
  tx: Sql,
  table: string,
  columns: Record<string, string>,
  rows: object[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = Object.keys(columns);
  const types = names.map((n) => `${n} ${columns[n]}`).join(', ');
  await tx.query(
    `INSERT INTO ${table} (${names.join(', ')}) SELECT ${names.join(', ')} FROM json_to_recordset($1::json) AS x(${types})`,
    [JSON.stringify(rows)],
  );
}

/** Replaces the stored KB with `doc` (already validated). Run inside a transaction. */
export async function writeKbDocument(tx: Sql, doc: KbDocument): Promise<void> {
  // A document without `test_phrases:` keeps the stored held-out set (of the intents it still has): read it
  // before the intents (and with them, by cascade, their test phrases) are replaced.
  const keptTests = doc.test_phrases ? null : await readTestPhraseGroups(tx);
  // The YAML says only that a topic or intent is retired; when is the audit log's (the import's time here).
  const retiredAt = new Date().toISOString();
  for (const table of contentTables) await tx.query(`DELETE FROM ${table}`);
  const terms = regionTermsRow(doc.inquiry_terms);
  await tx.query(
    `UPDATE kb_meta SET region = $1, timezone = $2, inquiry_dispatch_minutes = $3, inquiry_answer_unit = $4,
            inquiry_answer_amount = $5, inquiry_cutoff = $6, inquiry_max_amount = $7
      WHERE id = 1`,
    [
      doc.region,
      doc.timezone,
      terms.inquiry_dispatch_minutes,
      terms.inquiry_answer_unit,
      terms.inquiry_answer_amount,
      terms.inquiry_cutoff,
      terms.inquiry_max_amount,
    ],
  );
  await insertRows(
    tx,
    'calendar_days',
    { day: 'date', kind: 'text', title: 'text', works_as: 'text' },
    doc.calendar.map((d) => ({ day: d.date, kind: d.kind, title: d.title, works_as: d.works_as ?? null })),
  );
  await insertRows(
    tx,
    'schedules',
    {
      id: 'text',
      title: 'text',
      always_open: 'boolean',
      timezone: 'text',
      observe_calendar: 'boolean',
      weekly: 'jsonb',
    },
    doc.schedules.map((s) => ({ ...s, timezone: s.timezone ?? null })),
  );
  await insertRows(tx, 'participants', { id: 'text', name: 'text' }, doc.participants);
  await insertRows(
    tx,
    'agencies',
    {
      id: 'text',
      name: 'text',
      participant_id: 'text',
      forward_number: 'text',
      contact_person: 'text',
      email: 'text',
      schedule_id: 'text',
      ...termColumns,
    },
    doc.agencies.map((a) => ({
      ...agencyTermsRow(a.inquiry_terms),
      id: a.id,
      name: a.name,
      participant_id: a.participant ?? null,
      forward_number: a.forward_number ?? null,
      contact_person: a.contact_person ?? null,
      email: a.email ?? null,
      schedule_id: a.schedule,
    })),
  );
  await insertRows(
    tx,
    'topics',
    { id: 'text', title: 'text', agency_id: 'text', participant_id: 'text', retired_at: 'timestamptz' },
    doc.topics.map((t) => ({
      id: t.id,
      title: t.title,
      agency_id: t.agency ?? null,
      participant_id: t.participant ?? null,
      retired_at: t.retired ? retiredAt : null,
    })),
  );
  await insertRows(
    tx,
    'intents',
    {
      id: 'text',
      topic_id: 'text',
      title: 'text',
      handling: 'text',
      retired_at: 'timestamptz',
      merged_into: 'text',
    },
    doc.intents.map((i) => ({
      id: i.id,
      topic_id: i.topic,
      title: i.title,
      handling: i.handling,
      retired_at: i.retired ? retiredAt : null,
      merged_into: i.merged_into ?? null,
    })),
  );
  await insertRows(
    tx,
    'intent_phrases',
    { intent_id: 'text', position: 'integer', text: 'text' },
    doc.intents.flatMap((i) => i.phrases.map((text, position) => ({ intent_id: i.id, position, text }))),
  );
  const instant = 'timestamptz';
  await insertRows(
    tx,
    'answer_versions',
    {
      intent_id: 'text',
      version: 'integer',
      status: 'text',
      speech: 'text',
      chat: 'text',
      screen: 'text',
      handling: 'text',
      author: 'text',
      created_at: instant,
      submitted_at: instant,
      approved_by: 'text',
      approved_at: instant,
      retired_at: instant,
      note: 'text',
      review_note: 'text',
      returned_by: 'text',
      returned_at: instant,
    },
    doc.answers.flatMap((a) => {
      // A file without `handling` (written before 0329) keeps what the intent said: forward, else answer.
      const intent = doc.intents.find((i) => i.id === a.intent);
      const fallback = intent?.handling === 'forward' ? 'forward' : 'answer';
      return a.versions.map((v) => ({ intent_id: a.intent, ...v, handling: v.handling ?? fallback }));
    }),
  );
  await insertRows(
    tx,
    'prompts',
    { id: 'text', text: 'text', chat: 'text' },
    doc.prompts.map((p) => ({ id: p.id, text: p.text, chat: p.chat ?? null })),
  );
  await insertRows(
    tx,
    'menus',
    { id: 'text', prompt_id: 'text' },
    doc.menus.map((m) => ({ id: m.id, prompt_id: m.prompt })),
  );
  await insertRows(tx, 'menu_items', menuItemColumns, menuItemRows(doc.menus));
  await insertRows(
    tx,
    'incidents',
    {
      id: 'text',
      level: 'text',
      title: 'text',
      announcement: 'text',
      starts_at: instant,
      ends_at: instant,
      topic_id: 'text',
      awaits_intent: 'text',
    },
    doc.incidents.map((i) => ({
      ...i,
      ends_at: i.ends_at ?? null,
      topic_id: i.topic ?? null,
      topic: undefined,
      awaits_intent: i.awaits_intent ?? null,
    })),
  );
  await insertRows(
    tx,
    'flows',
    { id: 'text', document: 'json' },
    doc.flows.map((f) => ({ id: f.id, document: f })),
  );
  await insertRows(
    tx,
    'vocabulary',
    { term: 'text' },
    [...new Set(doc.vocabulary)].map((term) => ({ term })),
  );
  await insertRows(tx, 'kb_numbers', numberColumns, doc.numbers.map(numberRow));
  // A document without the section (an export older than it) leaves the checklist alone.
  if (doc.checklist) await writeChecklist(tx, doc.checklist);
  const intentIds = new Set(doc.intents.map((i) => i.id));
  await writeTestPhraseGroups(
    tx,
    (doc.test_phrases ?? keptTests ?? []).filter((g) => intentIds.has(g.intent)),
  );
}

type MenuActionDoc = KbDocument['menus'][number]['items'][number]['action'];

export const menuItemColumns = {
  menu_id: 'text',
  digit: 'text',
  position: 'integer',
  label: 'text',
  keywords: 'jsonb',
  action_kind: 'text',
  action_target: 'text',
};

/** The menu_items rows of some menus (items keep their order). */
export function menuItemRows(menus: KbDocument['menus']): object[] {
  return menus.flatMap((m) =>
    m.items.map((item, position) => ({
      menu_id: m.id,
      digit: item.digit,
      position,
      label: item.label,
      keywords: item.keywords,
      action_kind: item.action.kind,
      action_target: actionTarget(item.action),
    })),
  );
}

function actionTarget(a: MenuActionDoc): string {
  switch (a.kind) {
    case 'topic':
      return a.topic;
    case 'queue':
      return a.queue;
    case 'forward':
      return a.agency;
    case 'message':
      return a.prompt;
    case 'submenu':
      return a.menu;
  }
}

export function actionFromRow(kind: string, target: string): MenuActionDoc {
  switch (kind) {
    case 'topic':
      return { kind, topic: target as 'health' };
    case 'queue':
      return { kind, queue: target };
    case 'forward':
      return { kind, agency: target };
    case 'message':
      return { kind, prompt: target };
    default:
      return { kind: 'submenu', menu: target };
  }
}

type Row = Record<string, unknown>;

/** jsonb sorts keys alphabetically; give them back Monday first. */
function inWeekOrder(weekly: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const day of weekdays) if (weekly[day]) out[day] = weekly[day];
  return out;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Reads the whole stored KB as a document, in the export's deterministic order. */
export async function readKbDocument(sql: Sql): Promise<KbDocument> {
  const [meta] = await sql.query<{ region: string; timezone: string } & Row>(
    'SELECT * FROM kb_meta WHERE id = 1',
  );
  const tz = meta?.timezone ?? DEFAULT_REGION_TIMEZONE;
  const at = (v: unknown): string | null => (v instanceof Date ? formatZoned(v, tz) : null);
  const q = (text: string) => sql.query<Row>(text);
  // One after another: inside a transaction (a KB edit) the queries share one connection.
  const calendar = await q('SELECT day, kind, title, works_as FROM calendar_days ORDER BY day');
  const schedules = await q('SELECT * FROM schedules ORDER BY id COLLATE "C"');
  const participants = await q('SELECT * FROM participants ORDER BY id COLLATE "C"');
  const agencies = await q('SELECT * FROM agencies ORDER BY id COLLATE "C"');
  const topics = await q('SELECT * FROM topics ORDER BY id COLLATE "C"');
  const intents = await q('SELECT * FROM intents ORDER BY id COLLATE "C"');
  const phrases = await q(
    'SELECT intent_id, text FROM intent_phrases ORDER BY intent_id COLLATE "C", position',
  );
  const versions = await q('SELECT * FROM answer_versions ORDER BY intent_id COLLATE "C", version');
  const prompts = await q('SELECT * FROM prompts ORDER BY id COLLATE "C"');
  const menus = await q('SELECT * FROM menus ORDER BY id COLLATE "C"');
  const items = await q('SELECT * FROM menu_items ORDER BY menu_id COLLATE "C", position');
  const incidents = await q('SELECT * FROM incidents ORDER BY starts_at, id COLLATE "C"');
  const flows = await q('SELECT id, document FROM flows ORDER BY id COLLATE "C"');
  const vocabulary = await q('SELECT term FROM vocabulary ORDER BY term COLLATE "C"');
  const numbers = await readNumbers(sql);
  const checklist = await listChecklist(sql, { withRetired: true });
  const testPhrases = await readTestPhraseGroups(sql);
  const group = (rows: Row[], key: string) => {
    const map = new Map<string, Row[]>();
    for (const r of rows) {
      const k = String(r[key]);
      map.set(k, [...(map.get(k) ?? []), r]);
    }
    return map;
  };
  const phrasesBy = group(phrases, 'intent_id');
  const versionsBy = group(versions, 'intent_id');
  const itemsBy = group(items, 'menu_id');
  return {
    format: KB_FORMAT,
    region: meta?.region ?? '',
    timezone: tz,
    inquiry_terms: regionTermsFromRow(meta),
    calendar: calendar.map((r) => ({
      date: String(r.day),
      kind: r.kind as 'holiday',
      title: String(r.title),
      works_as: (r.works_as as 'mon' | null) ?? null,
    })),
    schedules: schedules.map((r) => ({
      id: String(r.id),
      title: String(r.title),
      always_open: Boolean(r.always_open),
      timezone: str(r.timezone),
      observe_calendar: Boolean(r.observe_calendar),
      weekly: inWeekOrder(r.weekly as Record<string, string[]>),
    })),
    participants: participants.map((r) => ({ id: String(r.id), name: String(r.name) })),
    agencies: agencies.map((r) => ({
      id: String(r.id),
      name: String(r.name),
      participant: str(r.participant_id),
      forward_number: str(r.forward_number),
      contact_person: str(r.contact_person),
      email: str(r.email),
      schedule: String(r.schedule_id),
      inquiry_terms: agencyTermsFromRow(r),
    })),
    topics: topics.map((r) => ({
      id: r.id as 'health',
      title: String(r.title),
      agency: str(r.agency_id),
      participant: str(r.participant_id),
      ...(r.retired_at == null ? {} : { retired: true }),
    })),
    intents: intents.map((r) => ({
      id: String(r.id),
      topic: r.topic_id as 'health',
      title: String(r.title),
      handling: r.handling as 'answer',
      phrases: (phrasesBy.get(String(r.id)) ?? []).map((p) => String(p.text)),
      ...(r.retired_at == null ? {} : { retired: true }),
      ...(r.merged_into == null ? {} : { merged_into: String(r.merged_into) }),
    })),
    answers: [...versionsBy.entries()].map(([intent, rows]) => ({
      intent,
      versions: rows.map((r) => ({
        version: Number(r.version),
        status: r.status as 'draft',
        speech: String(r.speech),
        chat: str(r.chat),
        screen: String(r.screen),
        handling: String(r.handling) as 'answer',
        author: str(r.author),
        created_at: at(r.created_at),
        submitted_at: at(r.submitted_at),
        approved_by: str(r.approved_by),
        approved_at: at(r.approved_at),
        retired_at: at(r.retired_at),
        note: str(r.note),
        review_note: str(r.review_note),
        returned_by: str(r.returned_by),
        returned_at: at(r.returned_at),
      })),
    })),
    prompts: prompts.map((r) => ({
      id: String(r.id),
      text: String(r.text),
      ...(r.chat == null ? {} : { chat: String(r.chat) }),
    })),
    menus: menus.map((r) => ({
      id: String(r.id),
      prompt: String(r.prompt_id),
      items: (itemsBy.get(String(r.id)) ?? []).map((i) => ({
        digit: String(i.digit),
        label: String(i.label),
        keywords: i.keywords as string[],
        action: actionFromRow(String(i.action_kind), String(i.action_target)),
      })),
    })),
    incidents: incidents.map((r) => ({
      id: String(r.id),
      level: r.level as 'regional',
      title: String(r.title),
      announcement: String(r.announcement),
      starts_at: at(r.starts_at) ?? '',
      ends_at: at(r.ends_at),
      topic: (r.topic_id as 'health' | null) ?? null,
      ...(r.awaits_intent ? { awaits_intent: String(r.awaits_intent) } : {}),
    })),
    flows: flows.map((r) => r.document as KbDocument['flows'][number]),
    vocabulary: vocabulary.map((r) => String(r.term)),
    numbers,
    checklist,
    ...(testPhrases.length > 0 ? { test_phrases: testPhrases } : {}),
  };
}
