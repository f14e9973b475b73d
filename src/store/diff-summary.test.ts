import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSummary, formatDiffSummary } from './diff-summary.js';

const text = (...lines: string[]): string => lines.map((l) => `${l}\n`).join('');

test('counts added and removed lines; a changed line is one of each', () => {
  assert.deepEqual(diffSummary(text('a', 'b', 'c'), text('a', 'b', 'c')), { added: 0, removed: 0, approximate: false });
  assert.deepEqual(diffSummary('', text('a', 'b')), { added: 2, removed: 0, approximate: false });
  assert.deepEqual(diffSummary(text('a', 'b'), ''), { added: 0, removed: 2, approximate: false });
  assert.deepEqual(diffSummary(text('a', 'b', 'c'), text('a', 'x', 'c')), { added: 1, removed: 1, approximate: false });
  assert.deepEqual(diffSummary(text('a', 'b', 'c', 'd'), text('a', 'c', 'd', 'e')), { added: 1, removed: 1, approximate: false });
});

test('finds the shortest diff, not a line-by-line comparison', () => {
  // Inserting one line at the top shifts every line: still +1 -0.
  assert.deepEqual(diffSummary(text('b', 'c', 'd', 'e'), text('a', 'b', 'c', 'd', 'e')), { added: 1, removed: 0, approximate: false });
  // Moving a line is one removal and one addition.
  assert.deepEqual(diffSummary(text('a', 'b', 'c', 'd'), text('b', 'c', 'd', 'a')), { added: 1, removed: 1, approximate: false });
  // Classic Myers example: abcabba → cbabac has edit distance 5 (LCS 4).
  const split = (s: string): string => text(...s.split(''));
  assert.deepEqual(diffSummary(split('abcabba'), split('cbabac')), { added: 2, removed: 3, approximate: false });
});

test('line endings: CRLF equals LF and a missing final newline does not count', () => {
  assert.deepEqual(diffSummary('a\r\nb\r\n', 'a\nb'), { added: 0, removed: 0, approximate: false });
  assert.deepEqual(diffSummary('a\n\nb\n', 'a\nb\n'), { added: 0, removed: 1, approximate: false });
});

test('past the edit budget the counts are estimated and flagged', () => {
  const before = text(...Array.from({ length: 300 }, (_, i) => `old ${i}`));
  const after = text(...Array.from({ length: 200 }, (_, i) => `new ${i}`));
  assert.deepEqual(diffSummary(before, after), { added: 200, removed: 300, approximate: false });
  assert.deepEqual(diffSummary(before, after, 50), { added: 200, removed: 300, approximate: true });
  // A big file with a small edit stays exact and cheap: head and tail are trimmed first.
  const big = Array.from({ length: 50_000 }, (_, i) => `line ${i}`);
  const edited = [...big.slice(0, 25_000), 'inserted', ...big.slice(25_001)];
  assert.deepEqual(diffSummary(text(...big), text(...edited), 10), { added: 1, removed: 1, approximate: false });
});

test('formatDiffSummary', () => {
  assert.equal(formatDiffSummary({ added: 3, removed: 1, approximate: false }), '+3 -1 lines');
  assert.equal(formatDiffSummary({ added: 3, removed: 1, approximate: true }), '~+3 -1 lines');
});
