import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql.js';

/**
 * Versioned SQL migrations, run at start-up. The store knows no part: each part that owns tables exports a
 * `MigrationSet` (its own folder and number range, so that parts never edit each other's files) and the
 * composition root hands the list to `migrate`. A file is applied once, in global number order, all pending
 * files in one transaction.
 */
export interface MigrationSet {
  /** The owning part, as named in ARCHITECTURE.md. */
  part: string;
  /** Absolute path of the part's migrations folder. */
  dir: string;
  /** The numbers this part's files may use, inclusive: a file outside them is a mistake caught at start. */
  range: [number, number];
}

/** A part's migration set from its module URL: `migrationSet('kb', import.meta.url, [1, 99])`. */
export function migrationSet(part: string, moduleUrl: string, range: [number, number]): MigrationSet {
  return { part, dir: fileURLToPath(new URL('./migrations/', moduleUrl)), range };
}

export interface Migration {
  id: string;
  part: string;
  path: string;
}

export function listMigrations(sets: readonly MigrationSet[]): Migration[] {
  const all: Migration[] = [];
  for (const set of sets) {
    for (const name of readdirSync(set.dir)) {
      if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(name)) continue;
      const n = Number(name.slice(0, 4));
      if (n < set.range[0] || n > set.range[1])
        throw new Error(`migration ${name} of ${set.part} is outside its range ${set.range.join('-')}`);
      all.push({ id: name.replace(/\.sql$/, ''), part: set.part, path: join(set.dir, name) });
    }
  }
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

export async function migrate(sql: Sql, sets: readonly MigrationSet[]): Promise<string[]> {
  const migrations = listMigrations(sets);
  await sql.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  await sql.transaction(async (tx) => {
    // Several processes may start together against one server; only one applies migrations.
    if (tx.backend === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(122122)');
    const done = new Set(
      (await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await tx.exec(readFileSync(m.path, 'utf8'));
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
  });
  return applied;
}
