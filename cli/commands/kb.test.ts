import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lineOf, smallFixturePath } from '../../kb/fixtures/index.js';
import { seedSources } from '../../kb/seed.js';
import { parseKbSources } from '../../kb/yaml-parse.js';
import { openTestDb, type TestDb } from '../../test/support/db.js';

const entry = new URL('./fixtures/kb-only.ts', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'otklik-kb-cli-'));

// The commands run against a PostgreSQL schema of their own: a server connection opens in milliseconds,
// where each child process would spend seconds opening PGlite (the PGlite store is covered in-process).
let db: TestDb | undefined;
let serverProblem: string | undefined;

function otklik(...args: string[]) {
  const env = { ...process.env, OTKLIK_DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: db?.url ?? '' };
  const res = spawnSync(process.execPath, ['--import', 'tsx', entry, 'kb', ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function seedProblem(): string | undefined {
  try {
    parseKbSources(seedSources());
    return undefined;
  } catch (err) {
    return `the shipped seed is incomplete or invalid: ${(err as Error).message.split('\n')[1] ?? ''}`;
  }
}

describe('otklik kb commands', () => {
  before(async () => {
    try {
      db = await openTestDb('postgres', { migrate: false });
    } catch (err) {
      serverProblem = `no PostgreSQL server: ${(err as Error).message}`;
    }
  });
  after(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds an empty store once, then says it is already loaded', (t) => {
    const problem = serverProblem ?? seedProblem();
    if (problem) return t.skip(problem);
    const first = otklik('seed');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Учебная база знаний загружена/);
    const second = otklik('seed');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /уже загружена: ничего не изменено/);
    const exported = otklik('export');
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /region: Энская область \(учебные данные\)/);
    assert.match(exported.stdout, /- id: health\.appointment\n/);
  });

  it('imports a file, and export → import → export gives the same bytes', (t) => {
    if (serverProblem) return t.skip(serverProblem);
    const imported = otklik('import', smallFixturePath);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /интентов 2, фраз 3, версий ответов 2/);
    const file = join(dataDir, 'export.yaml');
    assert.equal(otklik('export', '--out', file).code, 0);
    assert.equal(otklik('import', file).code, 0);
    const again = otklik('export');
    assert.equal(again.stdout, readFileSync(file, 'utf8'));
  });

  it('audits an import: who ran it, the file, and who approved each approved script', async (t) => {
    if (serverProblem || !db) return t.skip(serverProblem);
    const imported = otklik('import', smallFixturePath);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Согласованные версии согласовали: agency\.minzdrav\.ivanov/);
    const [entry] = await db.sql.query<{ login: string; object: string; details: { approved: unknown[] } }>(
      `SELECT login, object, details FROM audit_log WHERE action = 'kb.import' ORDER BY id DESC LIMIT 1`,
    );
    assert.match(entry?.login ?? '', /^cli/);
    assert.equal(entry?.object, smallFixturePath);
    assert.deepEqual(entry?.details.approved, [
      {
        answer: 'health.appointment@v1',
        approvedBy: 'agency.minzdrav.ivanov',
        approvedAt: '2026-10-02T12:00:00+03:00',
      },
    ]);
  });

  it('rejects a broken file with its line and field, exits non-zero and changes nothing', (t) => {
    if (serverProblem) return t.skip(serverProblem);
    const before = otklik('export').stdout;
    const text = readFileSync(smallFixturePath, 'utf8');
    const broken = join(dataDir, 'broken.yaml');
    writeFileSync(broken, text.replace('  - id: health.appointment\n', '  - id: Health.Appointment\n'));
    const res = otklik('import', broken);
    assert.equal(res.code, 1);
    const line = lineOf(text, '  - id: health.appointment\n');
    assert.ok(
      res.stderr.includes(
        `${broken}:${line} intents[0].id: ids are lower-case ASCII letters, digits, "_" and "." ([a-z0-9_.]+)`,
      ),
      res.stderr,
    );
    assert.match(res.stderr, /\[VALIDATION_FAILED\]/);
    assert.equal(otklik('export').stdout, before);
    // A flow whose step leads to a step the flow lacks: named by flow and step, nothing stored.
    const flow = join(dataDir, 'broken-flow.yaml');
    writeFileSync(
      flow,
      text.replace('{ answered: goodbye, unavailable', '{ answered: good_bye, unavailable'),
    );
    const flowRes = otklik('import', flow);
    assert.equal(flowRes.code, 1);
    assert.ok(
      flowRes.stderr.includes(
        `${flow}:${lineOf(text, '{ answered: goodbye')} flows[0].steps[4].on.answered: flow "default", step "answer": leads to unknown step "good_bye"`,
      ),
      flowRes.stderr,
    );
    assert.equal(otklik('export').stdout, before);
    const missing = otklik('import', join(dataDir, 'absent.yaml'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*absent\.yaml/);
  });
});
