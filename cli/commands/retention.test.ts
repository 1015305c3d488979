import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../../admin/audit.js';
import { RETENTION_LOGIN } from '../../admin/jobs/retention.js';
import { placeLegalHold } from '../../calls/legal-hold.js';
import { ensureSeeded } from '../../kb/seed.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';
import { leftOf, NOW, type SeededCall, seedCall } from '../../test/support/retention.js';

const root = new URL('../../', import.meta.url).pathname;

// Against a PostgreSQL schema of its own: a child process opens it in milliseconds (PGlite is covered in-process
// by test/retention.test.ts).
describe('otklik retention run', () => {
  let db: TestDb;
  let dir: string;
  let old: SeededCall;
  let held: SeededCall;
  let fresh: SeededCall;

  function otklik(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      OTKLIK_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url!,
      RETENTION_CHATS_DAYS: '30',
    };
    const child = spawn(process.execPath, ['bin/otklik.js', 'retention', 'run', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  }

  before(async () => {
    db = await openTestDb('postgres');
    await ensureSeeded(db.sql);
    dir = mkdtempSync(join(tmpdir(), 'otklik-retention-cli-'));
    old = await seedCall(db.sql, join(dir, 'recordings'), 'cli-old', 400);
    held = await seedCall(db.sql, join(dir, 'recordings'), 'cli-held', 400);
    fresh = await seedCall(db.sql, join(dir, 'recordings'), 'cli-new', 5);
    await placeLegalHold(db.sql, 'cli-held', { by: 'sidorova', reason: 'проверка прокуратуры', at: NOW });
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run removes nothing and says what it would remove', async () => {
    const before = await leftOf(db.sql, old);
    const text = await otklik('--dry-run', '--now', NOW.toISOString());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Пробный запуск на 2026-06-01T09:00:00.000Z: ничего не удалено/);
    assert.match(text.stdout, /записи разговоров \(срок 90 дн\., до 2026-03-03\): звонков 1; записей: 1/);
    assert.match(text.stdout, /переписка в чате \(срок 30 дн\./);
    assert.match(text.stdout, /звонков на удержании для суда или проверки: 1/);
    const json = await otklik('--dry-run', '--json', '--now', NOW.toISOString());
    const report = JSON.parse(json.stdout) as {
      dryRun: boolean;
      kinds: Array<{ kind: string; callIds: string[] }>;
    };
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      report.kinds.map((k) => [k.kind, k.callIds]),
      [
        ['recordings', ['cli-old']],
        ['transcripts', ['cli-old']],
        ['chats', []],
        ['callerNumbers', ['cli-old']],
      ],
    );
    assert.deepEqual(await leftOf(db.sql, old), before);
    assert.equal((await listAudit(db.sql, { login: RETENTION_LOGIN })).length, 0);
  });

  it('a run removes the old call’s data, keeps the held and the new one, and audits it', async () => {
    const keptHeld = await leftOf(db.sql, held);
    const keptNew = await leftOf(db.sql, fresh);
    const res = await otklik('--now', NOW.toISOString());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Удалены персональные данные с истёкшим сроком хранения/);
    const left = await leftOf(db.sql, old);
    assert.deepEqual([left.turns, left.recordings, left.file, left.callerNumber], [0, 0, false, null]);
    assert.deepEqual(await leftOf(db.sql, held), keptHeld);
    assert.deepEqual(await leftOf(db.sql, fresh), keptNew);
    const [run] = await listAudit(db.sql, { login: RETENTION_LOGIN, action: 'retention.run' });
    assert.equal(run?.details.source, 'cli');
  });

  it('refuses a --now that is not a date', async () => {
    const res = await otklik('--now', 'вчера');
    assert.equal(res.code, 1);
    assert.match(res.stderr, /--now: not an ISO 8601 instant/);
  });
});
