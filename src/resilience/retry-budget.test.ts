import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fewestGcs } from '../util/gc-check.js';
import { RetryBudget } from './retry-budget.js';

function started(b: RetryBudget, n: number): void {
  for (let i = 0; i < n; i++) b.requestStarted();
}

test('defaults: 20% with a floor of 3', () => {
  const b = new RetryBudget();
  assert.equal(b.limit(), 3);
  started(b, 20);
  assert.equal(b.limit(), 4);
  started(b, 4); // 24 → 4.8 → 4
  assert.equal(b.limit(), 4);
  started(b, 76); // 100 → 20
  assert.equal(b.limit(), 20);
});

test('minConcurrent allows retries with few or no requests in flight', () => {
  const b = new RetryBudget({ percent: 20, minConcurrent: 3 });
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), false);
  assert.equal(b.exhausted, 1);
  assert.equal(b.activeRetries, 3);
  b.retryFinished();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.granted, 4);
});

test('percent of active requests above the floor', () => {
  const b = new RetryBudget({ percent: 50, minConcurrent: 1 });
  started(b, 10); // limit 5
  let ok = 0;
  for (let i = 0; i < 8; i++) if (b.tryRetry()) ok++;
  assert.equal(ok, 5);
  assert.equal(b.exhausted, 3);
  // Load drops: the limit shrinks; retries in flight stay, new ones are refused until below it.
  for (let i = 0; i < 6; i++) b.requestFinished(); // 4 active → limit 2
  assert.equal(b.limit(), 2);
  assert.equal(b.tryRetry(), false);
  for (let i = 0; i < 3; i++) b.retryFinished(); // 2 retries in flight
  assert.equal(b.tryRetry(), false);
  b.retryFinished();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.exhausted, 5);
});

test('percent 0 and minConcurrent 0 refuse every retry', () => {
  const b = new RetryBudget({ percent: 0, minConcurrent: 0 });
  started(b, 1000);
  assert.equal(b.tryRetry(), false);
  assert.equal(b.exhausted, 1);
});

test('unbalanced finishes never go below zero and are counted', () => {
  const b = new RetryBudget();
  b.requestFinished();
  b.retryFinished();
  assert.equal(b.active, 0);
  assert.equal(b.activeRetries, 0);
  assert.equal(b.unbalanced, 2);
});

test('invalid options throw RangeError', () => {
  assert.throws(() => new RetryBudget({ percent: -1 }), RangeError);
  assert.throws(() => new RetryBudget({ percent: 101 }), RangeError);
  assert.throws(() => new RetryBudget({ percent: Number.NaN }), RangeError);
  assert.throws(() => new RetryBudget({ minConcurrent: -1 }), RangeError);
  assert.throws(() => new RetryBudget({ minConcurrent: 1.5 }), RangeError);
});

test('request/retry accounting allocates nothing once optimised', async () => {
  // Heuristic (V8): a round of 1M operations that allocated even a few bytes each would force scavenges.
  const b = new RetryBudget({ percent: 25, minConcurrent: 2 });
  const round = (n: number) => {
    for (let i = 0; i < n; i++) {
      b.requestStarted();
      if (b.tryRetry()) b.retryFinished();
      b.requestFinished();
    }
  };
  assert.equal(await fewestGcs(round), 0);
});
