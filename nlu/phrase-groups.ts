/**
 * Groups callers' phrases by similar wording (the knowledge studio's inbox): each phrase is normalized as the
 * classifier reads it (normalize.ts) and its words stemmed (features.ts stemToken), which gives its key; equal
 * keys are one wording. Wordings are then clustered greedily, the most frequent first: a wording joins the
 * first group whose leading wording is at least `threshold` similar (cosine of character trigrams of the
 * stemmed text, which also catches recognition slips of one letter), else it leads a new group. A group's
 * label is its most frequent text; groups come largest first.
 */
import { stemToken } from './features.js';
import { normalize } from './normalize.js';

/** The key of a phrase: its normalized, stemmed words (equal keys are the same wording). */
export function phraseKey(text: string): string {
  return normalize(text)
    .split(' ')
    .filter((t) => t.length > 0)
    .map(stemToken)
    .join(' ');
}

type Vector = Map<string, number>;

function trigrams(key: string): Vector {
  const v: Vector = new Map();
  const s = ` ${key} `;
  for (let i = 0; i + 3 <= s.length; i++) {
    const g = s.slice(i, i + 3);
    v.set(g, (v.get(g) ?? 0) + 1);
  }
  return v;
}

function cosine(a: Vector, b: Vector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, x] of a) {
    na += x * x;
    const y = b.get(k);
    if (y) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export interface PhraseGroup<T> {
  /** The most frequent text of the group. */
  label: string;
  /** The key of the group's leading wording (the group's id while the phrases stay the same). */
  key: string;
  /** Every wording's key in the group. */
  keys: string[];
  count: number;
  members: T[];
}

export interface GroupOptions {
  /** How similar a wording must be to a group's leading one to join it (0..1, default 0.6). */
  threshold?: number;
}

/** Groups items by the wording of `text(item)`; items whose text normalizes to nothing are left out. */
export function groupPhrases<T>(
  items: T[],
  text: (item: T) => string,
  opts: GroupOptions = {},
): Array<PhraseGroup<T>> {
  const threshold = opts.threshold ?? 0.6;
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const key = phraseKey(text(item));
    if (key === '') continue;
    const list = byKey.get(key);
    if (list) list.push(item);
    else byKey.set(key, [item]);
  }
  const wordings = [...byKey.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const groups: Array<{ lead: Vector; key: string; keys: string[]; members: T[] }> = [];
  for (const [key, members] of wordings) {
    const v = trigrams(key);
    const home = groups.find((g) => cosine(g.lead, v) >= threshold);
    if (home) {
      home.keys.push(key);
      home.members.push(...members);
    } else groups.push({ lead: v, key, keys: [key], members: [...members] });
  }
  return groups
    .map((g) => ({
      key: g.key,
      keys: g.keys,
      count: g.members.length,
      members: g.members,
      label: mostFrequent(g.members.map(text)),
    }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

function mostFrequent(texts: string[]): string {
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  let best = texts[0] ?? '';
  for (const [t, n] of counts) if (n > (counts.get(best) ?? 0)) best = t;
  return best;
}
