/** How two versions of a config text differ, counted in whole lines. */
export interface DiffSummary {
  readonly added: number;
  readonly removed: number;
  /** True when the edit budget ran out and the counts are a multiset estimate (a lower bound). */
  readonly approximate: boolean;
}

/** Lines of a text; `\r\n` and `\n` both end a line, and a final newline adds no empty line. */
function lines(text: string): string[] {
  if (text === '') return [];
  const out = text.split(/\r?\n/);
  if (out[out.length - 1] === '') out.pop();
  return out;
}

/**
 * Myers' greedy forward search for the shortest edit script length D (insertions + deletions)
 * between `a` and `b`, or undefined once D would pass `maxEdits`. O((N+M)·D) time, O(N+M) memory:
 * only the counts are needed, so no trace is kept.
 */
function editDistance(a: readonly number[], b: readonly number[], maxEdits: number): number | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[offset + k] = x;
      if (x >= n && y >= m) return d;
    }
  }
  return undefined;
}

/** Lower bound used past the budget: lines of one side that have no equal line left on the other. */
function unmatched(from: readonly number[], against: readonly number[]): number {
  const left = new Map<number, number>();
  for (const l of against) left.set(l, (left.get(l) ?? 0) + 1);
  let count = 0;
  for (const l of from) {
    const c = left.get(l) ?? 0;
    if (c === 0) count++; else left.set(l, c - 1);
  }
  return count;
}

/**
 * Counts added and removed lines from `before` to `after` (an LCS line diff: a changed line is one
 * removed plus one added). Common head and tail lines are skipped first, so a small edit to a big
 * file is cheap; when the middle needs more than `maxEdits` edits (default 2000) the counts are
 * estimated and flagged `approximate`. Pure; not for the hot path (history listing only).
 */
export function diffSummary(before: string, after: string, maxEdits = 2000): DiffSummary {
  const ids = new Map<string, number>();
  const intern = (l: string): number => {
    let id = ids.get(l);
    if (id === undefined) { id = ids.size; ids.set(l, id); }
    return id;
  };
  let a = lines(before).map(intern);
  let b = lines(after).map(intern);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  a = a.slice(head, a.length - tail);
  b = b.slice(head, b.length - tail);

  const d = editDistance(a, b, maxEdits);
  if (d === undefined) return { added: unmatched(b, a), removed: unmatched(a, b), approximate: true };
  const common = (a.length + b.length - d) / 2;
  return { added: b.length - common, removed: a.length - common, approximate: false };
}

/** `+3 -1 lines` (`~+3 -1 lines` when approximate). */
export function formatDiffSummary(d: DiffSummary): string {
  return `${d.approximate ? '~' : ''}+${d.added} -${d.removed} lines`;
}
