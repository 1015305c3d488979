import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { type KbDocument, kbDocumentSchema, listSections } from './document.js';
import { checkReferences } from './references.js';
import { readKbDocument, writeKbDocument } from './store-io.js';

/**
 * Every change of the knowledge base is a revision: who, when, what (an action and the item it names) and the
 * whole KB as it stood after it (the document of `kb export`). An editor sees any earlier state, what changed
 * between two states, and restores one.
 *
 * A full snapshot per change, not a chain of diffs: the sample KB is a few hundred kilobytes as JSON and
 * editors change it a few hundred times a day, so a year is a few gigabytes at most, and any state is read in
 * one row, with nothing to replay and no broken chain to fear. `kb_revisions` is kb's own table (0323).
 *
 * A restore brings back the KB's content as it was, except the answer scripts: their versions and approvals
 * stay as they are now (an approval is the agency's act, and a restore must neither bring back a text the
 * agency withdrew nor drop one it approved since). The restore is a revision itself, so it can be undone.
 */

export interface KbChange {
  /** The staff login (or `cli`, `seed`) that made the change. */
  actor: string;
  /** What was done, e.g. `intent.create`, `answer.approve`, `kb.import`. */
  action: string;
  /** The item it names (an intent id, `intent@v2`, a flow id), when there is one. */
  subject?: string | null;
  at?: Date;
}

export interface RevisionInfo {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
}

type Row = Record<string, unknown>;

const toInfo = (r: Row): RevisionInfo => ({
  id: Number(r.id),
  at: r.at as Date,
  actor: String(r.actor),
  action: String(r.action),
  subject: r.subject === null ? null : String(r.subject),
});

/**
 * Records the KB as it stands in `tx` after a change. Call it in the change's own transaction, so that a
 * change is never stored without its revision.
 */
export async function recordKbChange(tx: Sql, change: KbChange): Promise<number> {
  const doc = await readKbDocument(tx);
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO kb_revisions (at, actor, action, subject, document)
     VALUES (COALESCE($1::timestamptz, now()), $2, $3, $4, $5) RETURNING id`,
    [change.at ?? null, change.actor, change.action, change.subject ?? null, JSON.stringify(doc)],
  );
  return Number(row!.id);
}

export interface RevisionFilter {
  /** Revisions older than this id (paging back through the history). */
  before?: number;
  actor?: string;
  /** Revisions whose subject or action contains this text. */
  search?: string;
  limit?: number;
}

export async function listRevisions(sql: Sql, filter: RevisionFilter = {}): Promise<RevisionInfo[]> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  const rows = await sql.query<Row>(
    `SELECT id, at, actor, action, subject FROM kb_revisions
      WHERE ($1::bigint IS NULL OR id < $1)
        AND ($2::text IS NULL OR actor = $2)
        AND ($3::text IS NULL OR strpos(lower(action || ' ' || COALESCE(subject, '')), lower($3)) > 0)
      ORDER BY id DESC LIMIT ${limit}`,
    [filter.before ?? null, filter.actor ?? null, filter.search?.trim() || null],
  );
  return rows.map(toInfo);
}

export async function revisionDocument(
  sql: Sql,
  id: number,
): Promise<{ info: RevisionInfo; doc: KbDocument }> {
  const [row] = await sql.query<Row>(
    'SELECT id, at, actor, action, subject, document FROM kb_revisions WHERE id = $1',
    [id],
  );
  if (!row) throw new OtklikError('NOT_FOUND', `Версии базы знаний №${id} нет`);
  const raw = typeof row.document === 'string' ? JSON.parse(row.document) : row.document;
  return { info: toInfo(row), doc: raw as KbDocument };
}

/** The revision before `id`, or null for the first one. */
export async function previousRevisionId(sql: Sql, id: number): Promise<number | null> {
  const [row] = await sql.query<{ id: number }>(
    'SELECT id FROM kb_revisions WHERE id < $1 ORDER BY id DESC LIMIT 1',
    [id],
  );
  return row ? Number(row.id) : null;
}

export interface SectionDiff {
  section: string;
  added: string[];
  removed: string[];
  changed: string[];
}

/** A list item's key: its id, else what names it (an answer's intent, a calendar day's date, a word). */
function keyOf(item: unknown): string {
  if (typeof item !== 'object' || item === null) return String(item);
  const o = item as Record<string, unknown>;
  return String(o.id ?? o.intent ?? o.date ?? o.number ?? JSON.stringify(o));
}

/** What changed from `before` to `after`, section by section, naming the items. */
export function diffDocuments(before: KbDocument, after: KbDocument): SectionDiff[] {
  const out: SectionDiff[] = [];
  for (const key of ['region', 'timezone', 'inquiry_terms'] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      out.push({ section: key, added: [], removed: [], changed: [key] });
  }
  for (const section of listSections) {
    const a = new Map(((before[section] as unknown[] | undefined) ?? []).map((x) => [keyOf(x), x]));
    const b = new Map(((after[section] as unknown[] | undefined) ?? []).map((x) => [keyOf(x), x]));
    const diff: SectionDiff = { section, added: [], removed: [], changed: [] };
    for (const [k, v] of b) {
      if (!a.has(k)) diff.added.push(k);
      else if (JSON.stringify(a.get(k)) !== JSON.stringify(v)) diff.changed.push(k);
    }
    for (const k of a.keys()) if (!b.has(k)) diff.removed.push(k);
    if (diff.added.length + diff.removed.length + diff.changed.length > 0) out.push(diff);
  }
  return out;
}

/**
 * Restores the KB to revision `id` (answers excepted, see above) in one transaction, checked as an import is;
 * records the restore as a new revision and returns its id.
 */
export async function restoreRevision(sql: Sql, id: number, actor: string, at?: Date): Promise<number> {
  const { doc } = await revisionDocument(sql, id);
  return sql.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM kb_meta WHERE id = 1 FOR UPDATE');
    const current = await readKbDocument(tx);
    const intents = new Set(doc.intents.map((i) => i.id));
    const restored = {
      ...doc,
      // A revision from before the numbers were the KB's (0331) keeps the numbers the line serves now.
      numbers: doc.numbers ?? current.numbers,
      answers: current.answers.filter((a) => intents.has(a.intent)),
    };
    const parsed = kbDocumentSchema.safeParse({ ...restored, flows: [] });
    const problems = parsed.success ? checkReferences({ ...parsed.data, flows: restored.flows }) : [];
    if (!parsed.success || problems.length > 0) {
      const first = parsed.success ? problems[0]?.message : parsed.error.issues[0]?.message;
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Версию №${id} нельзя восстановить: она не проходит проверку базы знаний (${first ?? 'ошибка'})`,
      );
    }
    await writeKbDocument(tx, { ...parsed.data, flows: restored.flows });
    return recordKbChange(tx, { actor, action: 'kb.restore', subject: `#${id}`, at });
  });
}
