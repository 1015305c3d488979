import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { OtklikError } from '../core/errors.js';

/**
 * One process per embedded PGlite directory. PGlite keeps the database in the process's memory and writes
 * it back to the files: a second process on the same directory works on its own copy, and whichever writes
 * last wins (a user added by the CLI beside a running server vanished). So whoever opens the directory
 * first holds `<dir>.lock`, a small JSON file naming the process (pid, host, command, start time); the next
 * opener is told who holds it.
 *
 * Hand-written rather than `proper-lockfile`: that library decides staleness by the file's age and needs a
 * timer to keep touching it, so a long `otklik serve` depends on the timer and a kill -9 blocks starts until
 * the age runs out. Whether the holder still runs is known exactly on the same host: its pid is alive and is
 * the same process (Linux: the same boot and the same process start time, so a reused pid after a reboot or
 * a container restart does not count as the holder).
 */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Linux boot id and the process's start time in clock ticks since boot: a pid alone may be reused. */
  bootId?: string;
  procStart?: string;
  /** Random per acquisition: release and take-over touch only the lock they read. */
  nonce: string;
}

export interface StoreLock {
  readonly path: string;
  release(): void;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const bootId = () => readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim();

/** Field 22 of /proc/<pid>/stat (the command name in field 2 may hold spaces and parentheses). */
function procStart(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** How a person would type the running command: `otklik serve`, `otklik admin user-add ivanova`. */
function commandLine(): string {
  const [, script = '', ...args] = process.argv;
  const name = /otklik(\.js)?$/.test(script) ? 'otklik' : basename(script);
  return [name, ...args].join(' ');
}

function me(): LockHolder {
  const boot = bootId();
  const start = procStart(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    command: commandLine(),
    startedAt: new Date().toISOString(),
    ...(boot ? { bootId: boot } : {}),
    ...(start ? { procStart: start } : {}),
    nonce: randomBytes(8).toString('hex'),
  };
}

function parse(text: string | undefined): LockHolder | null {
  if (text === undefined) return null;
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** True when the holder certainly no longer runs; a holder on another host is presumed alive. */
function isStale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    // EPERM: the pid runs under another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (h.bootId && h.bootId !== bootId()) return true;
  const start = procStart(h.pid);
  return Boolean(h.procStart && start && h.procStart !== start);
}

/**
 * Creates `path` with the holder's whole record in one step: write a private temp file, then hard-link it
 * into place (link fails with EEXIST like open 'wx', and nobody ever reads a half-written lock).
 */
function tryCreate(path: string, holder: LockHolder): boolean {
  const tmp = `${path}.${process.pid}.${holder.nonce}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o644 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function lockedError(dir: string, path: string, h: LockHolder | null): OtklikError {
  const who = h
    ? `процессом pid ${h.pid} («${h.command}») на узле ${h.host}, запущенным ${h.startedAt}`
    : 'другим процессом (файл блокировки не читается)';
  return new OtklikError(
    'STORE_LOCKED',
    `Встроенная база данных ${dir} занята: она открыта ${who}. ` +
      'С одной встроенной базой (PGlite) может работать только один процесс. ' +
      'Остановите этот процесс и повторите команду, или храните данные на сервере PostgreSQL ' +
      '(DATABASE_URL) — тогда с базой могут работать несколько процессов одновременно. ' +
      `Если такого процесса точно нет, удалите файл ${path}.`,
    { details: h ? { pid: h.pid, host: h.host, command: h.command } : {} },
  );
}

/**
 * Takes the lock of the PGlite directory `dir` (the file `<dir>.lock`), taking over one whose holder has
 * died. Throws STORE_LOCKED naming the live holder. Released by `release()` or when the process exits.
 */
export function lockStoreDir(dir: string): StoreLock {
  const path = `${dir}.lock`;
  const holder = me();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, holder)) return heldLock(path, holder.nonce);
    const text = readOrUndefined(path);
    if (text === undefined) continue; // released meanwhile: try again
    const current = parse(text);
    if (!current || !isStale(current)) throw lockedError(dir, path, current);
    // Two starters may both find the same dead holder: the take-over is serialised by a second lock file
    // that lives only for these few statements, and the stale lock is removed only if it is still the one read.
    const guard = `${path}.takeover`;
    if (!tryCreate(guard, holder)) {
      const g = parse(readOrUndefined(guard));
      if (g && isStale(g)) unlinkIfSame(guard, g.nonce);
      continue;
    }
    try {
      if (parse(readOrUndefined(path))?.nonce === current.nonce) unlinkSync(path);
    } finally {
      unlinkSync(guard);
    }
  }
  throw lockedError(dir, path, parse(readOrUndefined(path)));
}

function unlinkIfSame(path: string, nonce: string): void {
  if (parse(readOrUndefined(path))?.nonce !== nonce) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function heldLock(path: string, nonce: string): StoreLock {
  // Also on process.exit() and uncaught errors, which skip the store's close(); kill -9 leaves a stale lock.
  const onExit = () => unlinkIfSame(path, nonce);
  process.on('exit', onExit);
  return {
    path,
    release() {
      process.off('exit', onExit);
      unlinkIfSame(path, nonce);
    },
  };
}
