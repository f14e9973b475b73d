import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyTable } from './key-table.js';

test('100,000 distinct keys stay within the cap; the busiest key keeps its state', () => {
  const t = new KeyTable<{ n: number }>(1000);
  const hot = t.touch('hot', () => ({ n: 0 }));
  hot.n = 42;
  for (let i = 0; i < 100_000; i++) {
    t.touch(`rotating-${i}`, () => ({ n: 0 }));
    if (i % 100 === 0) t.touch('hot', () => ({ n: 0 })); // a key in use is recently used
    assert.ok(t.size <= 1000);
  }
  assert.equal(t.size, 1000);
  assert.equal(t.get('hot')?.n, 42);
  assert.equal(t.evicted, 100_000 + 1 - 1000);
});

test('least recently used goes first', () => {
  const t = new KeyTable<number>(2);
  t.touch('a', () => 1);
  t.touch('b', () => 2);
  t.touch('a', () => 0);
  t.touch('c', () => 3);
  assert.equal(t.get('b'), undefined);
  assert.equal(t.get('a'), 1);
});

test('sweep removes finished keys', () => {
  const t = new KeyTable<number>(10);
  for (let i = 0; i < 5; i++) t.touch(String(i), () => i);
  t.sweep((v) => v % 2 === 0);
  assert.deepEqual([...t.entries()].map(([k]) => k), ['1', '3']);
});
