import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFunction } from './limit-key.js';

const src = (headers: string[], clientIp = '203.0.113.9') => ({ clientIp, headers, route: 'api' });

test('client-ip keys, with IPv4 /24 and IPv6 /64 networks', () => {
  assert.equal(keyFunction({ by: 'client-ip', ipv4Prefix: 32, ipv6Prefix: 128 })(src([])), '203.0.113.9');
  const net = (ip: string, v4: number, v6: number) => keyFunction({ by: 'client-ip', ipv4Prefix: v4, ipv6Prefix: v6 })(src([], ip));
  assert.equal(net('::ffff:203.0.113.9', 32, 128), '203.0.113.9', 'IPv4-mapped counts as IPv4');
  assert.equal(net('203.0.113.9', 24, 128), '203.0.113.0/24');
  assert.equal(net('::ffff:203.0.113.9', 24, 128), '203.0.113.0/24');
  assert.equal(net('2001:db8:1:2:3:4:5:6', 32, 64), '2001:db8:1:2::/64');
  assert.equal(net('2001:db8::1', 32, 48), '2001:db8::/48');
  assert.equal(net('2001:db8:1:2::9', 32, 64), net('2001:db8:1:2:ffff::1', 32, 64));
  assert.equal(net('10.1.2.3', 0, 128), '0.0.0.0/0');
});

test('header, identity and cookie keys; missing ones fall back to the client address', () => {
  assert.equal(keyFunction({ by: 'header', name: 'X-Api-Key' })(src(['x-api-key', 'k1'])), 'h:k1');
  assert.equal(keyFunction({ by: 'identity', header: 'x-user' })(src(['X-User', 'alice'])), 'id:alice');
  assert.equal(keyFunction({ by: 'header', name: 'x-api-key' })(src([])), 'ip:203.0.113.9');
  const cookie = keyFunction({ by: 'cookie', name: 'sid' });
  assert.equal(cookie(src(['cookie', 'a=1; sid=abc; b=2'])), 'c:abc');
  assert.equal(cookie(src(['Cookie', 'a=1', 'Cookie', 'sid=x'])), 'c:x');
  assert.equal(cookie(src(['cookie', 'xsid=1'])), 'ip:203.0.113.9');
});

test('route and global keys', () => {
  assert.equal(keyFunction({ by: 'route' })(src([])), 'api');
  assert.equal(keyFunction({ by: 'global' })(src([])), '*');
});

test('long keys are hashed to a bounded length', () => {
  const k = keyFunction({ by: 'header', name: 'x' });
  const a = k(src(['x', 'a'.repeat(10_000)]));
  assert.ok(a.length < 64);
  assert.notEqual(a, k(src(['x', `${'a'.repeat(9_999)}b`])));
});
