import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';

/**
 * The supervisors' quality checklist (kb_checklist_items, seeded by migration 0320): what a call is scored
 * against. A `scale` item takes 0..weight points, a `yes_no` item its weight or nothing. Editors change it
 * through the admin API or a YAML file (`checklist:` list, export → import → export is byte-identical);
 * every change is checked first and nothing is stored when it fails (VALIDATION_FAILED, the item named).
 * Retired items are no longer offered; the scores keep their own copy of the items they were given.
 */
export interface ChecklistItem {
  id: string;
  title: string;
  kind: 'scale' | 'yes_no';
  weight: number;
  position: number;
  retired: boolean;
}

export const checklistItemSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'код — латинские строчные буквы, цифры и _'),
  title: z.string().trim().min(1, 'название не может быть пустым').max(200),
  kind: z.enum(['scale', 'yes_no']).default('yes_no'),
  weight: z.number().int().min(1).max(100).default(1),
  position: z.number().int().min(0).default(0),
  retired: z.boolean().default(false),
});

const checklistFileSchema = z.strictObject({ checklist: z.array(checklistItemSchema) });

function invalid(where: string, issues: z.ZodError['issues']): OtklikError {
  const text = issues.map((i) => `${[where, ...i.path].filter((p) => p !== '').join('.')}: ${i.message}`);
  return new OtklikError('VALIDATION_FAILED', `Чек-лист оценки: ${text.join('; ')}`);
}

/** Checks one item as an editor sent it; the item's id names it in the error. */
export function checkChecklistItem(raw: unknown): ChecklistItem {
  const parsed = checklistItemSchema.safeParse(raw);
  if (!parsed.success) {
    const id = (raw as { id?: unknown } | null)?.id;
    throw invalid(typeof id === 'string' ? id : 'пункт', parsed.error.issues);
  }
  return parsed.data;
}

/** Checks a whole list: items valid, ids unique, at least one item offered. */
export function checkChecklist(raw: unknown): ChecklistItem[] {
  const parsed = checklistFileSchema.safeParse(raw);
  if (!parsed.success) throw invalid('checklist', parsed.error.issues);
  const seen = new Set<string>();
  for (const item of parsed.data.checklist) {
    if (seen.has(item.id))
      throw new OtklikError('VALIDATION_FAILED', `Чек-лист оценки: пункт ${item.id} указан дважды`);
    seen.add(item.id);
  }
  if (!parsed.data.checklist.some((i) => !i.retired))
    throw new OtklikError('VALIDATION_FAILED', 'Чек-лист оценки: нужен хотя бы один действующий пункт');
  return parsed.data.checklist;
}

/** The items in their order; retired ones only when asked. */
export async function listChecklist(
  sql: Sql,
  opts: { withRetired?: boolean } = {},
): Promise<ChecklistItem[]> {
  return sql.query<ChecklistItem>(
    `SELECT id, title, kind, weight, position, retired FROM kb_checklist_items
      WHERE $1 OR NOT retired ORDER BY position, id`,
    [opts.withRetired === true],
  );
}

async function upsert(sql: Sql, i: ChecklistItem): Promise<ChecklistItem> {
  const rows = await sql.query<ChecklistItem>(
    `INSERT INTO kb_checklist_items (id, title, kind, weight, position, retired) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, kind = EXCLUDED.kind, weight = EXCLUDED.weight,
       position = EXCLUDED.position, retired = EXCLUDED.retired
     RETURNING id, title, kind, weight, position, retired`,
    [i.id, i.title, i.kind, i.weight, i.position, i.retired],
  );
  return rows[0]!;
}

/** Locks the items so two editors cannot each retire one of the last two (PGlite has one connection). */
async function lockItems(tx: Sql): Promise<void> {
  if (tx.backend === 'postgres') await tx.query('SELECT id FROM kb_checklist_items FOR UPDATE');
}

