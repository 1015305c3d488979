import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import { type KbDocument, kbDocumentSchema } from './document.js';
import { numberColumns, numberDigits, numberRow, readNumbers } from './numbers.js';
import { checkReferences, type DocumentIssue } from './references.js';
import { insertRows, menuItemColumns, menuItemRows, readKbDocument } from './store-io.js';

/**
 * Editing the call flows, menus and prompts of the knowledge base one item at a time (the admin API), held to
 * the rules of an import: the whole KB as it would be after the edit goes through the document's checks
 * (document.ts, references.ts, flow-check.ts), and an edit that brings a new problem is refused with
 * VALIDATION_FAILED listing each (`flows["default"].steps[2].prompt: flow "default", step "ask": unknown
 * prompt "x"`); nothing is stored then. A problem the KB already had (a flow stored before flows were checked
 * on entry) does not block an edit elsewhere. Each edit is one transaction, serialized with the others on the
 * KB's meta row, so two edits can never each pass alone and break the KB together.
 */
export interface FlowSummary {
  id: string;
  title: string;
}

export interface PromptInput {
  /** The spoken form (speech synthesis reads it). */
  text: string;
  /** The written form for the web chat, where it differs; null or absent: the chat shows `text`. */
  chat?: string | null;
}

export interface MenuInput {
  prompt: string;
  /** Menu items as in the KB YAML: `{ digit, label, keywords, action: { kind, … } }`. */
  items: unknown[];
}

/** A number the line serves (kb/numbers.ts), as the studio shows it. */
export interface ServedNumber {
  /** The number as the editor wrote it. */
  number: string;
  /** Its digits: the key a dialled number is compared by. */
  digits: string;
  title: string;
  flow: string;
  note: string | null;
}

export interface NumberInput {
  number: string;
  title?: string;
  flow: string;
  note?: string | null;
}

export interface ContentEditor {
  flows(): Promise<FlowSummary[]>;
  prompts(): Promise<Array<{ id: string; text: string; chat: string | null }>>;
  menus(): Promise<KbDocument['menus']>;
  numbers(): Promise<ServedNumber[]>;
  /**
   * Adds a number (`previous` absent; CONFLICT when the KB lists it already) or changes the entry of the
   * number whose digits are `previous` (NOT_FOUND when there is none), the number itself included.
   */
  saveNumber(input: NumberInput, previous?: string): Promise<ServedNumber>;
  deleteNumber(digits: string): Promise<void>;
  /** A flow document as stored (as its author wrote it), or null. */
  flow(id: string): Promise<unknown | null>;
  /** Creates or replaces flow `id`; the document's own `id`, when given, must be `id`. */
  saveFlow(id: string, document: unknown): Promise<void>;
  savePrompt(id: string, input: PromptInput): Promise<void>;
  /** Refused while a flow or a menu names the prompt. */
  deletePrompt(id: string): Promise<void>;
  saveMenu(id: string, input: MenuInput): Promise<void>;
}

type Path = (string | number)[];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The problems of a whole KB document. Flows are checked one by one (flow-check.ts, through references.ts)
 * rather than by the document's schema, so that a flow stored before flows were checked on entry is a problem
 * of that flow, not a document that cannot be read.
 */
function documentIssues(doc: KbDocument): { parsed: KbDocument | null; issues: DocumentIssue[] } {
  const parsed = kbDocumentSchema.safeParse({ ...doc, flows: [] });
  if (parsed.success) {
    const full = { ...parsed.data, flows: doc.flows };
    return { parsed: full, issues: checkReferences(full) };
  }
  const issues: DocumentIssue[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys')
      for (const key of issue.keys) issues.push({ path: [...path, key], message: `unknown field "${key}"` });
    else issues.push({ path, message: issue.message });
  }
  return { parsed: null, issues };
}

/**
 * The field of an issue with the item named by its id, not its index: `menus["main"].items[2].action.topic`.
 * Indexes shift as items are added; the id says which item an editor has to look at.
 */
