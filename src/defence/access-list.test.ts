import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseIp } from '../util/cidr.js';
import { AccessList, BlockSet } from './access-list.js';
import { PrefixTable } from './prefix-table.js';

const ip = (s: string) => parseIp(s)!;
const none = new BlockSet();

test('the table finds the longest prefix, per family', () => {
  const t = new PrefixTable<string>();
  for (const c of ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '0.0.0.0/0', '2001:db8::/32', '2001:db8:1::/48']) t.insert(parseCidr(c) as never, c);
  assert.equal(t.longest(ip('10.1.2.3'))?.value, '10.1.2.0/24');
  assert.equal(t.longest(ip('10.1.3.3'))?.value, '10.1.0.0/16');
  assert.equal(t.longest(ip('10.9.9.9'))?.value, '10.0.0.0/8');
  assert.equal(t.longest(ip('192.0.2.1'))?.value, '0.0.0.0/0');
  assert.equal(t.longest(ip('2001:db8:1::9'))?.value, '2001:db8:1::/48');
  assert.equal(t.longest(ip('2001:db9::1')), undefined, 'no IPv6 default: 0.0.0.0/0 is IPv4 only');
  assert.equal(t.size, 6);
  assert.deepEqual([...t.matches(ip('10.1.2.3'))].map((m) => m.value), ['10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0'], 'every match, longest first');
  t.insert(parseCidr('::/0') as never, 'v6 default');
  assert.equal(t.longest(ip('2001:db9::1'))?.value, 'v6 default');
  assert.equal(t.longest(ip('2001:db8:1::9'))?.len, 48);
});

test('the most specific rule wins; a deny wins a tie; allow rules make the rest denied', () => {
  const carve = new AccessList(['10.0.0.0/8'], ['10.66.0.0/16']);
  assert.equal(carve.check(ip('10.1.1.1'), none, 0), 'ok');
  assert.equal(carve.check(ip('10.66.1.1'), none, 0), 'denied');
  assert.equal(carve.check(ip('192.0.2.1'), none, 0), 'denied', 'outside every allow rule');
  const only = new AccessList(['192.0.2.0/24'], ['0.0.0.0/0']);
  assert.equal(only.check(ip('192.0.2.9'), none, 0), 'ok');
  assert.equal(only.check(ip('198.51.100.1'), none, 0), 'denied');
  const tie = new AccessList(['192.0.2.0/24'], ['192.0.2.0/24']);
  assert.equal(tie.check(ip('192.0.2.9'), none, 0), 'denied');
  const denyOnly = new AccessList([], ['2001:db8::/32']);
  assert.equal(denyOnly.check(ip('2001:db8::5'), none, 0), 'denied');
  assert.equal(denyOnly.check(ip('2001:db9::5'), none, 0), 'ok');
  assert.equal(denyOnly.check(ip('::ffff:127.0.0.1'), none, 0), 'ok');
  assert.equal(new AccessList([], []).empty, true);
});

test('temporary blocks apply until they expire and win over allow rules as wide or wider', () => {
  const acl = new AccessList(['10.0.0.0/8', '10.1.2.3/32'], []);
  const blocks = new BlockSet([
    { cidr: '10.1.2.0/24', expiresAt: 1000, source: 'admin' },
    { cidr: '10.1.0.0/16', expiresAt: 500, source: 'spike' },
  ]);
  assert.equal(acl.check(ip('10.1.2.9'), blocks, 0), 'blocked');
  assert.equal(acl.check(ip('10.1.9.9'), blocks, 499), 'blocked', 'the /16 until 500');
  assert.equal(acl.check(ip('10.1.9.9'), blocks, 500), 'ok', 'expired');
  assert.equal(acl.check(ip('10.1.2.9'), blocks, 999), 'blocked', 'the /24 outlives the /16');
  assert.equal(acl.check(ip('10.1.2.3'), blocks, 0), 'ok', 'a more specific allow rule keeps a monitoring host in');
  assert.equal(acl.check(ip('10.1.2.9'), blocks, 1000), 'ok');
});