/** Creates or changes one item (an editor's act); retiring the last offered item is refused. */
export async function setChecklistItem(sql: Sql, raw: unknown): Promise<ChecklistItem> {
  const item = checkChecklistItem(raw);
  return sql.transaction(async (tx) => {
    await lockItems(tx);
    const others = (await listChecklist(tx)).filter((i) => i.id !== item.id);
    if (item.retired && others.length === 0)
      throw new OtklikError('VALIDATION_FAILED', 'Чек-лист оценки: нужен хотя бы один действующий пункт');
    return upsert(tx, item);
  });
}

const latin: Record<string, string> = Object.fromEntries(
  'а:a б:b в:v г:g д:d е:e ё:e ж:zh з:z и:i й:i к:k л:l м:m н:n о:o п:p р:r с:s т:t у:u ф:f х:kh ц:ts ч:ch ш:sh щ:shch ъ: ы:y ь: э:e ю:yu я:ya'
    .split(' ')
    .map((pair) => pair.split(':') as [string, string]),
);

/** An id from a Russian title: «Вежливость» → vezhlivost; `item` when nothing Latin is left. */
export function checklistIdFor(title: string): string {
  const word = [...title.toLowerCase()]
    .map((c) => latin[c] ?? c)
    .join('')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+|_+$/g, '')
    .slice(0, 40)
    .replace(/_+$/, '');
  return word || 'item';
}

/**
 * Adds a new item at the end of the list (an editor's act). Without an id one is made from the title (a
 * number added when it is taken); an id given that is already taken, retired or not, is a CONFLICT.
 */
export async function addChecklistItem(
  sql: Sql,
  raw: { id?: string; title: string; kind?: string; weight?: number; position?: number },
): Promise<ChecklistItem> {
  return sql.transaction(async (tx) => {
    await lockItems(tx);
    const all = await listChecklist(tx, { withRetired: true });
    const taken = new Set(all.map((i) => i.id));
    let id = raw.id;
    if (id !== undefined && taken.has(id))
      throw new OtklikError('CONFLICT', `Пункт с кодом «${id}» уже есть в чек-листе оценки`);
    if (id === undefined) {
      const stem = checklistIdFor(raw.title);
      id = stem;
      for (let n = 2; taken.has(id); n++) id = `${stem}_${n}`;
    }
    const position = raw.position ?? Math.max(0, ...all.map((i) => i.position)) + 1;
    return upsert(tx, checkChecklistItem({ ...raw, id, position, retired: false }));
  });
}

/** Writes a checked list in the caller's transaction: items it leaves out are retired (scores keep their copy). */
export async function writeChecklist(tx: Sql, items: ChecklistItem[]): Promise<void> {
  await lockItems(tx);
  const ids = items.map((i) => i.id);
  await tx.query('UPDATE kb_checklist_items SET retired = true WHERE NOT (id = ANY($1::text[]))', [ids]);
  for (const i of items) await upsert(tx, i);
}

/** Replaces the checklist with the file's list: items it leaves out are retired (scores keep their copy). */
export async function importChecklist(sql: Sql, raw: unknown): Promise<ChecklistItem[]> {
  const items = checkChecklist(raw);
  await sql.transaction((tx) => writeChecklist(tx, items));
  return listChecklist(sql, { withRetired: true });
}

/** The items as a YAML file writes them: fields in a fixed order, `retired` only when set. */
export function checklistYamlItems(items: ChecklistItem[]): Record<string, unknown>[] {
  return items.map((i) => ({
    id: i.id,
    title: i.title,
    kind: i.kind,
    weight: i.weight,
    position: i.position,
    ...(i.retired ? { retired: true } : {}),
  }));
}

/** The checklist as YAML, fields in a fixed order, retired items included. */
export async function exportChecklistYaml(sql: Sql): Promise<string> {
  const checklist = checklistYamlItems(await listChecklist(sql, { withRetired: true }));
  return stringify({ checklist }, { lineWidth: 0 });
}

/** Reads a checklist YAML file and imports it (nothing stored when it is malformed or fails the checks). */
export async function importChecklistYaml(sql: Sql, text: string): Promise<ChecklistItem[]> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new OtklikError('VALIDATION_FAILED', `Чек-лист оценки: неверный YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return importChecklist(sql, raw);
}
