import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.js';
import { SourceRate, sourceKey } from './source-rate.js';

test('a source gets its burst, then the rate; others are not affected', () => {
  const clock = new ManualClock();
  const r = new SourceRate(clock, 10, 5, 100);
  const allowed = () => Array.from({ length: 20 }, () => r.allow('10.0.0.1')).filter(Boolean).length;
  assert.equal(allowed(), 5);
  assert.equal(r.allow('10.0.0.2'), true);
  clock.advance(500); // half a second at 10/s: 5 more
  assert.equal(allowed(), 5);
  clock.advance(60_000); // refills only up to the burst
  assert.equal(allowed(), 5);
});

test('memory is bounded: past maxSources the least recently seen source is forgotten', () => {
  const r = new SourceRate(new ManualClock(), 1, 1, 16);
  for (let i = 0; i < 10_000; i++) r.allow(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(r.size, 16);
});

test('IPv6 sources share a bucket per /56; IPv4-mapped is IPv4', () => {
  assert.equal(sourceKey('2001:db8:1:ff00::1'), sourceKey('2001:db8:1:ff12::9'));
  assert.notEqual(sourceKey('2001:db8:1:ff00::1'), sourceKey('2001:db8:1:fe00::1'));
  assert.equal(sourceKey('::ffff:10.1.2.3'), '10.1.2.3');
});
