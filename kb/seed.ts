import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Sql } from '../store/sql.js';
import { recordKbChange } from './revisions.js';
import { writeKbDocument } from './store-io.js';
import { readSourceFile } from './transfer.js';
import { type KbSource, parseKbSources } from './yaml-parse.js';

/**
 * The shipped sample knowledge base: every kb/seed/*.yaml, merged section by section. The well-known files
 * come first in a fixed order (so error lines and merged order are stable), then any others by name. A
 * missing file is simply skipped: parts of the seed are written by different people.
 */
const projectRoot = new URL('../', import.meta.url).pathname;
export const seedDir = join(projectRoot, 'kb/seed');
const knownOrder = ['region.yaml', 'intents.yaml', 'answers.yaml', 'prompts.yaml', 'flows.yaml'];

export function seedSources(dir = seedDir): KbSource[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  const ordered = [
    ...knownOrder.filter((n) => names.includes(n)),
    ...names.filter((n) => !knownOrder.includes(n)).sort(),
  ];
  return ordered.map((n) => readSourceFile(join(dir, n), relative(process.cwd(), join(dir, n)) || n));
}

const contentTables = [
  'intents',
  'schedules',
  'prompts',
  'topics',
  'calendar_days',
  'answer_versions',
  'menus',
  'flows',
];

export async function isKbEmpty(sql: Sql): Promise<boolean> {
  const checks = contentTables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ');
  const [row] = await sql.query<{ any: boolean }>(`SELECT (${checks}) AS any`);
  return !row?.any;
}

/**
 * Loads the shipped seed into an empty store; returns true if it did, false if the KB already has content
 * (nothing is changed then). The seed is validated in full before anything is written.
 */
export async function ensureSeeded(sql: Sql, sources?: KbSource[]): Promise<boolean> {
  if (!(await isKbEmpty(sql))) return false;
  const doc = parseKbSources(sources ?? seedSources());
  return sql.transaction(async (tx) => {
    // Several processes may start together against one server: one seeds, the others find it loaded.
    if (tx.backend === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(122123)');
    if (!(await isKbEmpty(tx))) return false;
    await writeKbDocument(tx, doc);
    await recordKbChange(tx, { actor: 'seed', action: 'kb.seed' });
    return true;
  });
}
