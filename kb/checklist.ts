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

/** Creates or changes one item (an editor's act); retiring the last offered item is refused. */
export async function setChecklistItem(sql: Sql, raw: unknown): Promise<ChecklistItem> {
  const item = checkChecklistItem(raw);
  return sql.transaction(async (tx) => {
    const others = (await listChecklist(tx)).filter((i) => i.id !== item.id);
    if (item.retired && others.length === 0)
      throw new OtklikError('VALIDATION_FAILED', 'Чек-лист оценки: нужен хотя бы один действующий пункт');
    return upsert(tx, item);
  });
}

/** Replaces the checklist with the file's list: items it leaves out are retired (scores keep their copy). */
export async function importChecklist(sql: Sql, raw: unknown): Promise<ChecklistItem[]> {
  const items = checkChecklist(raw);
  await sql.transaction(async (tx) => {
    const ids = items.map((i) => i.id);
    await tx.query('UPDATE kb_checklist_items SET retired = true WHERE NOT (id = ANY($1::text[]))', [ids]);
    for (const i of items) await upsert(tx, i);
  });
  return listChecklist(sql, { withRetired: true });
}

/** The checklist as YAML, fields in a fixed order, retired items included. */
export async function exportChecklistYaml(sql: Sql): Promise<string> {
  const items = await listChecklist(sql, { withRetired: true });
  const checklist = items.map((i) => ({
    id: i.id,
    title: i.title,
    kind: i.kind,
    weight: i.weight,
    position: i.position,
    ...(i.retired ? { retired: true } : {}),
  }));
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
