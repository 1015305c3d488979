/**
 * `otklik backup` and `otklik restore` of the embedded PGlite store: a store seeded with the sample KB, two
 * calls with their turns and an inquiry is backed up and restored into a fresh data directory by the CLI as a
 * user runs it, opened there, and the same rows are read. The refusals (a non-empty data directory without
 * --force, a process holding the store, a file that is not a backup, a PostgreSQL store) call the commands'
 * functions in this process, with the configuration loaded as the CLI loads it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addTurn, createCall, endCall, getCall, getTurns } from '../calls/records.js';
import { backupStore, restoreStore } from '../cli/commands/backup.js';
import { buildProgram } from '../cli/main.js';
import { allSchemas } from '../cli/schema.js';
import { loadConfig } from '../core/config.js';
import { type ErrorCode, isOtklikError } from '../core/errors.js';
import { inquiriesOfCall } from '../inquiries/register.js';
import { ensureSeeded } from '../kb/seed.js';
import { exportKb } from '../kb/transfer.js';
import { openStore } from '../store/open.js';
import type { Sql } from '../store/sql.js';
import { seedInquiry } from './support/inquiries.js';
import { runCli } from './support/serve.js';

/** The command's refusal: its code and message. */
async function refusal(code: ErrorCode, run: Promise<string>): Promise<string> {
  try {
    await run;
  } catch (err) {
    assert.ok(isOtklikError(err, code), String(err));
    return err.message;
  }
  return assert.fail(`expected ${code}`);
}

/** Runs `otklik <args>` with commander in this process, `env` set meanwhile; returns what it printed. */
async function inProcessCli(args: string[], env: Record<string, string>): Promise<string> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'otklik', ...args]);
  } finally {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return out;
}

const open = (dataDir: string) => openStore({ dataDir, database: {} }, allSchemas);

/** What the test compares between the original store and the restored one. */
async function snapshot(sql: Sql, callIds: string[]) {
  return {
    kb: await exportKb(sql),
    calls: await Promise.all(callIds.map((id) => getCall(sql, id))),
    turns: await Promise.all(callIds.map((id) => getTurns(sql, id))),
    inquiries: await Promise.all(callIds.map((id) => inquiriesOfCall(sql, id))),
  };
}

describe('otklik backup / otklik restore (embedded store)', () => {
  let dir: string;
  let source: string;
  let file: string;
  let original: Awaited<ReturnType<typeof snapshot>>;
  const callIds = [randomUUID(), randomUUID()];
  const env = (dataDir: string) => ({ OTKLIK_DATA_DIR: dataDir, DATABASE_URL: '' });
  const config = (dataDir: string) => loadConfig(env(dataDir));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otklik-backup-'));
    source = join(dir, 'source');
    file = join(dir, 'otklik-backup.tar.gz');
    const sql = await open(source);
    try {
      assert.equal(await ensureSeeded(sql), true);
      const startedAt = new Date('2026-11-24T08:00:00Z');
      await createCall(sql, {
        id: callIds[0]!,
        channel: 'media',
        callerNumber: '+79990001122',
        dialledNumber: '122',
        startedAt,
      });
      await addTurn(sql, callIds[0]!, 0, { who: 'bot', text: 'Здравствуйте! Линия 122.', atMs: 0 });
      await addTurn(sql, callIds[0]!, 1, {
        who: 'caller',
        text: 'Хочу записаться к врачу',
        atMs: 2400,
        intent: 'health.appointment',
        confidence: 0.91,
      });
      await endCall(sql, callIds[0]!, 'answered', new Date(startedAt.getTime() + 60_000));
      await createCall(sql, {
        id: callIds[1]!,
        channel: 'text',
        callerNumber: '+79990003344',
        dialledNumber: '122',
        startedAt,
      });
      await seedInquiry(sql, {
        question: 'Когда починят лифт в доме 5?',
        callId: callIds[1]!,
        callbackNumber: '+79990003344',
        receivedAt: new Date(startedAt.getTime() + 120_000),
      });
      original = await snapshot(sql, callIds);
    } finally {
      await sql.close();
    }
    assert.equal(original.turns[0]!.length, 2);
    assert.equal(original.inquiries[1]!.length, 1);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('backs up, restores into a fresh data directory, and the restored store has the same rows', async () => {
    // `otklik backup` through the CLI's own parser in this process (a child process is started for restore).
    const printed = await inProcessCli(['backup', file], env(source));
    assert.match(printed, /Резервная копия .*otklik-backup\.tar\.gz: [\d.]+ МБ, версия схемы \d{4}_/);
    assert.ok(existsSync(file));

    const target = join(dir, 'restored');
    const restore = await runCli(['restore', file], env(target));
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /База восстановлена в .*restored/);

    const sql = await open(target);
    try {
      const restored = await snapshot(sql, callIds);
      assert.deepEqual(restored, original);
      assert.equal(restored.calls[0]!.outcome, 'answered');
      assert.equal(restored.inquiries[1]![0]!.question, 'Когда починят лифт в доме 5?');
    } finally {
      await sql.close();
    }
  });

  it('refuses a non-empty data directory without --force, and replaces it with --force', async () => {
    // The store restored above, given a call the backup lacks.
    const target = join(dir, 'restored');
    const other = await open(target);
    await createCall(other, {
      id: 'only-in-occupied',
      channel: 'text',
      callerNumber: null,
      dialledNumber: '122',
      startedAt: new Date('2026-11-25T08:00:00Z'),
    });
    await other.close();

    const refused = await refusal('CONFLICT', restoreStore(config(target), file, false));
    assert.match(refused, /не пуст: в нём уже есть база данных.*--force/);
    const still = await open(target);
    assert.ok(await getCall(still, 'only-in-occupied'), 'the refused restore changed nothing');
    await still.close();

    assert.match(await restoreStore(config(target), file, true), /База восстановлена/);
    const sql = await open(target);
    try {
      assert.equal(await getCall(sql, 'only-in-occupied'), null);
      assert.deepEqual(await snapshot(sql, callIds), original);
    } finally {
      await sql.close();
    }
  });

  it('refuses while another process holds the store, and a file that is not a backup', async () => {
    const held = await open(source);
    try {
      const out = join(dir, 'busy.tar.gz');
      assert.match(await refusal('STORE_LOCKED', backupStore(config(source), out)), /занята: она открыта/);
      assert.equal(existsSync(out), false);
      await refusal('STORE_LOCKED', restoreStore(config(source), file, true));
    } finally {
      await held.close();
    }

    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, 'not a backup');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const bad = await refusal('VALIDATION_FAILED', restoreStore(config(empty), junk, false));
    assert.match(bad, /не является резервной копией встроенной базы/);
    assert.deepEqual(readdirSync(empty), [], 'nothing is left behind');
    const missing = await refusal('NOT_FOUND', restoreStore(config(empty), join(dir, 'nope.tar.gz'), false));
    assert.match(missing, /не читается/);
    const none = await refusal(
      'NOT_FOUND',
      backupStore(config(join(dir, 'no-store')), join(dir, 'x.tar.gz')),
    );
    assert.match(none, /нет встроенной базы данных/);
  });

  it('on PostgreSQL points to pg_dump and pg_restore', async () => {
    const pg = loadConfig({
      OTKLIK_DATA_DIR: join(dir, 'pg'),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    });
    assert.match(
      await refusal('VALIDATION_FAILED', backupStore(pg, join(dir, 'pg.dump'))),
      /PostgreSQL.*pg_dump/,
    );
    assert.match(await refusal('VALIDATION_FAILED', restoreStore(pg, file, false)), /PostgreSQL.*pg_restore/);
  });
});
