import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newVerdict } from './gcra.js';
import { RateLimiter, type LimitSettings } from './limiter.js';
import { FleetLink } from './fleet-link.js';
import { RateLimitCounters } from '../observe/stats.js';

const settings = (scope: 'local' | 'fleet', rate = 10, burst = 10): LimitSettings =>
  ({ id: `route:r:${scope}`, name: scope, shape: { rate, periodMs: 1000, burst }, scope, key: () => 'k' });

/** Runs one request through check + commit (as the filter does for a single limit). */
function request(l: RateLimiter, key: string, now: number): boolean {
  const v = newVerdict();
  const e = l.check(key, now, v);
  if (v.allowed) l.commit(e);
  return v.allowed;
}

test('a local limit is shared out across the workers', () => {
  const l = new RateLimiter(settings('local', 100, 100), '', 'enforce', new RateLimitCounters(), 1000, 4, null);
  let ok = 0;
  for (let i = 0; i < 1000; i++) if (request(l, 'k', 0)) ok++;
  assert.equal(ok, 25);
});

test('check alone consumes nothing (a request another limit refuses costs nothing)', () => {
  const l = new RateLimiter(settings('local', 1, 1), '', 'enforce', new RateLimitCounters(), 10, 1, null);
  const v = newVerdict();
  for (let i = 0; i < 5; i++) { l.check('k', 0, v); assert.equal(v.allowed, true); }
});

test('100,000 rotating keys stay within maxKeys', () => {
  const l = new RateLimiter(settings('local'), '', 'enforce', new RateLimitCounters(), 5000, 1, null);
  for (let i = 0; i < 100_000; i++) request(l, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i);
  assert.equal(l.table.size, 5000);
});

test('fleet: falls back to the per-participant share while the link is down', () => {
  const link = new FleetLink(100);
  link.up(4);
  link.down();
  const l = new RateLimiter(settings('fleet', 100, 100), '', 'enforce', new RateLimitCounters(), 1000, 1, link);
  let ok = 0;
  for (let i = 0; i < 1000; i++) if (request(l, 'k', 0)) ok++;
  assert.equal(ok, 25, 'burst 100 / 4 participants');
  assert.equal(l.counters.fallback, 1000);
});

test('fleet: a key not yet synced is decided by the share and its admits are owed; then the lease decides', () => {
  const link = new FleetLink(100);
  link.up(2);
  const l = new RateLimiter(settings('fleet', 100, 100), '', 'enforce', new RateLimitCounters(), 1000, 1, link);
  for (let i = 0; i < 10; i++) assert.ok(request(l, 'k', 0));
  const e = l.table.get('k')!;
  assert.equal(e.unleased, 10);
  assert.equal(l.dirty.length, 1);
  // What a sync applies: a lease of 3, no fleet tokens left.
  e.epoch = link.epoch; e.tokens = 3; e.globalLeft = 0; e.unleased = 0; e.retryMs = 40;
  const got = [0, 1, 2, 3].map(() => request(l, 'k', 1));
  assert.deepEqual(got, [true, true, true, false]);
  const v = newVerdict();
  l.check('k', 1, v);
  assert.equal(v.retryAfterMs, 100, 'at least one sync interval');
});

test('top list: most refused keys first; counts start over', () => {
  const l = new RateLimiter(settings('local', 1, 1), '', 'enforce', new RateLimitCounters(), 100, 1, null);
  for (let i = 0; i < 5; i++) request(l, 'a', 0);
  for (let i = 0; i < 3; i++) request(l, 'b', 0);
  request(l, 'c', 0);
  assert.deepEqual(l.takeTop(2), [{ key: 'a', limited: 4 }, { key: 'b', limited: 2 }]);
  assert.deepEqual(l.takeTop(2), []);
});

test('fleet: in a fleet the fallback divides by the membership (nodes × workers), else by what Redis last saw', () => {
  const link = new FleetLink(100);
  link.up(2);
  assert.equal(link.participants, 2);
  link.setMembers(5);
  assert.equal(link.participants, 5);
  link.down();
  const l = new RateLimiter(settings('fleet', 100, 100), '', 'enforce', new RateLimitCounters(), 1000, 1, link);
  let ok = 0;
  for (let i = 0; i < 1000; i++) if (request(l, 'k', 0)) ok++;
  assert.equal(ok, 20, 'burst 100 / 5 processes');
  link.setMembers(undefined);
  assert.equal(link.participants, 2);
});
