import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSeriesLimiter, type BackendCounters, type BoundedSeries } from './backend-series.js';

const rank = (v: readonly number[]) => v[0];
const b = (key: string, ...values: number[]): BackendCounters => ({ key, values });
const total = (s: BoundedSeries) => s.named.reduce((t, n) => t + n.values[0], 0) + (s.other?.[0] ?? 0);

test('a service with at most max backends names them all, with their own counts', () => {
  const l = new BackendSeriesLimiter(3);
  const s = l.update('api', [b('a', 0), b('b', 0), b('c', 0)], rank);
  assert.deepEqual(s, { named: [{ key: 'a', values: [0] }, { key: 'b', values: [0] }, { key: 'c', values: [0] }], other: undefined });
  assert.deepEqual(l.update('api', [b('a', 5), b('b', 1), b('c', 9)], rank).named.map((n) => n.values[0]), [5, 1, 9]);
});

test('more backends than max: the busiest get names, the rest are summed into other; totals add up', () => {
  const l = new BackendSeriesLimiter(2);
  const s = l.update('api', [b('a', 1), b('b', 7), b('c', 0), b('d', 3)], rank);
  assert.deepEqual(s.named.map((n) => n.key), ['b', 'd']);
  assert.deepEqual(s.other, [1]);
  assert.equal(total(s), 11);
});

test('names are sticky: a backend that becomes the busiest later goes on counting in other, which never falls', () => {
  const l = new BackendSeriesLimiter(1);
  let s = l.update('api', [b('a', 0), b('b', 5), b('c', 1)], rank);
  assert.deepEqual([s.named.map((n) => n.key), s.other], [['b'], [1]]);
  const others: number[] = [s.other![0]];
  for (let i = 1; i <= 5; i++) {
    s = l.update('api', [b('a', 100 * i), b('b', 5 + i), b('c', 1)], rank);
    assert.deepEqual(s.named.map((n) => n.key), ['b']);
    others.push(s.other![0]);
    assert.equal(total(s), 100 * i + 5 + i + 1);
  }
  assert.deepEqual(others, [...others].sort((x, y) => x - y), `other fell: ${others.join(',')}`);
});

test('a named backend leaving the config frees its slot; the next one starts at 0 and other keeps what it counted', () => {
  const l = new BackendSeriesLimiter(1);
  l.update('api', [b('a', 10), b('b', 4)], rank);
  let s = l.update('api', [b('a', 12), b('b', 6)], rank);
  assert.deepEqual([s.named, s.other], [[{ key: 'a', values: [12] }], [6]]);
  s = l.update('api', [b('b', 9), b('c', 1)], rank); // a removed: b takes the slot from here on
  assert.deepEqual([s.named, s.other], [[{ key: 'b', values: [3] }], [7]]);
  s = l.update('api', [b('b', 20), b('c', 2)], rank);
  assert.deepEqual([s.named, s.other], [[{ key: 'b', values: [14] }], [8]]);
});

test('an unnamed backend leaving the config keeps its past in other (no fall); a counter that goes back is not subtracted', () => {
  const l = new BackendSeriesLimiter(1);
  l.update('api', [b('a', 10), b('b', 4), b('c', 3)], rank);
  let s = l.update('api', [b('a', 10), b('b', 4)], rank);
  assert.deepEqual(s.other, [7]);
  s = l.update('api', [b('a', 10), b('b', 1)], rank); // b's counter went back (a restarted worker)
  assert.deepEqual(s.other, [7]);
  s = l.update('api', [b('a', 10), b('b', 2)], rank);
  assert.deepEqual(s.other, [8]);
});

test('no traffic yet: nothing is named while the service has more than max backends', () => {
  const l = new BackendSeriesLimiter(2);
  const s = l.update('api', [b('a', 0), b('b', 0), b('c', 0)], rank);
  assert.deepEqual([s.named, s.other], [[], [0]]);
  assert.deepEqual(l.update('api', [b('a', 0), b('b', 0), b('c', 2)], rank).named.map((n) => n.key), ['c']);
});
