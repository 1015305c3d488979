import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from './sql.js';

/**
 * Versioned SQL migrations, run at start-up. Each part keeps its own folder and number range so that parts
 * never edit each other's files: kb 0001-0099, voicebot 0100-0199, telephony 0200-0299, admin 0300-0399.
 * A file is applied once, in its own transaction, in global number order.
 */
const projectRoot = new URL('../../', import.meta.url).pathname;
export const migrationDirs = [
  'kb/migrations',
  'voicebot/migrations',
  'telephony/migrations',
  'admin/migrations',
];

export interface Migration {
  id: string;
  path: string;
}

export function listMigrations(root = projectRoot): Migration[] {
  const all: Migration[] = [];
  for (const dir of migrationDirs) {
    let names: string[];
    try {
      names = readdirSync(join(root, dir));
    } catch {
      continue;
    }
    for (const name of names) {
      if (/^\d{4}_[a-z0-9_]+\.sql$/.test(name))
        all.push({ id: name.replace(/\.sql$/, ''), path: join(root, dir, name) });
    }
  }
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

export async function migrate(sql: Sql, migrations = listMigrations()): Promise<string[]> {
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
