import { type Config, defaultLogLevel, loadConfig } from '../core/config.js';
import { isOtklikError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { openStore } from '../store/open.js';
import type { Sql } from '../store/sql.js';
import { allSchemas } from './schema.js';

/**
 * What every command needs: the configuration (parsed once), a logger on stderr (stdout is for the
 * command's output), and the store, opened on first use and closed by `close()`.
 */
export interface CliContext {
  config: Config;
  log: Logger;
  store(): Promise<Sql>;
  close(): Promise<void>;
}

export interface CliContextOptions {
  /**
   * A long-running command (`worker`, `speech`) logs its work like `serve`; a one-shot command only its
   * problems. Either way LOG_LEVEL (config log.level) decides when it is set.
   */
  service?: boolean;
}

export function createCliContext(
  env: NodeJS.ProcessEnv = process.env,
  opts: CliContextOptions = {},
): CliContext {
  const config = loadConfig(env, {}, opts.service ? {} : { 'log.level': defaultLogLevel.command });
  const log = createLogger({ level: config.log.level, pii: config.log.pii });
  let sql: Promise<Sql> | undefined;
  return {
    config,
    log,
    store() {
      sql ??= openStore(config, allSchemas);
      return sql;
    },
    async close() {
      if (sql) await (await sql).close();
    },
  };
}

/** Prints an error for a person (code and whether a retry may help) and sets a non-zero exit code. */
export function reportCliError(err: unknown): void {
  if (isOtklikError(err)) {
    process.stderr.write(
      `otklik: ${err.message}${err.retryable ? ' (temporary: try again)' : ''} [${err.code}]\n`,
    );
    process.exitCode = err.code === 'CONFIG_INVALID' ? 78 : 1;
  } else {
    process.stderr.write(`otklik: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
