import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { OtklikError } from '../core/errors.js';
import { lockStoreDir } from './lock.js';

/**
 * Backup and restore of the embedded PGlite store (`otklik backup`, `otklik restore`). The backup is PGlite's
 * own dump of its data directory (`dumpDataDir`, a gzipped tar of the PostgreSQL files), taken while this
 * process holds the directory's lock (lock.ts): no `otklik serve` or other command can write meanwhile, so
 * the copy is consistent. A restore loads the dump into a fresh directory beside the target, opens it to
 * check it, and only then puts it in place; a non-empty target is replaced only when asked (`force`).
 * A PostgreSQL server is backed up with its own tools (pg_dump / pg_restore), not here.
 */

export interface BackupResult {
  file: string;
  bytes: number;
  /** The newest migration in the copy (schema_migrations), null for a store never migrated. */
  schemaVersion: string | null;
}

/** True when `dir` holds a PGlite (PostgreSQL) data directory. */
function hasDatabase(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

async function schemaVersion(db: PGlite): Promise<string | null> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return null;
  const rows = await db.query<{ id: string }>('SELECT max(id) AS id FROM schema_migrations');
  return rows.rows[0]?.id ?? null;
}

/** Writes a backup of the PGlite store in `dataDir` to `file` (replaced atomically). */
export async function backupEmbeddedStore(dataDir: string, file: string): Promise<BackupResult> {
  const dir = resolve(dataDir);
  if (!hasDatabase(dir))
    throw new OtklikError(
      'NOT_FOUND',
      `В каталоге ${dir} нет встроенной базы данных: копировать нечего (проверьте OTKLIK_DATA_DIR) / no embedded database in ${dir}`,
    );
  const lock = lockStoreDir(dir);
  try {
    const db = await PGlite.create(dir);
    try {
      const version = await schemaVersion(db);
      const dump = await db.dumpDataDir('gzip');
      const bytes = Buffer.from(await dump.arrayBuffer());
      const out = resolve(file);
      const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, out);
      return { file: out, bytes: bytes.length, schemaVersion: version };
    } finally {
      await db.close();
    }
  } finally {
    lock.release();
  }
}

export interface RestoreOptions {
  /** Replace a data directory that is not empty (its database is lost). */
  force?: boolean;
}

/** Restores the backup `file` into the PGlite directory `dataDir`; refuses a non-empty one unless forced. */
export async function restoreEmbeddedStore(
  file: string,
  dataDir: string,
  opts: RestoreOptions = {},
): Promise<BackupResult> {
  const dir = resolve(dataDir);
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(file));
  } catch (err) {
    throw new OtklikError(
      'NOT_FOUND',
      `Файл резервной копии ${file} не читается / cannot read the backup file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!isEmptyDir(dir) && !opts.force)
    throw new OtklikError(
      'CONFLICT',
      `Каталог ${dir} не пуст${hasDatabase(dir) ? ': в нём уже есть база данных' : ''}. ` +
        'Восстановление заменит его содержимое: повторите с --force, или укажите пустой OTKLIK_DATA_DIR ' +
        `/ the data directory is not empty; use --force to replace it`,
    );
  // Held on the target for the whole restore: a running serve refuses to start, and one running refuses us.
  mkdirSync(dirname(dir), { recursive: true });
  const lock = lockStoreDir(dir);
  const fresh = `${dir}.restore-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  try {
    let version: string | null;
    try {
      const db = await PGlite.create(fresh, { loadDataDir: new Blob([bytes]) });
      try {
        version = await schemaVersion(db);
      } finally {
        await db.close();
      }
    } catch (err) {
      throw new OtklikError(
        'VALIDATION_FAILED',
        `Файл ${file} не является резервной копией встроенной базы (otklik backup) / not an Otklik backup: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (existsSync(dir)) {
      const old = `${dir}.replaced-${process.pid}`;
      renameSync(dir, old);
      renameSync(fresh, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(fresh, dir);
    return { file: resolve(file), bytes: bytes.length, schemaVersion: version };
  } finally {
    rmSync(fresh, { recursive: true, force: true });
    lock.release();
  }
}
