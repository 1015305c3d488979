/**
 * `otklik call simulate` as a user runs it (contracts/cli.md): the dialogue or one JSON object, exit 1
 * with what differed when `expect` is not met, and a clear error for a broken script. PostgreSQL store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestDb, type TestDb } from './support/db.js';

const root = new URL('..', import.meta.url).pathname;

describe('otklik call simulate', () => {
  let db: TestDb;
  const work = mkdtempSync(join(tmpdir(), 'otklik-sim-cli-'));
  before(async () => {
    db = await openTestDb('postgres');
  });
  after(async () => {
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  const simulate = (...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'bin/otklik.js'), 'call', 'simulate', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        NLU_MODEL_DIR: join(work, 'nlu'),
        OTKLIK_DATA_DIR: join(work, 'data'),
        LOG_LEVEL: 'fatal',
      },
    });

  it('--json prints one object with outcome, intents, transcript and answers', () => {
    const res = simulate(join(root, 'test/scripts/answered.yaml'), '--json');
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      outcome: string;
      intents: string[];
      transcript: Array<{ who: string; text: string; at_ms: number }>;
      answers: Array<{ intent: string; answer_version: string }>;
    };
    assert.equal(out.outcome, 'answered');
    assert.equal(out.intents[0], 'health.appointment');
    assert.deepEqual(out.answers, [
      { intent: 'health.appointment', answer_version: 'health.appointment@v1' },
    ]);
    assert.equal(out.transcript[0]?.who, 'bot');
    assert.ok(out.transcript.every((t, i, all) => i === 0 || t.at_ms >= all[i - 1]!.at_ms));
  });

  it('prints the dialogue, and exits 1 saying what differed from expect', () => {
    const file = join(work, 'wrong.yaml');
    // A Tuesday morning: the operators are at work, so the request is escalated whatever the hour of the run.
    writeFileSync(
      file,
      'at: "2026-11-24T11:00:00+03:00"\nturns:\n  - say: "соедините с оператором"\nexpect:\n  outcome: answered\n',
    );
    const res = simulate(file);
    assert.equal(res.status, 1);
    assert.match(res.stdout, /бот: Здравствуйте/);
    assert.match(res.stdout, /абонент: соедините с оператором/);
    assert.match(res.stderr, /outcome: expected answered, got escalated/);
  });

  it('a broken script is refused with its line and field', () => {
    const file = join(work, 'broken.yaml');
    writeFileSync(file, 'turns:\n  - say: "да"\n  - dtmf: "x"\n');
    const res = simulate(file);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /broken\.yaml:3: turns\.1/);
    assert.equal(res.stdout, '');
  });
});
