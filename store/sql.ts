import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { OtklikError } from '../core/errors.js';
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

/**
 * What PostgreSQL refused in the data a statement carried (SQLSTATE classes 22 and 23), as the error a
 * person can act on: such input is the caller's to fix (a 4xx at the API), not a fault of the server.
 */
const dataErrors: Record<string, { code: 'VALIDATION_FAILED' | 'CONFLICT'; message: string }> = {
  '22021': { code: 'VALIDATION_FAILED', message: 'Текст содержит недопустимый символ (например, NUL)' },
  '22P05': { code: 'VALIDATION_FAILED', message: 'Текст содержит недопустимый символ (например, NUL)' },
  '22003': { code: 'VALIDATION_FAILED', message: 'Число вне допустимого диапазона' },
  '22P02': {
    code: 'VALIDATION_FAILED',
    message: 'Значение неверного вида (ожидалось число, дата или идентификатор)',
  },
  '22001': { code: 'VALIDATION_FAILED', message: 'Слишком длинное значение' },
  '22007': { code: 'VALIDATION_FAILED', message: 'Неверная дата или время' },
  '22008': { code: 'VALIDATION_FAILED', message: 'Дата или время вне допустимого диапазона' },
  '23502': { code: 'VALIDATION_FAILED', message: 'Не заполнено обязательное значение' },
  '23503': {
    code: 'VALIDATION_FAILED',
    message: 'Ссылка на запись, которой нет (или которая ещё используется)',
  },
  '23505': { code: 'CONFLICT', message: 'Такая запись уже есть' },
  '23514': { code: 'VALIDATION_FAILED', message: 'Значение не допускается правилами хранилища' },
};

/** The one mapping of driver errors, for both adapters: lost connections, refused data, the rest as is. */
function storeError(err: unknown, where: string): unknown {
  if (isConnectionError(err)) return unavailable(err, where);
  const e = err as { code?: string; constraint?: string; column?: string };
  const known = e.code ? dataErrors[e.code] : undefined;
  if (!known) return err;
  return new OtklikError(known.code, known.message, {
    cause: err,
    details: {
      sqlstate: e.code,
      ...(e.constraint ? { constraint: e.constraint } : {}),
      ...(e.column ? { column: e.column } : {}),
    },
  });
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
    try {
      const res = await this.db.query<T>(text, params as unknown[]);
      return res.rows;
    } catch (err) {
      throw storeError(err, 'embedded');
    }
  }

  async exec(text: string): Promise<void> {
    try {
      await this.db.exec(text);
    } catch (err) {
      throw storeError(err, 'embedded');
    }
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
      throw storeError(err, this.where);
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
      throw storeError(err, this.where);
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
