import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isOtklikError } from '../core/errors.js';
import { lockStoreDir } from './lock.js';

/** The start time of `pid` as the lock records it (Linux), or undefined elsewhere. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

describe('PGlite directory lock', () => {
  const root = mkdtempSync(join(tmpdir(), 'otklik-lockdir-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const dir = () => join(root, `pg${++n}`);
  const holder = (over: Record<string, unknown>) =>
    JSON.stringify({
      host: hostname(),
      command: 'otklik serve',
      startedAt: '2026-11-24T08:00:00Z',
      nonce: 'n1',
      ...over,
    });

  it('records who holds it, refuses a second opener by name, and is free again after release', () => {
    const d = dir();
    const lock = lockStoreDir(d);
    const held = JSON.parse(readFileSync(`${d}.lock`, 'utf8')) as { pid: number; host: string };
    assert.equal(held.pid, process.pid);
    assert.equal(held.host, hostname());
    assert.throws(
      () => lockStoreDir(d),
      (err) =>
        isOtklikError(err, 'STORE_LOCKED') &&
        err.message.includes(`pid ${process.pid}`) &&
        err.message.includes(`${d}.lock`),
    );
    lock.release();
    assert.equal(existsSync(`${d}.lock`), false);
    lockStoreDir(d).release();
  });

  it('takes over the lock of a process that no longer runs (kill -9)', () => {
    const d = dir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${d}.lock`, holder({ pid: gone }));
    const lock = lockStoreDir(d);
    assert.equal((JSON.parse(readFileSync(`${d}.lock`, 'utf8')) as { pid: number }).pid, process.pid);
    lock.release();
  });

  it('takes over when the pid now belongs to another process (reused after a restart)', () => {
    const d = dir();
    writeFileSync(
      `${d}.lock`,
      holder({ pid: process.ppid, procStart: 'not-its-start', bootId: 'another-boot' }),
    );
    lockStoreDir(d).release();
  });

  it('keeps a live holder and a holder on another host', () => {
    const live = dir();
    const start = procStart(process.ppid);
    writeFileSync(`${live}.lock`, holder({ pid: process.ppid, ...(start ? { procStart: start } : {}) }));
    assert.throws(
      () => lockStoreDir(live),
      (err) => isOtklikError(err, 'STORE_LOCKED'),
    );
    const remote = dir();
    writeFileSync(`${remote}.lock`, holder({ pid: 1, host: 'pbx-2.region.local' }));
    assert.throws(
      () => lockStoreDir(remote),
      (err) => isOtklikError(err, 'STORE_LOCKED') && err.message.includes('pbx-2.region.local'),
    );
  });
});
