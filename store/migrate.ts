import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql.js';

/**
 * Versioned SQL migrations, run at start-up. The store knows no part: each part that owns tables exports a
 * `MigrationSet` (its own folder: the folder says who owns a file) and the composition root hands the list to
 * `migrate`. The number of a file is its place in one sequence across all parts, so that a hand-over between
 * two parts runs in order (admin 0305 takes the rows of a table before telephony 0306 drops it). A file is
 * applied once, in that order, all pending files in one transaction; two files of the same name are refused.
 */
export interface MigrationSet {
  /** The owning part, as named in ARCHITECTURE.md. */
  part: string;
  /** Absolute path of the part's migrations folder. */
  dir: string;
}

/** A part's migration set, its `migrations/` folder beside the module: `migrationSet('kb', import.meta.url)`. */
export function migrationSet(part: string, moduleUrl: string): MigrationSet {
  return { part, dir: fileURLToPath(new URL('./migrations/', moduleUrl)) };
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
      const twin = all.find((m) => m.id === name.replace(/\.sql$/, ''));
      if (twin) throw new Error(`migration ${name} exists in both ${twin.part} and ${set.part}`);
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
