import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsSchema } from '../config/dns-schema.js';
import { zoneFile } from './zone-file.js';

const cfg = DnsSchema.parse({
  zone: 'geo.example.test', names: ['www', '@'],
  nameservers: [{ name: 'ns1.geo.example.test', addresses: ['192.0.2.53', '2001:db8::53'] }, { name: 'ns.other.test' }],
  regions: { eu: { vips: ['10.0.1.1', '2001:db8:1::1'] }, us: { vips: ['10.0.2.1'] } },
  defaultRegion: 'eu', soa: { serial: 2026120701 },
});

test('the zone file holds SOA, NS, glue and the default region\'s VIPs for every name', () => {
  const text = zoneFile(cfg);
  assert.match(text, /^\$ORIGIN geo\.example\.test\.$/m);
  assert.match(text, /^\$TTL 30$/m);
  assert.match(text, /^@ IN SOA ns1\.geo\.example\.test\. hostmaster\.geo\.example\.test\. \( 2026120701 3600 900 604800 30 \)$/m);
  assert.match(text, /^@ IN NS ns\.other\.test\.$/m);
  assert.match(text, /^ns1\.geo\.example\.test\. IN AAAA 2001:db8::53$/m);
  assert.match(text, /^www IN A 10\.0\.1\.1$/m);
  assert.match(text, /^@ IN AAAA 2001:db8:1::1$/m);
  assert.match(zoneFile(cfg, 'us'), /^www IN A 10\.0\.2\.1$/m);
  assert.throws(() => zoneFile(cfg, 'ap'), /unknown region "ap"/);
});
