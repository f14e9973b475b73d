import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixTap } from './prefix-tap.js';

test('per route, client addresses are counted by prefix; a take reports and starts over', () => {
  const tap = new PrefixTap();
  tap.configure({ enabled: true, ipv4Prefix: 24, ipv6Prefix: 64, sampleEvery: 1 });
  for (let i = 0; i < 30; i++) tap.add('search', `203.0.113.${i}`);
  for (let i = 0; i < 10; i++) tap.add('search', `::ffff:198.51.100.${i}`);
  tap.add('search', '2001:db8:1:2::9');
  tap.add('login', '203.0.113.1');
  tap.add('login', undefined);
  assert.deepEqual(tap.take(), {
    search: [{ key: '203.0.113.0/24', count: 30 }, { key: '198.51.100.0/24', count: 10 }, { key: '2001:db8:1:2::/64', count: 1 }],
    login: [{ key: '203.0.113.0/24', count: 1 }],
  });
  assert.deepEqual(tap.take(), {}, 'counters start over');
});

test('sampled: about 1 request in sampleEvery is looked at, counts scaled back; disabled counts nothing', () => {
  const tap = new PrefixTap();
  tap.configure({ enabled: true, ipv4Prefix: 24, ipv6Prefix: 64, sampleEvery: 8 });
  for (let i = 0; i < 80_000; i++) tap.add('r', '192.0.2.1');
  const n = tap.take().r[0].count;
  assert.ok(n > 70_000 && n < 90_000, `${n} estimated for 80,000`);
  tap.configure({ enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, sampleEvery: 1 });
  tap.add('r', '192.0.2.1');
  assert.deepEqual(tap.take(), {});
});
