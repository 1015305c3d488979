import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import { OtklikError } from '../../core/errors.js';
import { backupEmbeddedStore, restoreEmbeddedStore } from '../../store/backup.js';
import { createCliContext } from '../context.js';

/**
 * `otklik backup FILE` and `otklik restore FILE [--force]`: the embedded PGlite store under dataDir/pg
 * (store/backup.ts). The embedded store has one process at a time, so both are run with `otklik serve` (and
 * every other command on the same data directory) stopped; they say so when it runs. A PostgreSQL store
 * (DATABASE_URL) is backed up with the server's own tools.
 */

/** Where openStore keeps the embedded database (store/open.ts). */
const embeddedDir = (config: Config) => join(config.dataDir, 'pg');

function refusePostgres(config: Config, what: 'backup' | 'restore'): void {
  if (!config.database.url) return;
  throw new OtklikError(
    'VALIDATION_FAILED',
    what === 'backup'
      ? 'Данные хранятся на сервере PostgreSQL (DATABASE_URL): сделайте копию его средствами, ' +
          'например `pg_dump --format=custom --file=otklik.dump "$DATABASE_URL"` / ' +
          'the store is PostgreSQL: use pg_dump'
      : 'Данные хранятся на сервере PostgreSQL (DATABASE_URL): восстановите копию его средствами, ' +
          'например `pg_restore --clean --if-exists --dbname="$DATABASE_URL" otklik.dump` / ' +
          'the store is PostgreSQL: use pg_restore',
  );
}

const size = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} МБ`;
const version = (v: string | null) => (v ? `, версия схемы ${v}` : '');

/** `otklik backup FILE`: what it prints. */
export async function backupStore(config: Config, file: string): Promise<string> {
  refusePostgres(config, 'backup');
  const r = await backupEmbeddedStore(embeddedDir(config), file);
  return `Резервная копия ${r.file}: ${size(r.bytes)}${version(r.schemaVersion)}\n`;
}

/** `otklik restore FILE [--force]`: what it prints. */
export async function restoreStore(config: Config, file: string, force: boolean): Promise<string> {
  refusePostgres(config, 'restore');
  const dir = embeddedDir(config);
  const r = await restoreEmbeddedStore(file, dir, { force });
  return `База восстановлена в ${dir} из ${r.file}${version(r.schemaVersion)}\n`;
}

export function register(program: Command): void {
  program
    .command('backup')
    .description('резервная копия встроенной базы (PGlite) в файл; otklik serve должен быть остановлен')
    .argument('<file>', 'файл копии (.tar.gz)')
    .action(async (file: string) => {
      process.stdout.write(await backupStore(createCliContext().config, file));
    });

  program
    .command('restore')
    .description('восстановить встроенную базу (PGlite) из резервной копии в пустой каталог данных')
    .argument('<file>', 'файл копии, сделанный otklik backup')
    .option('--force', 'заменить базу в непустом каталоге данных (текущие данные будут потеряны)')
    .action(async (file: string, opts: { force?: boolean }) => {
      process.stdout.write(await restoreStore(createCliContext().config, file, opts.force === true));
    });
}
