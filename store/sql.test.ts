import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, openTestDb, type TestDb } from '../test/support/db.js';
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

    it('turns data the store refuses into a clear, not retryable error of the caller (a 4xx at the API)', async () => {
      await db.sql.exec(
        'CREATE TABLE parent (id text PRIMARY KEY); CREATE TABLE child (id int8 PRIMARY KEY, p text REFERENCES parent (id), s text)',
      );
      const refused = async (
        text: string,
        params: unknown[],
        code: string,
        sqlstate: string,
        message: RegExp,
      ) =>
        assert.rejects(
          db.sql.query(text, params),
          (err: Error & { code?: string; retryable?: boolean; details?: Record<string, unknown> }) => {
            assert.equal(err.code, code, `${text}: ${err.message}`);
            assert.equal(err.retryable, false);
            assert.equal(err.details?.sqlstate, sqlstate);
            assert.match(err.message, message);
            return true;
          },
        );
      await refused(
        'INSERT INTO child (id, s) VALUES (1, $1)',
        ['a\u0000b'],
        'VALIDATION_FAILED',
        '22021',
        /NUL/,
      );
      await refused(
        'INSERT INTO t (id, j) VALUES (9, $1)',
        ['{"a":"\\u0000"}'],
        'VALIDATION_FAILED',
        '22P05',
        /NUL/,
      );
      await refused(
        'SELECT * FROM t WHERE id = $1',
        ['99999999999999999999'],
        'VALIDATION_FAILED',
        '22003',
        /диапазон/,
      );
      await refused('SELECT * FROM t WHERE id = $1', ['abc'], 'VALIDATION_FAILED', '22P02', /неверного вида/);
      await refused(
        'INSERT INTO child (id, p) VALUES (1, $1)',
        ['нет такого'],
        'VALIDATION_FAILED',
        '23503',
        /Ссылка/,
      );
      await db.sql.query('INSERT INTO t (id) VALUES (5)');
      await refused('INSERT INTO t (id) VALUES ($1)', [5], 'CONFLICT', '23505', /уже есть/);
      // Inside a transaction too, and the transaction is rolled back.
      await assert.rejects(
        db.sql.transaction(async (tx) => {
          await tx.query('INSERT INTO t (id) VALUES (6)');
          await tx.query('INSERT INTO child (id, p) VALUES (2, $1)', ['нет такого']);
        }),
        (err: Error & { code?: string }) => err.code === 'VALIDATION_FAILED',
      );
      assert.equal((await db.sql.query('SELECT id FROM t WHERE id = 6')).length, 0);
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
