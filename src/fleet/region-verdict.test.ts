import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsSchema } from '../config/dns-schema.js';
import type { NodeRecord } from './membership.js';
import { regionOfZone, regionVerdicts, type ProbeReport } from './region-verdict.js';

const dns = DnsSchema.parse({
  zone: 'geo.example.test', names: ['www'], nameservers: [{ name: 'ns1.example.test' }], defaultRegion: 'eu',
  regions: {
    eu: { vips: ['10.0.1.1'], zones: ['eu-a', 'eu-b'], probe: { port: 80 } },
    us: { vips: ['10.0.2.1'], zones: ['us-a'], probe: { port: 80 } },
    ap: { vips: ['10.0.3.1'], zones: ['ap-a'], probe: { port: 80 } },
  },
});
const node = (id: string, zone: string, ready = true, state?: 'announced' | 'withdrawn') =>
  ({ id, zone, anycast: { ready, readyReason: ready ? 'ok' : 'draining', state } }) as unknown as NodeRecord;
const probe = (n: string, region: string, up: Record<string, boolean>): ProbeReport => ({ node: n, region, seq: 1, up });
const all = [node('e1', 'eu-a'), node('u1', 'us-a'), node('a1', 'ap-a')];

test('a region needs a serving node (ready, and announced when it announces)', () => {
  assert.equal(regionOfZone(dns, 'eu-b'), 'eu');
  assert.equal(regionOfZone(dns, 'mars'), undefined);
  const v = regionVerdicts(dns, [node('e1', 'eu-a', false), node('e2', 'eu-b', true, 'withdrawn'), node('u1', 'us-a'), node('a1', 'ap-a', true, 'announced')], []);
  assert.equal(v.get('eu')!.up, false);
  assert.match(v.get('eu')!.reason, /no ready node/);
  assert.equal(v.get('us')!.up, true);
  assert.equal(v.get('ap')!.up, true);
});

test('probes fail a region only with a quorum of probers from other regions', () => {
  const one = regionVerdicts(dns, all, [probe('u1', 'us', { eu: false, ap: true }), probe('a1', 'ap', { eu: true, us: true })]);
  assert.equal(one.get('eu')!.up, true, 'one prober (partitioned) cannot fail eu');
  const two = regionVerdicts(dns, all, [probe('u1', 'us', { eu: false, ap: true }), probe('a1', 'ap', { eu: false, us: true })]);
  assert.equal(two.get('eu')!.up, false);
  assert.equal(two.get('eu')!.votesDown, 2);
  const self = regionVerdicts(dns, all, [probe('e1', 'eu', { eu: false }), probe('e2', 'eu', { eu: false })]);
  assert.equal(self.get('eu')!.up, true, 'a region\'s own nodes do not vote on it');
});
