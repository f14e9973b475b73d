import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMaps, makeTuples, shares } from './flow-map.js';

test('makeTuples is deterministic per seed and gives distinct source ports', () => {
  const a = makeTuples(1000, '10.10.0.2', '198.51.100.10', 80, 7);
  assert.equal(new Set(a.map((t) => t.sport)).size, 1000);
  assert.deepEqual(a, makeTuples(1000, '10.10.0.2', '198.51.100.10', 80, 7));
  assert.notDeepEqual(a, makeTuples(1000, '10.10.0.2', '198.51.100.10', 80, 8));
  assert.ok(a.every((t) => t.sport >= 1024 && t.sport <= 65535));
});

test('a withdrawal: flows of the removed node must move, moves among the others are needless', () => {
  const before = ['a', 'b', 'c', 'a', 'b', 'c'];
  const after = ['a', 'a', 'b', 'b', 'b', 'a'];
  const r = compareMaps(before, after, new Set(['c']), new Set());
  assert.deepEqual(r, { total: 6, moved: 4, movedPct: 66.7, needless: 2, needlessPct: 50, toAdded: 0, fromRemoved: 2 });
});

test('a scale-out: moves to the added nodes are needed, moves between old nodes are needless', () => {
  const before = ['a', 'a', 'b', 'b', 'a'];
  const after = ['d', 'b', 'b', 'a', 'a'];
  const r = compareMaps(before, after, new Set(), new Set(['d']));
  assert.equal(r.moved, 3);
  assert.equal(r.toAdded, 1);
  assert.equal(r.needless, 2);
  assert.equal(r.needlessPct, 40);
  assert.throws(() => compareMaps(['a'], [], new Set(), new Set()), /length/);
  assert.deepEqual(shares(before), { a: 3, b: 2 });
});
