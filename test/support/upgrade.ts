/**
 * Upgrade tests start from the database an earlier release shipped: each part's migration set cut down to the
 * files `keep` accepts, copied into `dir`, then migrated to today's `allSchemas`.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allSchemas } from '../../cli/schema.js';
import type { MigrationSet } from '../../store/migrate.js';

export function shippedSchemas(dir: string, keep: (part: string, file: string) => boolean): MigrationSet[] {
  return allSchemas.map((set) => {
    const partDir = join(dir, set.part);
    mkdirSync(partDir, { recursive: true });
    for (const file of readdirSync(set.dir))
      if (file.endsWith('.sql') && keep(set.part, file))
        copyFileSync(join(set.dir, file), join(partDir, file));
    return { ...set, dir: partDir };
  });
}

/**
 * What a database had before `missing` of `part` shipped: every part's migrations but `missing` and the later
 * ones of its own part (they build on it: telephony's 0312 alters 0307's tables, its report views read 0313's).
 */
export function schemasBefore(dir: string, part: string, missing: string): MigrationSet[] {
  return shippedSchemas(dir, (p, file) => !(p === part && file >= missing));
}
