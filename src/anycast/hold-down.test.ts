import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.js';
import { AnnounceGate } from './hold-down.js';

test('announces only after the hold-down of unbroken readiness', () => {
  const clock = new ManualClock();
  const g = new AnnounceGate(clock, 5000);
  const first = g.update(true, 'ready');
  assert.equal(first.announce, false);
  assert.equal(first.recheckInMs, 5000);
  clock.advance(4999);
  assert.equal(g.update(true, 'ready').announce, false);
  clock.advance(1);
  assert.deepEqual(g.update(true, 'ready'), { announce: true, reason: 'ready' });
});

test('a loss of readiness withdraws at once and restarts the hold-down (a flap is not re-announced on the first good probe)', () => {
  const clock = new ManualClock();
  const g = new AnnounceGate(clock, 3000);
  g.update(true, 'ready');
  clock.advance(3000);
  assert.equal(g.update(true, 'ready').announce, true);
  assert.deepEqual(g.update(false, 'draining'), { announce: false, reason: 'draining' });
  clock.advance(100);
  const back = g.update(true, 'ready');
  assert.equal(back.announce, false);
  assert.match(back.reason, /hold-down: ready, announcing after 3\.0 s/);
  clock.advance(2000);
  g.update(false, 'unhealthy');
  clock.advance(1500);
  g.update(true, 'ready');
  clock.advance(2999);
  assert.equal(g.update(true, 'ready').announce, false);
  clock.advance(1);
  assert.equal(g.update(true, 'ready').announce, true);
});

test('a zero hold-down announces on the first ready verdict', () => {
  const g = new AnnounceGate(new ManualClock(), 0);
  assert.equal(g.update(true, 'ready').announce, true);
});
