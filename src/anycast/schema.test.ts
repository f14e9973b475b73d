import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '../config/schema.js';

const base = (anycast: unknown) => ({
  listeners: [{ name: 'web', address: '0.0.0.0:8080' }],
  services: { app: { backends: [{ address: '127.0.0.1:9001' }] } },
  routes: [{ service: 'app' }],
  anycast,
});

const issues = (anycast: unknown) => {
  const r = ConfigSchema.safeParse(base(anycast));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('VIPs are host prefixes: a bare address becomes /32 or /128; anything wider is refused', () => {
  const c = ConfigSchema.parse(base({ vips: ['198.51.100.10', '2001:DB8::10/128', '203.0.113.5/32'] }));
  assert.deepEqual(c.anycast?.vips, ['198.51.100.10/32', '2001:db8::10/128', '203.0.113.5/32']);
  for (const bad of ['198.51.100.0/24', '2001:db8::/64', 'vip.example.com', '198.51.100.10/32/1', '2001:db8::1/32']) {
    assert.match(issues({ vips: [bad] }).join('\n'), /anycast\.vips\.0: expected an IPv4 \/32 or IPv6 \/128/, bad);
  }
  assert.match(issues({ vips: [] }).join('\n'), /anycast\.vips/);
});

test('defaults, bounded durations, and the policy names known services', () => {
  const c = ConfigSchema.parse(base({ vips: ['198.51.100.10'], policy: [{ service: 'app' }] })).anycast!;
  assert.deepEqual({ ...c, bird: { ...c.bird } }, {
    vips: ['198.51.100.10/32'], bird: { socket: '/run/bird/bird.ctl', protocols: ['vip'], timeout: 2000 }, policy: [{ service: 'app', minHealthy: 0.5 }],
    holdDown: 5000, goAwayBeforeWithdraw: 1000, withdrawWait: 1000, pollInterval: 1000,
  });
  assert.deepEqual(issues({ vips: ['198.51.100.10'], policy: [{ service: 'nope' }] }), ['anycast.policy.0.service: unknown service "nope"']);
  assert.match(issues({ vips: ['198.51.100.10'], holdDown: '11m' }).join(), /anycast\.holdDown: must be at most 10m/);
  assert.match(issues({ vips: ['198.51.100.10'], pollInterval: 0 }).join(), /anycast\.pollInterval: must be more than 0/);
  assert.match(issues({ vips: ['198.51.100.10'], policy: [{ service: 'app', minHealthy: 0 }] }).join(), /anycast\.policy\.0\.minHealthy/);
  assert.match(issues({ vips: ['198.51.100.10'], bird: { protocols: ['vip4', 'vip; disable all'] } }).join(), /anycast\.bird\.protocols\.1: a BIRD protocol name/);
  assert.match(issues({ vips: ['198.51.100.10'], bird: { protocols: [] } }).join(), /anycast\.bird\.protocols/);
});
