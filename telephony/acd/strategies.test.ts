import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Candidate, choose, isStrategy, STRATEGIES, seededRandom } from './strategies.js';

const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 9, 0, s));
const op = (id: string, o: Partial<Candidate> = {}): Candidate => ({
  id,
  level: 1,
  position: 1,
  idleSince: at(0),
  callsAnswered: 0,
  talkMs: 0,
  ...o,
});

describe('ACD strategies', () => {
  it('longest-idle-agent: the operator available the longest, one never called first', () => {
    const cands = [
      op('a', { idleSince: at(30) }),
      op('b', { idleSince: at(10) }),
      op('c', { idleSince: at(20) }),
    ];
    assert.deepEqual(choose('longest-idle-agent', cands), ['b']);
    assert.deepEqual(choose('longest-idle-agent', [...cands, op('d', { idleSince: null })]), ['d']);
    assert.deepEqual(choose('longest-idle-agent', [op('y'), op('x')]), ['x'], 'a tie goes by id');
  });

  it('round-robin: the next after the last one offered, in tier order, wrapping round', () => {
    const cands = [op('a', { position: 2 }), op('b', { position: 1 }), op('c', { position: 3 })];
    assert.deepEqual(choose('round-robin', cands), ['b']);
    assert.deepEqual(choose('round-robin', cands, { lastOperatorId: 'b' }), ['a']);
    assert.deepEqual(choose('round-robin', cands, { lastOperatorId: 'a' }), ['c']);
    assert.deepEqual(choose('round-robin', cands, { lastOperatorId: 'c' }), ['b']);
    assert.deepEqual(
      choose('round-robin', [op('a'), op('c')], { lastOperatorId: 'b' }),
      ['c'],
      'the last one is busy now: who follows it',
    );
  });

  it('agent-with-least-talk-time and agent-with-fewest-calls, ties by idle time', () => {
    const cands = [
      op('a', { talkMs: 50_000, callsAnswered: 1, idleSince: at(1) }),
      op('b', { talkMs: 20_000, callsAnswered: 3, idleSince: at(2) }),
      op('c', { talkMs: 20_000, callsAnswered: 1, idleSince: at(0) }),
    ];
    assert.deepEqual(choose('agent-with-least-talk-time', cands), ['c']);
    assert.deepEqual(choose('agent-with-fewest-calls', cands), ['c']);
    assert.deepEqual(choose('agent-with-fewest-calls', cands.slice(0, 2)), ['a']);
    assert.deepEqual(choose('agent-with-least-talk-time', cands.slice(0, 2)), ['b']);
  });

  it('top-down: the lowest tier level, then position, then id', () => {
    const cands = [
      op('a', { level: 2, position: 1, idleSince: null }),
      op('b', { level: 1, position: 2 }),
      op('c', { level: 1, position: 1, idleSince: at(50) }),
    ];
    assert.deepEqual(choose('top-down', cands), ['c']);
    assert.deepEqual(choose('top-down', cands.slice(0, 2)), ['b']);
    assert.deepEqual(choose('top-down', cands.slice(0, 1)), ['a']);
  });

  it('ring-all: everyone who may take the call, in tier order', () => {
    const cands = [op('a', { level: 2 }), op('b'), op('c', { position: 0 })];
    assert.deepEqual(choose('ring-all', cands), ['c', 'b', 'a']);
  });

  it('random: repeatable with a seeded generator, and spread over everyone', () => {
    const cands = ['a', 'b', 'c', 'd'].map((id) => op(id));
    const pick = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 400 }, () => choose('random', cands, { random })[0]);
    };
    assert.deepEqual(pick(7), pick(7));
    const counts = new Map<string, number>();
    for (const id of pick(7)) counts.set(id!, (counts.get(id!) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), ['a', 'b', 'c', 'd']);
    for (const n of counts.values()) assert.ok(n > 60 && n < 140, `roughly a quarter each, got ${n}`);
    assert.deepEqual(choose('random', cands, { random: () => 0.999_999 }), ['d']);
  });

  it('answers nobody when nobody may take the call, for every strategy', () => {
    for (const s of STRATEGIES) assert.deepEqual(choose(s, []), [], s);
    assert.equal(isStrategy('longest-idle-agent'), true);
    assert.equal(isStrategy('sequentially-by-agent-order'), false);
  });
});
