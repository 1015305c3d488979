import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/log.js';
import { ANSWER_LINK_SECRET_FILE, answerLinkOptions } from './answer-link-secret.js';

/** The answer link's secret: configured, generated once for the embedded store, or off with PostgreSQL. */
describe('the answer link secret', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'otklik-link-secret-'));

  it('is generated once into the data directory for the embedded store and read back on the next start', () => {
    const dataDir = dir();
    try {
      const config = loadConfig({ OTKLIK_DATA_DIR: dataDir, OTKLIK_PUBLIC_URL: 'https://122.region.ru' });
      const first = answerLinkOptions(config, silentLogger)!;
      assert.ok(first.secret.length >= 32);
      assert.equal(first.publicUrl, 'https://122.region.ru');
      assert.equal(first.graceMs, 7 * 86_400_000);
      const file = join(dataDir, ANSWER_LINK_SECRET_FILE);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(answerLinkOptions(config, silentLogger)!.secret, first.secret);
      writeFileSync(file, 'short\n');
      assert.throws(() => answerLinkOptions(config, silentLogger), /shorter than 32 characters/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is the configured one; with PostgreSQL and none, there are no links', () => {
    const dataDir = dir();
    try {
      const secret = 'x'.repeat(40);
      assert.equal(
        answerLinkOptions(loadConfig({ OTKLIK_DATA_DIR: dataDir, ANSWER_LINK_SECRET: secret }), silentLogger)!
          .secret,
        secret,
      );
      assert.equal(
        answerLinkOptions(
          loadConfig({ OTKLIK_DATA_DIR: dataDir, DATABASE_URL: 'postgres://db/otklik' }),
          silentLogger,
        ),
        undefined,
      );
      assert.throws(() => readFileSync(join(dataDir, ANSWER_LINK_SECRET_FILE)), /ENOENT/);
      assert.throws(
        () => loadConfig({ ANSWER_LINK_SECRET: 'short' }),
        /mail\.answerLinkSecret \(ANSWER_LINK_SECRET\): at least 32 characters/,
      );
      assert.throws(
        () => loadConfig({ SUPERVISOR_EMAIL: 'нет' }),
        /mail\.supervisorEmail \(SUPERVISOR_EMAIL\): an e-mail address/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
