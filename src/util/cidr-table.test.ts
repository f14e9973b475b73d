import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBytes, CidrTable, parseCidr } from './cidr-table.js';

test('addressBytes reads IPv4, IPv6 (compressed, embedded IPv4) and IPv4-mapped as IPv4', () => {
  assert.deepEqual([...addressBytes('10.1.2.3')!], [10, 1, 2, 3]);
  assert.deepEqual([...addressBytes('::ffff:10.1.2.3')!], [10, 1, 2, 3]);
  assert.deepEqual([...addressBytes('2001:db8::1')!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...addressBytes('::')!], Array(16).fill(0));
  assert.deepEqual([...addressBytes('64:ff9b::1.2.3.4')!].slice(12), [1, 2, 3, 4]);
  assert.equal(addressBytes('10.1.2'), undefined);
  assert.equal(addressBytes('example.com'), undefined);
});

test('parseCidr rejects lengths past the family and junk', () => {
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0/8/1'), undefined);
  assert.equal(parseCidr('10.0.0.0/x'), undefined);
  assert.equal(parseCidr('2001:db8::/129'), undefined);
  assert.equal(parseCidr('2001:db8::/32')!.length, 32);
  assert.equal(parseCidr('10.0.0.1')!.length, 32);
});

test('longest prefix wins; no match gives the default route or nothing', () => {
  const t = new CidrTable<string>();
  t.add('10.0.0.0/8', 'eu');
  t.add('10.1.0.0/16', 'us');
  t.add('10.1.2.0/24', 'ap');
  const at = (a: string) => t.lookup(addressBytes(a)!).value;
  assert.equal(at('10.9.9.9'), 'eu');
  assert.equal(at('10.1.9.9'), 'us');
  assert.equal(at('10.1.2.200'), 'ap');
  assert.equal(at('11.0.0.1'), undefined);
  t.add('0.0.0.0/0', 'default');
  assert.equal(at('11.0.0.1'), 'default');
  t.add('2001:db8::/32', 'v6');
  assert.equal(t.lookup(addressBytes('2001:db8:1::5')!).value, 'v6');
  assert.equal(t.lookup(addressBytes('2001:db9::5')!).value, undefined);
});

test('scope: the bits that decided, including where a more specific prefix was avoided', () => {
  const t = new CidrTable<string>();
  t.add('10.0.0.0/8', 'eu');
  t.add('10.1.2.0/24', 'us');
  // 10.200.x: bit 8 is 1, the /24 lies under bit 8 = 0 → bit 8 decided (10.128.0.0/9 all eu).
  assert.deepEqual(t.lookup(addressBytes('10.200.0.0')!, 24), { value: 'eu', matchedLength: 8, scope: 9 });
  // 10.1.3.0/24 follows the /24's path to bit 23, where it turns off it.
  assert.deepEqual(t.lookup(addressBytes('10.1.3.0')!, 24), { value: 'eu', matchedLength: 8, scope: 24 });
  assert.deepEqual(t.lookup(addressBytes('10.1.2.0')!, 24), { value: 'us', matchedLength: 24, scope: 24 });
  // A /16 source prefix: bits past 16 are taken as zero.
  assert.equal(t.lookup(addressBytes('10.1.2.0')!, 16).value, 'eu');
});
