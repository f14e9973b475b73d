import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerState } from './breaker.js';
import { ManualClock } from '../util/clock.js';

function make(opts: Partial<BreakerOptions> = {}): { b: CircuitBreaker; clock: ManualClock; log: string[] } {
  const clock = new ManualClock(1_000);
  const log: string[] = [];
  const b = new CircuitBreaker({ ...DEFAULT_BREAKER, ...opts }, clock, (from: BreakerState, to: BreakerState) => log.push(`${from}->${to}`));
  return { b, clock, log };
}

/** Records `n` outcomes, of which the first `errors` fail. */
function feed(b: CircuitBreaker, n: number, errors: number): void {
  for (let i = 0; i < n; i++) b.record(i >= errors);
}

/** Trips a fresh breaker with 20 failures. */
function trip(b: CircuitBreaker): void {
  feed(b, 20, 20);
  assert.equal(b.state, 'open');
}

test('breaker: defaults are the design numbers', () => {
  assert.deepEqual({ ...DEFAULT_BREAKER }, {
    errorThresholdPercentage: 50, requestVolumeThreshold: 20, sleepWindowMs: 30_000, halfOpenRequests: 5, windowMs: 10_000,
  });
});

test('breaker: 19 requests at 100% errors do not trip; the 20th (a success, 95%) does', () => {
  const { b, log } = make();
  feed(b, 19, 19);
  assert.equal(b.state, 'closed');
  assert.equal(b.allowRequest(), true);
  b.record(true);
  assert.equal(b.state, 'open');
  assert.deepEqual(log, ['closed->open']);
});

test('breaker: 20 requests at exactly 50% errors trip, 20 at 45% do not', () => {
  const fifty = make();
  feed(fifty.b, 20, 10);
  assert.equal(fifty.b.state, 'open');

  const fortyFive = make();
  feed(fortyFive.b, 20, 9);
  assert.equal(fortyFive.b.state, 'closed');
  // One more success keeps it under: 9 / 21.
  fortyFive.b.record(true);
  assert.equal(fortyFive.b.state, 'closed');
  // One more failure: 10 / 22 = 45.5%, still under.
  fortyFive.b.record(false);
  assert.equal(fortyFive.b.state, 'closed');
});

test('breaker: successes first, then errors, trips when the running error share reaches 50%', () => {
  const { b } = make();
  feed(b, 20, 0); // 20 ok
  for (let i = 0; i < 19; i++) b.record(false); // 19 / 39 < 50%
  assert.equal(b.state, 'closed');
  b.record(false); // 20 / 40 = 50%
  assert.equal(b.state, 'open');
});

test('breaker: rejects while open, also via pickable(), until the sleep window passes', () => {
  const { b, clock } = make();
  trip(b);
  for (let i = 0; i < 100; i++) assert.equal(b.allowRequest(), false);
  assert.equal(b.pickable(), false);
  clock.advance(29_999);
  assert.equal(b.allowRequest(), false);
  assert.equal(b.pickable(), false);
  assert.equal(b.tick(), false);
  assert.equal(b.state, 'open');
  clock.advance(1);
  assert.equal(b.pickable(), true);
  assert.equal(b.state, 'open', 'pickable() does not move the state');
});

test('breaker: outcomes arriving while open are ignored', () => {
  const { b, clock, log } = make();
  trip(b);
  for (let i = 0; i < 50; i++) b.record(i % 2 === 0);
  assert.equal(b.state, 'open');
  clock.advance(30_000);
  assert.equal(b.allowRequest(), true);
  assert.equal(b.state, 'half-open');
  assert.deepEqual(log, ['closed->open', 'open->half-open']);
});

test('breaker: half-open admits exactly 5 trials; the 6th allowRequest is false', () => {
  const { b, clock } = make();
  trip(b);
  clock.advance(30_000);
  for (let i = 0; i < 5; i++) {
    assert.equal(b.pickable(), true, `pickable before trial ${i + 1}`);
    assert.equal(b.allowRequest(), true, `trial ${i + 1}`);
  }
  assert.equal(b.state, 'half-open');
  assert.equal(b.pickable(), false);
  assert.equal(b.allowRequest(), false);
  assert.equal(b.allowRequest(), false);
});

test('breaker: 5 successful trials close it with an empty window', () => {
  const { b, clock, log } = make();
  trip(b);
  clock.advance(30_000);
  assert.equal(b.tick(), true);
  assert.equal(b.state, 'half-open');
  for (let i = 0; i < 5; i++) assert.equal(b.allowRequest(), true);
  for (let i = 0; i < 4; i++) {
    b.record(true);
    assert.equal(b.state, 'half-open', `after ${i + 1} successes`);
  }
  b.record(true);
  assert.equal(b.state, 'closed');
  assert.deepEqual(log, ['closed->open', 'open->half-open', 'half-open->closed']);
  // The window was reset: 19 failures right away do not trip it (the 20 of the trip are gone).
  feed(b, 19, 19);
  assert.equal(b.state, 'closed');
  b.record(false);
  assert.equal(b.state, 'open');
});

