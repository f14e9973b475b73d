import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fewestGcs } from '../util/gc-check.js';
import { ManualClock } from '../util/clock.js';
import { RetryBudget } from './retry-budget.js';

function started(b: RetryBudget, n: number): void {
  for (let i = 0; i < n; i++) b.requestStarted();
}

function grants(b: RetryBudget, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (b.tryRetry()) ok++;
  return ok;
}

test('with no traffic the floor allows minPerSecond × window retries', () => {
  const b = new RetryBudget({ percent: 20, minPerSecond: 10, windowMs: 10_000 }, new ManualClock(5));
  assert.equal(grants(b, 150), 100);
  assert.equal(b.exhausted, 50);
  assert.equal(b.granted, 100);
});

test('a burst of failures is fully retried from what the window saved up, whatever is in flight', () => {
  // The case: 2k req/s, one of three backends hung; its ~667 requests of one second time
  // out within a few 100 ms sweeps. The old budget (20% of requests in flight, ~2) refused most.
  const clock = new ManualClock(0);
  const b = new RetryBudget({}, clock);
  for (let s = 0; s < 30; s++) { started(b, 200); clock.advance(100); } // 3 s at 2000/s
  let refused = 0;
  for (let sweep = 0; sweep < 10; sweep++) {
    started(b, 200);
    refused += 67 - grants(b, 67);
    clock.advance(100);
  }
  assert.equal(refused, 0);
});

test('when every request fails, retries stay at percent% of requests over any window', () => {
  const clock = new ManualClock(0);
  const b = new RetryBudget({ percent: 20, minPerSecond: 10, windowMs: 10_000 }, clock);
  let requests = 0;
  let retries = 0;
  for (let ms = 0; ms < 60_000; ms += 10) { // 60 s at 1000 req/s, each failing request asks for a retry
    for (let i = 0; i < 10; i++) { b.requestStarted(); requests++; if (b.tryRetry()) retries++; }
    clock.advance(10);
  }
  const amplification = (requests + retries) / requests;
  assert.ok(amplification <= 1.2 + 1e-9, `amplification ${amplification}`);
  assert.ok(amplification > 1.19, `the budget is used: ${amplification}`);
});

test('withdrawals and deposits expire after the window', () => {
  const clock = new ManualClock(0);
  const b = new RetryBudget({ percent: 50, minPerSecond: 0, windowMs: 1000 }, clock);
  started(b, 10);
  assert.equal(grants(b, 10), 5);
  clock.advance(500);
  assert.equal(b.tryRetry(), false, 'still inside the window');
  clock.advance(600); // everything deposited and withdrawn has left the window
  assert.equal(b.balance(), 0);
  started(b, 4);
  assert.equal(grants(b, 3), 2);
  clock.advance(5000); // long idle: exact reset
  assert.equal(b.balance(), 0);
});

test('canRetry peeks without withdrawing', () => {
  const b = new RetryBudget({ percent: 0, minPerSecond: 0.1, windowMs: 10_000 }, new ManualClock(0));
  assert.equal(b.canRetry(), true);
  assert.equal(b.canRetry(), true);
  assert.equal(b.tryRetry(), true);
  assert.equal(b.canRetry(), false);
  assert.equal(b.exhausted, 0);
});

test('percent 0 and minPerSecond 0 refuse every retry', () => {
  const b = new RetryBudget({ percent: 0, minPerSecond: 0 }, new ManualClock(0));
  started(b, 1000);
  assert.equal(b.tryRetry(), false);
  assert.equal(b.exhausted, 1);
});

test('sameAs compares the settings (defaults filled in)', () => {
  const b = new RetryBudget({}, new ManualClock(0));
  assert.equal(b.sameAs({ percent: 20, minPerSecond: 10, windowMs: 10_000 }), true);
  assert.equal(b.sameAs({ percent: 25 }), false);
});

test('invalid options throw RangeError', () => {
  const c = new ManualClock(0);
  assert.throws(() => new RetryBudget({ percent: -1 }, c), RangeError);
  assert.throws(() => new RetryBudget({ percent: 101 }, c), RangeError);
  assert.throws(() => new RetryBudget({ percent: Number.NaN }, c), RangeError);
  assert.throws(() => new RetryBudget({ minPerSecond: -1 }, c), RangeError);
  assert.throws(() => new RetryBudget({ windowMs: 0 }, c), RangeError);
});

test('request/retry accounting allocates nothing once optimised', async () => {
  // Heuristic (V8): a round of 1M operations that allocated even a few bytes each would force scavenges.
  const clock = new ManualClock(0);
  const b = new RetryBudget({ percent: 25, minPerSecond: 2 }, clock);
  const round = (n: number) => {
    for (let i = 0; i < n; i++) {
      b.requestStarted();
      b.tryRetry();
      if ((i & 1023) === 0) clock.advance(7);
    }
  };
  assert.equal(await fewestGcs(round), 0);
});
