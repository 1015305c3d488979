import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, openTestDb, type TestDb } from '../../test/support/db.js';
import { OperatorQueue, type Strategy } from '../queue.js';

/** The ACD's fairness run, shared by the per-strategy, per-backend tests (telephony/acd/fairness-*.test.ts). */

export const START = Date.parse('2026-03-02T09:00:00Z');

/**
 * 1 000 calls arrive one every 10 s at 7 operators; each conversation takes 45 s and the wrap-up 5 s, so the
 * operators are sometimes all busy and sometimes several idle: the strategy decides. Event-driven: the clock
 * jumps to the next arrival, close or wrap-up end; a dispatcher round follows an arrival or a wrap-up's end
 * (a close frees nobody). Returns the calls each operator took.
 */
export async function simulate(db: TestDb, strategy: Strategy): Promise<Map<string, number>> {
  let t = START;
  const queue = new OperatorQueue(db.sql, { waitNormMs: 60_000, now: () => new Date(t) });
  await queue.upsertQueue({ id: 'default', strategy, wrapUpMs: 5_000, ringTimeoutMs: 20_000 });
  const ops = Array.from({ length: 7 }, (_, i) => `op${i}`);
  for (const id of ops) {
    await queue.upsertOperator({ id, name: id, sipUri: `sip:${id}@ops`, skills: [] });
    await queue.setPresence(id, 'available');
    t += 1000;
  }
  const CALLS = 1000;
  let arrived = 0;
  let nextArrival = t;
  const talking = new Map<string, { operatorId: string; endsAt: number }>();
  let wrapEnds: number[] = [];
  const counts = new Map(ops.map((id) => [id, 0]));
  let answered = 0;
  while (answered < CALLS || talking.size > 0) {
    const ends = [...talking.values()].map((c) => c.endsAt);
    t = Math.min(arrived < CALLS ? nextArrival : Number.POSITIVE_INFINITY, ...ends, ...wrapEnds);
    assert.ok(Number.isFinite(t), 'something is always due until every call is served');
    const wrapEnded = wrapEnds.some((w) => w <= t);
    wrapEnds = wrapEnds.filter((w) => w > t);
    const arrives = arrived < CALLS && nextArrival === t;
    if (arrives) {
      await queue.enqueueCall({ callId: `c${arrived}`, topicId: null });
      arrived++;
      nextArrival += 10_000;
    }
    for (const [callId, c] of talking) {
      if (c.endsAt !== t) continue;
      const closed = await queue.closeConversation(callId, c.operatorId);
      wrapEnds.push(closed.availableAt.getTime());
      talking.delete(callId);
    }
    if (!arrives && !wrapEnded) continue;
    for (const offer of await queue.assignNext()) {
      await queue.accept(offer.callId, offer.operatorId);
      counts.set(offer.operatorId, counts.get(offer.operatorId)! + 1);
      talking.set(offer.callId, { operatorId: offer.operatorId, endsAt: t + 45_000 });
      answered++;
    }
  }
  const stats = await queue.stats();
  assert.equal(stats.answered, CALLS);
  assert.equal(stats.waiting, 0);
  return counts;
}

/**
 * The fairness test of one strategy on one backend (a file each: 1 000 calls through the real store take
 * their time, and the runner's limit is per file).
 */
export function fairnessSuite(strategy: Strategy, backend: Backend): void {
  describe(`ACD fairness, ${strategy} (${backend})`, () => {
    let db: TestDb;
    before(async () => {
      db = await openTestDb(backend);
    });
    after(async () => {
      await db.drop();
    });

    it("over 1 000 calls the operators' call counts differ by at most one", async () => {
      const counts = [...(await simulate(db, strategy)).values()];
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        1000,
      );
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts: ${counts.join(', ')}`);
    });
  });
}
