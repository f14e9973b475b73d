import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anycastRecord, formatAnycast } from './anycast-record.js';
import type { AnnouncementState } from '../anycast/announcer.js';

const state = (over: Partial<AnnouncementState> = {}): AnnouncementState => ({
  state: 'withdrawn', reason: 'too few healthy backends: api 0/2 healthy (needs 50%)', since: '2026-01-01T00:00:00.000Z', vips: ['198.51.100.10/32'], protocols: ['vip'],
  bird: {
    reachable: true, bfd: [{ address: '10.20.1.1', iface: 'eth0', state: 'Up' }],
    protocols: [{ name: 'vip', proto: 'Static', state: 'down', info: '' }, { name: 'up', proto: 'BGP', state: 'up', info: 'Established', bgpState: 'Established', neighbor: '10.20.1.1' }],
  },
  ...over,
});

test('the fleet record names the announcement, why, and BGP/BFD sessions read from BIRD', () => {
  const r = anycastRecord({ ready: false, code: 'unhealthy-backends', reason: 'too few', services: [] }, state());
  assert.deepEqual(r.bgp, [{ name: 'up', state: 'up', bgpState: 'Established', neighbor: '10.20.1.1' }]);
  assert.equal(formatAnycast(r), 'withdrawn (too few healthy backends: api 0/2 healthy (needs 50%)) bgp 1/1 bfd 1/1');
  assert.equal(formatAnycast(anycastRecord({ ready: true, reason: 'ready', services: [] }, state({ state: 'announced', reason: 'ready' }))), 'announced bgp 1/1 bfd 1/1');
  assert.equal(formatAnycast(anycastRecord({ ready: true, reason: 'ready', services: [] }, state({ bird: { reachable: false, protocols: [], bfd: [] } }))).endsWith('bird unreachable'), true);
});

test('a node without an anycast block shows its readiness only', () => {
  assert.equal(formatAnycast(anycastRecord({ ready: false, code: 'draining', reason: 'draining', services: [] }, undefined)), 'not ready (draining)');
  assert.equal(formatAnycast(undefined), '-');
});
