import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { openSql } from './sql.js';

for (const backend of backends) {
  describe(`sql layer on ${backend}`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend, { migrate: false });
      await db.sql.exec('CREATE TABLE t (id int8 PRIMARY KEY, d date, n numeric, j jsonb, at timestamptz)');
    });
    after(() => db.drop());

    it('returns the same JS types on both backends', async () => {
      await db.sql.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5)', [
        1,
        '2026-12-30',
        '1.5',
        { a: 1 },
        new Date(0),
      ]);
      const [row] = await db.sql.query('SELECT * FROM t WHERE id = 1');
      assert.deepEqual(row, { id: 1, d: '2026-12-30', n: 1.5, j: { a: 1 }, at: new Date(0) });
    });

    it('rolls a failed transaction back whole', async () => {
      await assert.rejects(
        db.sql.transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES (2)');
          await tx.query('INSERT INTO t (id) VALUES (2)');
        }),
      );
      assert.equal((await db.sql.query('SELECT id FROM t WHERE id = 2')).length, 0);
    });
  });
}

describe('sql layer errors', () => {
  it('reports an unreachable server as a retryable STORE_UNAVAILABLE error without the password', async () => {
    await assert.rejects(
      openSql({ url: 'postgres://u:secret@127.0.0.1:1/x' }),
      (err: Error & { code?: string; retryable?: boolean }) => {
        assert.equal(err.code, 'STORE_UNAVAILABLE');
        assert.equal(err.retryable, true);
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
  });
});
