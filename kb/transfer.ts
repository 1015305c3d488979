import { readFileSync } from 'node:fs';
import { OtklikError } from '../core/errors.js';
import type { Sql } from '../store/sql.js';
import type { KbDocument } from './document.js';
import { readKbDocument, writeKbDocument } from './store-io.js';
import { kbDocumentToYaml } from './yaml-export.js';
import { type KbSource, parseKbSources } from './yaml-parse.js';

/** `kb export` / `kb import`: the whole knowledge base as YAML (kb/seed/FORMAT.md). */

export interface ImportSummary {
  intents: number;
  phrases: number;
  answerVersions: number;
  prompts: number;
  calendarDays: number;
  /** Checklist items in the file; null when it has no `checklist:` section (the stored one is kept). */
  checklistItems: number | null;
}

export async function exportKb(sql: Sql): Promise<string> {
  return kbDocumentToYaml(await readKbDocument(sql));
}

export function summarize(doc: KbDocument): ImportSummary {
  return {
    intents: doc.intents.length,
    phrases: doc.intents.reduce((n, i) => n + i.phrases.length, 0),
    answerVersions: doc.answers.reduce((n, a) => n + a.versions.length, 0),
    prompts: doc.prompts.length,
    calendarDays: doc.calendar.length,
    checklistItems: doc.checklist ? doc.checklist.length : null,
  };
}

/** An approved script as the imported file states it: who approved it, and when. */
export interface ImportedApproval {
  answer: string;
  approvedBy: string;
  approvedAt: string;
}

export function approvalsOf(doc: KbDocument): ImportedApproval[] {
  return doc.answers.flatMap((a) =>
    a.versions
      .filter((v) => v.status === 'approved')
      .map((v) => ({
        answer: `${a.intent}@v${v.version}`,
        approvedBy: v.approved_by ?? '',
        approvedAt: v.approved_at ?? '',
      })),
  );
}

/**
 * Validates every source first (throwing VALIDATION_FAILED with `file:line field: message` lines), then
 * replaces the stored KB in one transaction: either all of it is applied or nothing. `record` runs in that
 * transaction (the CLI writes its audit entry there, so an import is never applied unaudited).
 */
export async function importKb(
  sql: Sql,
  sources: KbSource[],
  record?: (tx: Sql, doc: KbDocument) => Promise<void>,
): Promise<ImportSummary> {
  const doc = parseKbSources(sources);
  await sql.transaction(async (tx) => {
    await writeKbDocument(tx, doc);
    if (record) await record(tx, doc);
  });
  return summarize(doc);
}

export function readSourceFile(path: string, name = path): KbSource {
  try {
    return { name, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new OtklikError('NOT_FOUND', `cannot read ${name}: ${(err as Error).message}`, { cause: err });
  }
}
