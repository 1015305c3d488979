/**
 * Who gets the next call: one small pure chooser per strategy, named as FreeSWITCH mod_callcenter names them.
 * A chooser sees only the operators who may take the call now (available, with the call's queue or skill)
 * and answers whom to offer it to, in order; every chooser but ring-all answers one operator.
 * Ties are broken by the operator id, so the same input always gives the same answer.
 */
export const STRATEGIES = [
  'longest-idle-agent',
  'round-robin',
  'agent-with-least-talk-time',
  'agent-with-fewest-calls',
  'top-down',
  'ring-all',
  'random',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The regional "uniform distribution" rule is longest-idle-agent. */
export const DEFAULT_STRATEGY: Strategy = 'longest-idle-agent';

export function isStrategy(s: string): s is Strategy {
  return (STRATEGIES as readonly string[]).includes(s);
}

export interface Candidate {
  id: string;
  /** Tier level in the call's queue (1 when the operator comes by skill, not membership). */
  level: number;
  position: number;
  /** Since when the operator is available; null: never took a call (first in line). */
  idleSince: Date | null;
  callsAnswered: number;
  talkMs: number;
}

export interface ChooseContext {
  /** Round-robin's cursor: the operator the queue offered last. */
  lastOperatorId?: string | null;
  /** A number in [0, 1); injected (seeded) in tests. */
  random?: () => number;
}

const byId = (a: Candidate, b: Candidate) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byIdle = (a: Candidate, b: Candidate) => {
  const ta = a.idleSince?.getTime() ?? Number.NEGATIVE_INFINITY;
  const tb = b.idleSince?.getTime() ?? Number.NEGATIVE_INFINITY;
  return ta - tb || byId(a, b);
};
const byTier = (a: Candidate, b: Candidate) => a.level - b.level || a.position - b.position || byId(a, b);

function first(cands: readonly Candidate[], order: (a: Candidate, b: Candidate) => number): string[] {
  const best = [...cands].sort(order)[0];
  return best ? [best.id] : [];
}

export const choosers: Record<Strategy, (cands: readonly Candidate[], ctx: ChooseContext) => string[]> = {
  'longest-idle-agent': (c) => first(c, byIdle),
  'agent-with-least-talk-time': (c) => first(c, (a, b) => a.talkMs - b.talkMs || byIdle(a, b)),
  'agent-with-fewest-calls': (c) => first(c, (a, b) => a.callsAnswered - b.callsAnswered || byIdle(a, b)),
  'top-down': (c) => first(c, byTier),
  'ring-all': (c) => [...c].sort(byTier).map((x) => x.id),
  /** The next operator after the last one offered, in tier order, wrapping round. */
  'round-robin': (c, ctx) => {
    const ordered = [...c].sort(byTier);
    if (ordered.length === 0) return [];
    const last = ctx.lastOperatorId;
    if (!last) return [ordered[0]!.id];
    const lastIndex = ordered.findIndex((x) => x.id === last);
    if (lastIndex >= 0) return [ordered[(lastIndex + 1) % ordered.length]!.id];
    // The last one is not a candidate now (busy, away): whoever follows it in the queue's order.
    const after = ordered.find((x) => x.id > last);
    return [(after ?? ordered[0]!).id];
  },
  random: (c, ctx) => {
    const ordered = [...c].sort(byId);
    if (ordered.length === 0) return [];
    const r = (ctx.random ?? Math.random)();
    return [ordered[Math.min(ordered.length - 1, Math.floor(r * ordered.length))]!.id];
  },
};

export function choose(strategy: Strategy, cands: readonly Candidate[], ctx: ChooseContext = {}): string[] {
  return choosers[strategy](cands, ctx);
}

/** A seeded generator for the random strategy, so that a test (or a replay) is repeatable. */
export { createRng as seededRandom } from '../../core/prng.js';
