import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSql, type Sql } from '../../store/sql.js';
import { backends, openTestDb, type TestDb } from '../../test/support/db.js';
import { OperatorQueue } from '../queue.js';

/** Two dispatchers (two telephony nodes) on one database: never one call to two operators, or two to one. */

const START = Date.parse('2026-03-02T09:00:00Z');

for (const backend of backends) {
  describe(`ACD: two dispatchers (${backend})`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db.drop();
    });

    it('two dispatchers on one database racing over 200 calls never double-offer', async () => {
      await db.sql.exec(
        'DELETE FROM telephony_queue_calls; DELETE FROM telephony_operators; DELETE FROM telephony_acd_events;',
      );
      // On PostgreSQL each dispatcher has its own connection pool, as two telephony nodes would.
      const second: Sql = db.url ? await openSql({ url: db.url }) : db.sql;
      try {
        let t = START;
        const now = () => new Date(t);
        const nodes = [db.sql, second].map(
          (sql) => new OperatorQueue(sql, { waitNormMs: 60_000, wrapUpMs: 0, now }),
        );
        await nodes[0]!.upsertQueue({ id: 'default', wrapUpMs: 0 });
        for (let i = 0; i < 12; i++) {
          await nodes[0]!.upsertOperator({
            id: `op${i}`,
            name: `op${i}`,
            sipUri: `sip:op${i}@ops`,
            skills: [],
          });
          await nodes[0]!.setPresence(`op${i}`, 'available');
        }
        for (let i = 0; i < 200; i++) await nodes[0]!.enqueueCall({ callId: `c${i}`, topicId: null });
        const accepted: string[] = [];
        const run = async (node: OperatorQueue) => {
          for (let round = 0; round < 400 && accepted.length < 200; round++) {
            const offers = await node.assignNext();
            await Promise.all(
              offers.map(async (o) => {
                await node.accept(o.callId, o.operatorId);
                accepted.push(o.callId);
                t += 1;
                await node.closeConversation(o.callId, o.operatorId);
              }),
            );
          }
        };
        await Promise.all(nodes.map(run));
        assert.equal(accepted.length, 200);
        assert.equal(new Set(accepted).size, 200, 'every call accepted once');
        const events = await nodes[0]!.events();
        const offered = events.filter((e) => e.event === 'offered');
        assert.equal(offered.length, 200, 'each call offered exactly once: never to two operators');
        // Per operator the events alternate offered → accepted → closed: never two calls at once.
        const perOperator = new Map<string, string[]>();
        for (const e of events) {
          if (!e.operatorId || !['offered', 'accepted', 'closed'].includes(e.event)) continue;
          perOperator.set(e.operatorId, [...(perOperator.get(e.operatorId) ?? []), e.event]);
        }
        for (const [id, seq] of perOperator) {
          const cycle = ['offered', 'accepted', 'closed'];
          for (const [i, ev] of seq.entries())
            assert.equal(ev, cycle[i % 3], `${id} event ${i}: ${seq.join(' ')}`);
        }
        assert.ok(perOperator.size > 1, 'the calls were spread over the operators');
      } finally {
        if (second !== db.sql) await second.close();
      }
    });
  });
}
