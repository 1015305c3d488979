import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { type MigrationSet, migrate } from './migrate.js';
import { openSql, type Sql } from './sql.js';

/** Opens the configured store (PGlite under dataDir/pg, or DATABASE_URL) and brings its schema up to date. */
export async function openStore(
  config: Pick<Config, 'dataDir' | 'database'>,
  migrations: readonly MigrationSet[],
): Promise<Sql> {
  const sql = await openSql({ url: config.database.url, dataDir: join(config.dataDir, 'pg') });
  try {
    await migrate(sql, migrations);
  } catch (err) {
    await sql.close();
    throw err;
  }
  return sql;
}
