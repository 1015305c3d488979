/**
 * A word diff of two texts, for the approver: what the draft adds to and removes from the approved version.
 * Own code: a longest-common-subsequence over words (the texts are a few hundred words, so the quadratic
 * table is small); spaces and line breaks travel with the word before them, punctuation sticks to its word.
 * Russian words are compared as written (case and «ё» count: the agency approves the exact text).
 */
export interface DiffPart {
  op: 'same' | 'add' | 'del';
  text: string;
}

/** Words with their trailing whitespace: «Запись к врачу.\n» → ["Запись ", "к ", "врачу.\n"]. */
function words(text: string): string[] {
  return text.match(/\s+|\S+\s*/g) ?? [];
}

/** Above this many cells the table is not built: the whole text is shown as replaced. */
const MAX_CELLS = 4_000_000;

export function wordDiff(before: string, after: string): DiffPart[] {
  const a = words(before);
  const b = words(after);
  const key = (w: string) => w.trim();
  const out: DiffPart[] = [];
  const push = (op: DiffPart['op'], text: string) => {
    const last = out[out.length - 1];
    if (last && last.op === op) last.text += text;
    else out.push({ op, text });
  };
  if (a.length * b.length > MAX_CELLS) {
    if (before) push('del', before);
    if (after) push('add', after);
    return out;
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] =
        key(a[i]!) === key(b[j]!)
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (key(a[i]!) === key(b[j]!)) {
      push('same', b[j]!);
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) push('del', a[i++]!);
    else push('add', b[j++]!);
  }
  while (i < a.length) push('del', a[i++]!);
  while (j < b.length) push('add', b[j++]!);
  return out;
}

/** Whether a diff changes anything. */
export const changed = (parts: DiffPart[]) => parts.some((p) => p.op !== 'same');
