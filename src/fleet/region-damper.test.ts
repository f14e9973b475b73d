import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.js';
import { RegionDamper } from './region-damper.js';

test('the first verdict stands; a fall is immediate; recovery waits out the hold-down without a break', () => {
  const clock = new ManualClock();
  const d = new RegionDamper(clock, 10_000, 300_000);
  assert.equal(d.update(true), 'up');
  assert.equal(d.update(false), 'down');
  clock.advance(9_000);
  assert.equal(d.update(true), 'down');
  clock.advance(5_000);
  assert.equal(d.update(false), 'down', 'a break restarts the hold-down');
  clock.advance(1);
  assert.equal(d.update(true), 'down');
  clock.advance(9_999);
  assert.equal(d.update(true), 'down');
  clock.advance(1);
  assert.equal(d.update(true), 'up');
  const starting = new RegionDamper(clock, 10_000, 300_000);
  assert.equal(starting.update(false), 'down');
  assert.equal(starting.update(true), 'up', 'never up before: no hold-down');
});

test('repeated falls double the hold-down up to the cap; it resets once the falls are old', () => {
  const clock = new ManualClock();
  const d = new RegionDamper(clock, 10_000, 60_000);
  d.update(true);
  const flap = () => { d.update(false); clock.advance(1); d.update(true); };
  flap();
  assert.equal(d.holdMs(), 10_000);
  clock.advance(10_000); d.update(true);
  flap();
  assert.equal(d.holdMs(), 20_000);
  clock.advance(20_000); d.update(true);
  flap();
  assert.equal(d.holdMs(), 40_000);
  clock.advance(40_000); d.update(true);
  flap();
  assert.equal(d.holdMs(), 60_000, 'capped');
  clock.advance(200_000);
  assert.equal(d.holdMs(), 10_000);
  assert.equal(new RegionDamper(clock, 0, 0).update(true), 'up');
});

test('holdDown 0: a region comes back at the first healthy verdict', () => {
  const clock = new ManualClock();
  const d = new RegionDamper(clock, 0, 0);
  d.update(true); d.update(false);
  assert.equal(d.update(true), 'up');
});
