import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slowStartFactor, SlowStart, DEFAULT_SLOW_START_MS, DEFAULT_SLOW_START_MIN_FACTOR } from './slow-start.js';
import { Endpoint } from '../upstream/endpoint.js';
import { ManualClock } from '../util/clock.js';

const close = (actual: number, expected: number): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

test('slow start: defaults are 30 s and 10%', () => {
  assert.equal(DEFAULT_SLOW_START_MS, 30_000);
  assert.equal(DEFAULT_SLOW_START_MIN_FACTOR, 0.1);
});

test('slow start: linear ramp from minFactor at 0 to 1 at the full window', () => {
  assert.equal(slowStartFactor(0), 0.1);
  close(slowStartFactor(15_000), 0.55);
  close(slowStartFactor(7_500), 0.325);
  close(slowStartFactor(29_999), 0.1 + 0.9 * (29_999 / 30_000));
  assert.ok(slowStartFactor(29_999) < 1);
  assert.equal(slowStartFactor(30_000), 1);
  assert.equal(slowStartFactor(1_000_000), 1);
});

test('slow start: custom window and minFactor, and edge inputs', () => {
  assert.equal(slowStartFactor(0, 10_000, 0), 0);
  close(slowStartFactor(5_000, 10_000, 0), 0.5);
  close(slowStartFactor(5_000, 10_000, 0.5), 0.75);
  assert.equal(slowStartFactor(-5, 10_000, 0.2), 0.2, 'negative elapsed time is the start');
  assert.equal(slowStartFactor(Number.NaN, 10_000, 0.2), 0.2);
  assert.equal(slowStartFactor(0, 0), 1, 'window 0 disables the ramp');
  assert.throws(() => slowStartFactor(0, -1), RangeError);
  assert.throws(() => slowStartFactor(0, 1_000, 1.5), RangeError);
  assert.throws(() => slowStartFactor(0, 1_000, -0.1), RangeError);
});

test('SlowStart: tracks per endpoint, 1 when not ramping, drops finished ramps', () => {
  const clock = new ManualClock(5_000);
  const ss = new SlowStart(clock);
  const [a, b] = [new Endpoint('10.0.0.1', 80), new Endpoint('10.0.0.2', 80)];
  assert.equal(ss.factor(a), 1);
  ss.start(a);
  assert.equal(ss.factor(a), 0.1);
  assert.equal(ss.ramping(a), true);
  assert.equal(ss.factor(b), 1);
  clock.advance(15_000);
  ss.start(b);
  close(ss.factor(a), 0.55);
  assert.equal(ss.factor(b), 0.1);
  assert.equal(ss.size, 2);
  clock.advance(15_000);
  assert.equal(ss.factor(a), 1);
  assert.equal(ss.size, 1, 'finished ramp dropped');
  close(ss.factor(b), 0.55);
  ss.stop(b);
  assert.equal(ss.factor(b), 1);
  assert.equal(ss.ramping(b), false);
  // Restart after becoming healthy again.
  ss.start(a);
  assert.equal(ss.factor(a), 0.1);
  assert.throws(() => new SlowStart(clock, 1_000, 2), RangeError);
});
