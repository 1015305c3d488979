import { readFileSync } from 'node:fs';
import { OtklikError } from '../core/errors.js';
import type { KbDocument } from './document.js';
import type { Sql } from './store/sql.js';
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
  };
}

/**
 * Validates every source first (throwing VALIDATION_FAILED with `file:line field: message` lines), then
 * replaces the stored KB in one transaction: either all of it is applied or nothing.
 */
export async function importKb(sql: Sql, sources: KbSource[]): Promise<ImportSummary> {
  const doc = parseKbSources(sources);
  await sql.transaction((tx) => writeKbDocument(tx, doc));
  return summarize(doc);
}

export function readSourceFile(path: string, name = path): KbSource {
  try {
    return { name, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new OtklikError('NOT_FOUND', `cannot read ${name}: ${(err as Error).message}`, { cause: err });
  }
}
