import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from './schema.js';
import { redactConfig } from './redact.js';

const base = (route: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  listeners: [{ name: 'web', address: '127.0.0.1:8080' }],
  routes: [{ service: 'app', ...route }],
  services: { app: { backends: [] } },
  ...extra,
});

const problems = (c: unknown) => {
  const r = ConfigSchema.safeParse(c);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('a limit gets its defaults: period 1s, burst = rate rounded up, client-ip key, enforce, local', () => {
  const c = ConfigSchema.parse(base({ rateLimits: [{ name: 'a', rate: 2.5 }] }));
  assert.deepEqual(c.routes[0].rateLimits[0], { name: 'a', rate: 2.5, period: 1000, burst: 3, key: { by: 'client-ip', ipv4Prefix: 32, ipv6Prefix: 128 }, mode: 'enforce', scope: 'local' });
  assert.equal(c.rateLimiting.maxKeys, 100_000);
  assert.equal(c.rateLimiting.syncInterval, 100);
});

test('bad limits are refused with their path', () => {
  assert.deepEqual(problems(base({ rateLimits: [{ name: 'a', rate: 1 }, { name: 'a', rate: 2 }] })), ['routes.0.rateLimits.1.name: duplicate rate limit name "a"']);
  assert.match(problems(base({ rateLimits: [{ name: 'a', rate: 0 }] }))[0], /^routes\.0\.rateLimits\.0\.rate: /);
  assert.match(problems(base({ rateLimits: [{ name: 'a b', rate: 1 }] }))[0], /^routes\.0\.rateLimits\.0\.name: /);
  assert.match(problems(base({ rateLimits: [{ name: 'a', rate: 1, key: { by: 'client-ip', ipv4Prefix: 33 } }] }))[0], /ipv4Prefix/);
  assert.match(problems(base({ rateLimits: [{ name: 'a', rate: 1, period: '48h' }] }))[0], /period: must be at most 24h/);
  assert.match(problems(base({}, { rateLimiting: { maxKeys: 0 } }))[0], /^rateLimiting\.maxKeys: /);
});

test('a fleet limit needs a Redis (its own or the TLS session cache\'s); the URL is redacted when shown', () => {
  const fleet = { rateLimits: [{ name: 'f', rate: 10, scope: 'fleet' }] };
  assert.deepEqual(problems(base(fleet)), ['routes.0.rateLimits.0.scope: a fleet limit needs a Redis: set rateLimiting.redis (or tlsSessionCache.redis)']);
  assert.deepEqual(problems(base(fleet, { tlsSessionCache: { redis: 'redis://127.0.0.1:6379' } })), []);
  const c = ConfigSchema.parse(base(fleet, { rateLimiting: { redis: 'redis://:hunter2@127.0.0.1:6379' } }));
  assert.doesNotMatch(JSON.stringify(redactConfig(c)), /hunter2/);
});