test('breaker: one failure in half-open reopens it and restarts the sleep window', () => {
  const { b, clock, log } = make();
  trip(b);
  clock.advance(30_000);
  assert.equal(b.allowRequest(), true);
  assert.equal(b.allowRequest(), true);
  b.record(true);
  clock.advance(5_000);
  b.record(false);
  assert.equal(b.state, 'open');
  // Sleep window counted from the failure (t+35 s), not from the first trip.
  clock.advance(29_999);
  assert.equal(b.allowRequest(), false);
  assert.equal(b.tick(), false);
  clock.advance(1);
  assert.equal(b.tick(), true);
  assert.equal(b.state, 'half-open');
  // A new half-open period has all 5 slots again.
  for (let i = 0; i < 5; i++) assert.equal(b.allowRequest(), true);
  assert.equal(b.allowRequest(), false);
  assert.deepEqual(log, ['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
});

test('breaker: half-open outcomes with no trial outstanding (stragglers) are ignored', () => {
  const { b, clock } = make();
  trip(b);
  clock.advance(30_000);
  b.tick();
  b.record(false); // from a request sent before the trip
  assert.equal(b.state, 'half-open');
  assert.equal(b.allowRequest(), true);
  b.record(true);
  b.record(true); // one more success than trials: ignored
  for (let i = 0; i < 3; i++) { assert.equal(b.allowRequest(), true); b.record(true); }
  assert.equal(b.state, 'half-open', 'only 4 trials succeeded');
  assert.equal(b.allowRequest(), true);
  b.record(true);
  assert.equal(b.state, 'closed');
});

test('breaker: a trial whose outcome never arrives reopens it after a sleep window (tick)', () => {
  const { b, clock, log } = make();
  trip(b);
  clock.advance(30_000);
  for (let i = 0; i < 5; i++) assert.equal(b.allowRequest(), true);
  for (let i = 0; i < 4; i++) b.record(true);
  clock.advance(29_999);
  assert.equal(b.tick(), false);
  assert.equal(b.state, 'half-open');
  clock.advance(1);
  assert.equal(b.tick(), true);
  assert.equal(b.state, 'open');
  assert.deepEqual(log, ['closed->open', 'open->half-open', 'half-open->open']);
});

test('breaker: old buckets leave the window after windowMs', () => {
  const { b, clock } = make();
  feed(b, 19, 19); // t = 1000, in the bucket [1000, 2000)
  clock.advance(9_999);
  b.record(true); // still inside: 19 / 20 errors trips
  assert.equal(b.state, 'open');

  const second = make();
  feed(second.b, 19, 19);
  second.clock.advance(10_000); // the first bucket is now 10 buckets old: gone
  second.b.record(false);
  assert.equal(second.b.state, 'closed');
  feed(second.b, 18, 18); // 19 in the window
  assert.equal(second.b.state, 'closed');
  second.b.record(false);
  assert.equal(second.b.state, 'open');
});

test('breaker: the window slides bucket by bucket', () => {
  const { b, clock } = make();
  // 10 failures in each of two buckets 5 s apart.
  feed(b, 10, 10);
  clock.advance(5_000);
  feed(b, 9, 9);
  assert.equal(b.state, 'closed');
  // At +10 s the first 10 have left; the 9 from +5 s remain.
  clock.advance(5_000);
  feed(b, 10, 10); // 19 in window
  assert.equal(b.state, 'closed');
  b.record(false); // 20
  assert.equal(b.state, 'open');
});

test('breaker: a long idle gap clears the whole window', () => {
  const { b, clock } = make();
  feed(b, 19, 19);
  clock.advance(1_000_000);
  feed(b, 19, 19);
  assert.equal(b.state, 'closed');
});

test('breaker: transitions are emitted in order over a full cycle, and each matches the state', () => {
  const clock = new ManualClock(0);
  const seen: [BreakerState, BreakerState, BreakerState][] = [];
  const b: CircuitBreaker = new CircuitBreaker(DEFAULT_BREAKER, clock, (from, to) => seen.push([from, to, b.state]));
  trip(b);
  clock.advance(30_000);
  b.allowRequest();
  b.record(false);
  clock.advance(30_000);
  b.tick();
  for (let i = 0; i < 5; i++) { b.allowRequest(); b.record(true); }
  assert.deepEqual(seen, [
    ['closed', 'open', 'open'],
    ['open', 'half-open', 'half-open'],
    ['half-open', 'open', 'open'],
    ['open', 'half-open', 'half-open'],
    ['half-open', 'closed', 'closed'],
  ]);
});

test('breaker: custom options (10% / 4 requests / 1 s / 1 trial)', () => {
  const { b, clock } = make({ errorThresholdPercentage: 10, requestVolumeThreshold: 4, sleepWindowMs: 1_000, halfOpenRequests: 1 });
  feed(b, 3, 1);
  assert.equal(b.state, 'closed');
  b.record(true); // 1 / 4 = 25%
  assert.equal(b.state, 'open');
  clock.advance(1_000);
  assert.equal(b.allowRequest(), true);
  assert.equal(b.allowRequest(), false);
  b.record(true);
  assert.equal(b.state, 'closed');
});

test('breaker: invalid options throw RangeError', () => {
  const clock = new ManualClock();
  const bad: Partial<BreakerOptions>[] = [
    { errorThresholdPercentage: 0 }, { errorThresholdPercentage: 101 }, { requestVolumeThreshold: 0 },
    { requestVolumeThreshold: 1.5 }, { sleepWindowMs: -1 }, { halfOpenRequests: 0 }, { windowMs: 0 }, { windowMs: Number.NaN },
  ];
  for (const o of bad) assert.throws(() => new CircuitBreaker({ ...DEFAULT_BREAKER, ...o }, clock), RangeError, JSON.stringify(o));
});
