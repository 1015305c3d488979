import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { OtklikError } from '../../core/errors.js';
import { lockStoreDir, type StoreLock } from './lock.js';

/**
 * The one SQL layer of Otklik: plain parameterised PostgreSQL, with two adapters that behave the same —
 * embedded PGlite (default, files under the data dir) and a PostgreSQL server (DATABASE_URL).
 * Rows come back with the same JS types on both: int8 → number, numeric → number, date → 'YYYY-MM-DD',
 * timestamptz → Date, json/jsonb → parsed values.
 */
export interface Sql {
  readonly backend: 'pglite' | 'postgres';
  /** One parameterised statement ($1, $2...). */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs fn in one transaction: every change or none. Nested calls reuse the outer transaction. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenSqlOptions {
  /** postgres://... for a server; otherwise PGlite. */
  url?: string | undefined;
  /** PGlite data directory; 'memory://' for an in-memory database. */
  dataDir?: string;
  /** A schema to create and use as search_path (tests give each test its own). */
  schema?: string;
}

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const sameTypes = {
  [INT8]: (v: string) => Number(v),
  [NUMERIC]: (v: string) => Number(v),
  [DATE]: (v: string) => v,
};

function unavailable(err: unknown, where: string): OtklikError {
  return new OtklikError('STORE_UNAVAILABLE', `database ${where} is unavailable: ${(err as Error).message}`, {
    retryable: true,
    cause: err,
  });
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|57P0[1-3]|08\d{3})$/.test(code);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new OtklikError('VALIDATION_FAILED', `bad schema name: ${name}`);
  return `"${name}"`;
}

class PgliteSql implements Sql {
  readonly backend = 'pglite' as const;
  constructor(
    private readonly db: Pick<PGlite, 'query' | 'exec'> & Partial<Pick<PGlite, 'transaction' | 'close'>>,
    private readonly inTx = false,
    private readonly lock?: StoreLock,
  ) {}

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.db.query<T>(text, params as unknown[]);
    return res.rows;
  }

  async exec(text: string): Promise<void> {
    await this.db.exec(text);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTx || !this.db.transaction) return fn(this);
    return this.db.transaction((tx) => fn(new PgliteSql(tx, true)));
  }

  async close(): Promise<void> {
    try {
      await this.db.close?.();
    } finally {
      this.lock?.release();
    }
  }
}

class PostgresSql implements Sql {
  readonly backend = 'postgres' as const;
  constructor(
    private readonly pool: pg.Pool,
    private readonly where: string,
    private readonly client?: pg.PoolClient,
  ) {}

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const res = await (this.client ?? this.pool).query(text, params as unknown[]);
      return res.rows as T[];
    } catch (err) {
      throw isConnectionError(err) ? unavailable(err, this.where) : err;
    }
  }

  async exec(text: string): Promise<void> {
    await this.query(text);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw unavailable(err, this.where);
    }
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresSql(this.pool, this.where, client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw isConnectionError(err) ? unavailable(err, this.where) : err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export async function openSql(opts: OpenSqlOptions): Promise<Sql> {
  const schema = opts.schema ? quoteIdent(opts.schema) : undefined;
  if (opts.url) {
    const where = redactUrl(opts.url);
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: 10,
      connectionTimeoutMillis: 5000,
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          (sameTypes as Record<number, (v: string) => unknown>)[oid] ??
          pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
      ...(schema ? { options: `-c search_path=${schema},public` } : {}),
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const sql = new PostgresSql(pool, where);
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      else await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw unavailable(err, where);
    }
    return sql;
  }
  const dataDir = opts.dataDir ?? 'memory://';
  const inMemory = dataDir.startsWith('memory://');
  let lock: StoreLock | undefined;
  if (!inMemory) {
    mkdirSync(resolve(dataDir), { recursive: true });
    // Before PGlite reads a byte: a second process must not even load a copy of the files (see lock.ts).
    lock = lockStoreDir(resolve(dataDir));
  }
  let db: PGlite;
  try {
    db = await PGlite.create(inMemory ? undefined : resolve(dataDir), {
      parsers: sameTypes,
    });
  } catch (err) {
    lock?.release();
    throw new OtklikError(
      'STORE_UNAVAILABLE',
      `cannot open the embedded database at ${dataDir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (schema) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public;`);
  return new PgliteSql(db, false, lock);
}
