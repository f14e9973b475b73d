import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, formatIp, parseCidr, parseIp, prefixOf } from './cidr.js';

test('IPv4, IPv6 and IPv4-mapped addresses parse to words', () => {
  assert.deepEqual(parseIp('192.0.2.1'), { v6: false, words: [0xc0000201] });
  assert.deepEqual(parseIp('::ffff:192.0.2.1'), { v6: false, words: [0xc0000201] }, 'a dual-stack socket\'s IPv4 client is IPv4');
  assert.deepEqual(parseIp('2001:db8::1'), { v6: true, words: [0x20010db8, 0, 0, 1] });
  assert.deepEqual(parseIp('fe80::1%eth0'), { v6: true, words: [0xfe800000, 0, 0, 1] });
  assert.deepEqual(parseIp('::1.2.3.4'), { v6: true, words: [0, 0, 0, 0x01020304] });
  assert.deepEqual(parseIp('::')!.words, [0, 0, 0, 0]);
  for (const bad of ['', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '01.2.3.4', '1.2.3.4 ', 'example.com', '1::2::3', '2001:db8::/32',
    ':1', '1:', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', '1::2:3:4:5:6:7:8', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '%eth0']) assert.equal(parseIp(bad), undefined, bad);
  assert.deepEqual(parseIp('0.0.0.0'), { v6: false, words: [0] });
  assert.deepEqual(parseIp('1:2:3:4:5:6:7:8')!.words, [0x10002, 0x30004, 0x50006, 0x70008]);
  assert.deepEqual(parseIp('1::')!.words, [0x10000, 0, 0, 0]);
  assert.deepEqual(parseIp('::1')!.words, [0, 0, 0, 1]);
  assert.deepEqual(parseIp('1:2:3:4:5:6:1.2.3.4')!.words, [0x10002, 0x30004, 0x50006, 0x01020304]);
  assert.deepEqual(parseIp('FFFF::aBcD')!.words, [0xffff0000, 0, 0, 0xabcd]);
  assert.deepEqual(parseIp('255.255.255.255'), { v6: false, words: [0xffffffff] });
});

test('formatting is canonical (RFC 5952) and round-trips', () => {
  for (const [text, canon] of [['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], ['::', '::'], ['1::', '1::'], ['10.0.0.1', '10.0.0.1']]) {
    assert.equal(formatIp(parseIp(text)!), canon);
  }
});

test('CIDR prefixes: bare addresses are host prefixes, host bits past the length are refused', () => {
  assert.equal(formatCidr(parseCidr('203.0.113.0/24') as never), '203.0.113.0/24');
  assert.equal(formatCidr(parseCidr('203.0.113.7') as never), '203.0.113.7/32');
  assert.equal(formatCidr(parseCidr('2001:db8::/32') as never), '2001:db8::/32');
  assert.equal(formatCidr(parseCidr('0.0.0.0/0') as never), '0.0.0.0/0');
  assert.match(parseCidr('203.0.113.7/24') as string, /bits set past \/24 \(did you mean 203\.0\.113\.0\/24\?\)/);
  assert.match(parseCidr('10.0.0.0/33') as string, /0\.\.32/);
  assert.match(parseCidr('2001:db8::/129') as string, /0\.\.128/);
  assert.match(parseCidr('nope/8') as string, /not an IP address/);
});

test('a client\'s prefix: /24 for IPv4, /64 for IPv6, mapped IPv4 as IPv4', () => {
  assert.equal(prefixOf('203.0.113.77', 24, 64), '203.0.113.0/24');
  assert.equal(prefixOf('::ffff:203.0.113.77', 24, 64), '203.0.113.0/24');
  assert.equal(prefixOf('2001:db8:1:2:3:4:5:6', 24, 64), '2001:db8:1:2::/64');
  assert.equal(prefixOf('198.51.100.9', 32, 128), '198.51.100.9/32');
  assert.equal(prefixOf('junk', 24, 64), undefined);
});
