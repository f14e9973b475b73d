import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from './load.js';
import { ConfigError } from '../util/errors.js';

const dns = (extra: Record<string, unknown> = {}) => ({
  zone: 'Geo.Example.TEST.', names: ['www'], nameservers: [{ name: 'ns1.geo.example.test' }],
  regions: { eu: { vips: ['10.0.1.1'] }, us: { vips: ['10.0.2.1'], fallback: ['eu'] } }, defaultRegion: 'eu', ...extra,
});
const cfg = (d: unknown, listener: Record<string, unknown> = {}) => ({ listeners: [{ name: 'dns', address: '127.0.0.1:5353', protocol: 'dns', ...listener }], dns: d });
const errors = (raw: unknown): string[] => {
  try { validateConfig(raw); } catch (e) { if (e instanceof ConfigError) return [...e.errors]; throw e; }
  return [];
};

test('defaults: TTL 30 s, limits, health; the zone lower-cased without the trailing dot', () => {
  const c = validateConfig(cfg(dns())).dns!;
  assert.equal(c.zone, 'geo.example.test');
  assert.equal(c.ttl, 30_000);
  assert.deepEqual([c.limits.maxUdpPayload, c.health.quorum, c.health.holdDown], [1232, 2, 10_000]);
  assert.deepEqual(c.regions.eu.vips, [{ address: '10.0.1.1', weight: 1 }]);
});

test('a dns listener needs the dns block and takes no service; names and regions are checked with their paths', () => {
  assert.deepEqual(errors(cfg(undefined)), ['listeners[0].protocol: a dns listener needs the top-level `dns` block (the zone it answers)']);
  assert.match(errors(cfg(dns(), { service: 'x' })).join('\n'), /listeners\[0\]: a dns listener takes neither `service`/);
  assert.deepEqual(errors(cfg(dns({ defaultRegion: 'ap', regions: { eu: { vips: ['10.0.1.1'], fallback: ['mars'] } } }))), [
    'dns.defaultRegion: unknown region "ap"', 'dns.regions.eu.fallback[0]: unknown region "mars"',
  ]);
  assert.match(errors(cfg(dns({ zone: 'bad zone' }))).join('\n'), /^dns\.zone: expected a DNS name/m);
  assert.match(errors(cfg(dns({ regions: { eu: { vips: ['not-an-ip'] } } }))).join('\n'), /dns\.regions\.eu\.vips\[0\]/);
});

test('clientSubnetsFile: merged after the inline entries; a bad line or a missing file rejects the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-dns-schema-'));
  const file = join(dir, 'subnets.txt');
  writeFileSync(file, '# GeoIP export\n10.0.0.0/8 us\n\n2001:db8::/32   eu  # v6\n');
  const c = validateConfig(cfg(dns({ clientSubnetsFile: file, clientSubnets: [{ cidr: '192.0.2.0/24', region: 'eu' }] }))).dns!;
  assert.deepEqual(c.clientSubnets.map((s) => `${s.cidr} ${s.region}`), ['192.0.2.0/24 eu', '10.0.0.0/8 us', '2001:db8::/32 eu']);
  writeFileSync(file, '10.0.0.0/8 us\n10.0.0.0/40 eu\n');
  assert.deepEqual(errors(cfg(dns({ clientSubnetsFile: file }))), ['dns.clientSubnetsFile: line 2: expected "CIDR REGION", got "10.0.0.0/40 eu"']);
  writeFileSync(file, '10.0.0.0/8 mars\n');
  assert.deepEqual(errors(cfg(dns({ clientSubnetsFile: file }))), ['dns.clientSubnets[0].region: unknown region "mars"']);
  assert.deepEqual(errors(cfg(dns({ clientSubnetsFile: join(dir, 'nope') }))), ['dns.clientSubnetsFile: cannot read file: ENOENT']);
});