function fieldOf(doc: unknown, path: Path): string {
  const [section, index, ...rest] = path;
  let out = String(section ?? '(document)');
  if (typeof index === 'number') {
    const list = isRecord(doc) ? doc[String(section)] : undefined;
    const item = Array.isArray(list) ? list[index] : undefined;
    const key = isRecord(item) ? (item.id ?? item.intent ?? item.date ?? item.number) : undefined;
    out += typeof key === 'string' ? `[${JSON.stringify(key)}]` : `[${index}]`;
  } else if (index !== undefined) out += `.${index}`;
  for (const p of rest) out += typeof p === 'number' ? `[${p}]` : `.${p}`;
  return out;
}

function refusal(what: string, issues: Array<{ field: string; message: string }>): OtklikError {
  const n = issues.length;
  const lines = issues.slice(0, 50).map((i) => `  ${i.field}: ${i.message}`);
  if (n > 50) lines.push(`  ... and ${n - 50} more`);
  return new OtklikError(
    'VALIDATION_FAILED',
    `${what} (${n} problem${n === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    {
      details: { issues },
    },
  );
}

const toServed = (n: {
  number: string;
  title?: string;
  flow: string;
  note?: string | null;
}): ServedNumber => ({
  number: n.number,
  digits: numberDigits(n.number),
  title: n.title ?? '',
  flow: n.flow,
  note: n.note ?? null,
});

export function createContentEditor(sql: Sql): ContentEditor {
  /**
   * Runs one edit: `edit` changes the document in memory, the result is checked, and only when it brings no
   * new problem `store` writes the change (given the checked document, defaults filled).
   */
  const change = (
    what: string,
    subject: string,
    edit: (doc: KbDocument) => void,
    store: (tx: Sql, checked: KbDocument) => Promise<void>,
  ) =>
    sql.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM kb_meta WHERE id = 1 FOR UPDATE');
      const before = await readKbDocument(tx);
      const line = (i: { field: string; message: string }) => `${i.field}: ${i.message}`;
      const known = new Set(
        documentIssues(before).issues.map((i) =>
          line({ field: fieldOf(before, i.path), message: i.message }),
        ),
      );
      const after = structuredClone(before);
      edit(after);
      const { parsed, issues } = documentIssues(after);
      const found = issues.map((i) => ({ field: fieldOf(after, i.path), message: i.message }));
      if (!parsed) throw refusal(what, found);
      // The edited item is held to every rule; elsewhere only what the edit breaks counts.
      const fresh = found.filter((i) => i.field.startsWith(subject) || !known.has(line(i)));
      if (fresh.length > 0) throw refusal(what, fresh);
      await store(tx, parsed);
    });

  const upsert = <T extends { id: string }>(list: T[], item: T) => {
    const at = list.findIndex((x) => x.id === item.id);
    if (at >= 0) list[at] = item;
    else list.push(item);
  };

  return {
    async flows() {
      const rows = await sql.query<{ id: string; title: string | null }>(
        `SELECT id, document->>'title' AS title FROM flows ORDER BY id COLLATE "C"`,
      );
      return rows.map((r) => ({ id: r.id, title: r.title ?? '' }));
    },

    async prompts() {
      const rows = await sql.query<{ id: string; text: string; chat: string | null }>(
        'SELECT id, text, chat FROM prompts ORDER BY id COLLATE "C"',
      );
      return rows.map((r) => ({ id: r.id, text: r.text, chat: r.chat ?? null }));
    },

    async menus() {
      return (await readKbDocument(sql)).menus;
    },

    async numbers() {
      return (await readNumbers(sql)).map(toServed);
    },

    async saveNumber(input, previous) {
      const digits = numberDigits(input.number);
      const entry = {
        number: input.number.trim(),
        title: input.title?.trim() ?? '',
        flow: input.flow,
        ...(input.note?.trim() ? { note: input.note.trim() } : {}),
      };
      const listed = new Set((await readNumbers(sql)).map((n) => numberDigits(n.number)));
      if (previous === undefined && listed.has(digits))
        throw new OtklikError('CONFLICT', `Номер ${entry.number} уже есть в списке номеров линии`);
      if (previous !== undefined && !listed.has(previous))
        throw new OtklikError('NOT_FOUND', `Номера ${previous} нет в списке номеров линии`);
      await change(
        `number "${entry.number}" is not saved`,
        `numbers[${JSON.stringify(entry.number)}]`,
        (doc) => {
          const drop = new Set([digits, ...(previous === undefined ? [] : [previous])]);
          doc.numbers = [...doc.numbers.filter((n) => !drop.has(numberDigits(n.number))), entry];
        },
        async (tx, checked) => {
          const n = checked.numbers.find((x) => numberDigits(x.number) === digits)!;
          await tx.query('DELETE FROM kb_numbers WHERE digits = $1 OR digits = $2', [
            digits,
            previous ?? digits,
          ]);
          await insertRows(tx, 'kb_numbers', numberColumns, [numberRow(n)]);
        },
      );
      return toServed(entry);
    },

    async deleteNumber(digits) {
      const rows = await sql.query('DELETE FROM kb_numbers WHERE digits = $1 RETURNING digits', [digits]);
      if (rows.length === 0)
        throw new OtklikError('NOT_FOUND', `Номера ${digits} нет в списке номеров линии`);
    },

    async flow(id) {
      const [row] = await sql.query<{ document: unknown }>('SELECT document FROM flows WHERE id = $1', [id]);
      return row?.document ?? null;
    },

    async saveFlow(id, document) {
      if (!isRecord(document))
        throw new OtklikError('VALIDATION_FAILED', `flow "${id}": a flow is a mapping with id and steps`);
      if (document.id !== undefined && document.id !== id)
        throw new OtklikError(
          'VALIDATION_FAILED',
          `flow "${id}": the document's id is "${String(document.id)}"`,
        );
      // Kept as written, like an imported flow: export gives the editor's document back.
      const flow = { id, ...document };
      await change(
        `flow "${id}" is not saved`,
        `flows[${JSON.stringify(id)}]`,
        (doc) => upsert(doc.flows, flow),
        async (tx) => {
          await tx.query(
            `INSERT INTO flows (id, document) VALUES ($1, $2::json)
             ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document`,
            [id, JSON.stringify(flow)],
          );
        },
      );
    },

    async savePrompt(id, input) {
      const prompt = { id, text: input.text, ...(input.chat == null ? {} : { chat: input.chat }) };
      await change(
        `prompt "${id}" is not saved`,
        `prompts[${JSON.stringify(id)}]`,
        (doc) => upsert(doc.prompts, prompt),
        async (tx, checked) => {
          const p = checked.prompts.find((x) => x.id === id)!;
          await tx.query(
            `INSERT INTO prompts (id, text, chat) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, chat = EXCLUDED.chat`,
            [id, p.text, p.chat ?? null],
          );
        },
      );
    },

    async deletePrompt(id) {
      const rows = await sql.query('SELECT 1 FROM prompts WHERE id = $1', [id]);
      if (rows.length === 0) throw new OtklikError('NOT_FOUND', `no prompt "${id}" in the knowledge base`);
      await change(
        `prompt "${id}" is not deleted: it is still used`,
        `prompts[${JSON.stringify(id)}]`,
        (doc) => {
          doc.prompts = doc.prompts.filter((p) => p.id !== id);
        },
        async (tx) => {
          await tx.query('DELETE FROM prompts WHERE id = $1', [id]);
        },
      );
    },

    async saveMenu(id, input) {
      const menu = { id, prompt: input.prompt, items: input.items } as KbDocument['menus'][number];
      await change(
        `menu "${id}" is not saved`,
        `menus[${JSON.stringify(id)}]`,
        (doc) => upsert(doc.menus, menu),
        async (tx, checked) => {
          const m = checked.menus.find((x) => x.id === id)!;
          await tx.query('DELETE FROM menu_items WHERE menu_id = $1', [id]);
          await tx.query(
            `INSERT INTO menus (id, prompt_id) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET prompt_id = EXCLUDED.prompt_id`,
            [id, m.prompt],
          );
          await insertRows(tx, 'menu_items', menuItemColumns, menuItemRows([m]));
        },
      );
    },
  };
}
