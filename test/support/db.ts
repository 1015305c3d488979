import { randomBytes } from 'node:crypto';
import { allSchemas } from '../../cli/schema.js';
import { migrate } from '../../store/migrate.js';
import { openSql, type Sql } from '../../store/sql.js';

/**
 * Test databases. Every test gets a fresh store: an in-memory PGlite, or its own schema on the PostgreSQL
 * server (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), dropped afterwards.
 * Contract suites run once per backend: `for (const backend of backends) describe(backend, ...)`.
 */
export type Backend = 'pglite' | 'postgres';
export const backends: Backend[] = ['pglite', 'postgres'];
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  sql: Sql;
  /** Set for the postgres backend: a URL whose connections use this test's schema. */
  url?: string;
  schema?: string;
  drop(): Promise<void>;
}

export async function openTestDb(backend: Backend, opts: { migrate?: boolean } = {}): Promise<TestDb> {
  let db: TestDb;
  if (backend === 'pglite') {
    const sql = await openSql({ dataDir: 'memory://' });
    db = { sql, drop: () => sql.close() };
  } else {
    const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
    const sql = await openSql({ url: testDatabaseUrl, schema });
    const url = `${testDatabaseUrl}${testDatabaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`;
    db = {
      sql,
      url,
      schema,
      async drop() {
        await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await sql.close();
      },
    };
  }
  if (opts.migrate !== false) await migrate(db.sql, allSchemas);
  return db;
}
