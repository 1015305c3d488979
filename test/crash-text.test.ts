/**
 * kill -9 mid-call: the call record stays complete up to the last turn said, and the start-up sweep
 * (markInterruptedCalls) marks the call interrupted. Runs on a file-backed PGlite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { getCall, getTurns, markInterruptedCalls } from '../calls/records.js';
import { allSchemas } from '../cli/schema.js';
import { migrate } from '../store/migrate.js';
import { openSql, type Sql } from '../store/sql.js';
import { testDatabaseUrl } from './support/db.js';

const root = new URL('..', import.meta.url).pathname;

interface Said {
  callId: string;
  transcript: Array<{ who: string; text: string; atMs: number }>;
}

/** Runs the child until it reported `turns` caller turns, then SIGKILLs it; returns its last report. */
async function runAndKill(args: string[], callerTurns: number): Promise<Said> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/crash-text-child.ts'), ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ? 137 : code)),
  );
  let last: Said | null = null;
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    last = JSON.parse(line) as Said;
    if (++seen >= callerTurns) break;
  }
  child.kill('SIGKILL');
  const code = await exited;
  assert.ok(last, `the child reported nothing (exit ${code}):\n${stderr}`);
  assert.equal(code, 137);
  return last;
}

async function checkRecord(sql: Sql, said: Said): Promise<void> {
  const call = await getCall(sql, said.callId);
  assert.equal(call?.status, 'active', 'the killed call is still marked active');
  const turns = await getTurns(sql, said.callId);
  assert.deepEqual(
    turns.map((t) => [t.who, t.text, t.atMs]),
    said.transcript.map((t) => [t.who, t.text, t.atMs]),
  );
  assert.ok(turns.some((t) => t.answerVersion === 'health.appointment@v1'));
  assert.equal(await markInterruptedCalls(sql, 'crash-test'), 1);
  const after = await getCall(sql, said.callId);
  assert.equal(after?.status, 'interrupted');
  assert.ok(after?.endedAt);
  assert.equal(await markInterruptedCalls(sql, 'crash-test'), 0);
}

describe('kill -9 mid-call', () => {
  const modelDir = mkdtempSync(join(tmpdir(), 'otklik-crash-nlu-'));
  after(() => rmSync(modelDir, { recursive: true, force: true }));

  it('PostgreSQL: the record is complete up to the last turn, then marked interrupted', async () => {
    const schema = `crash_${Date.now().toString(36)}`;
    const said = await runAndKill([testDatabaseUrl, schema, modelDir], 2);
    const sql = await openSql({ url: testDatabaseUrl, schema });
    try {
      await checkRecord(sql, said);
    } finally {
      await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.close();
    }
  });

  it('file-backed PGlite: the same after reopening the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otklik-crash-pg-'));
    try {
      const said = await runAndKill([dir, '-', modelDir], 2);
      const sql = await openSql({ dataDir: dir });
      try {
        await migrate(sql, allSchemas);
        await checkRecord(sql, said);
      } finally {
        await sql.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
