import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from './load.js';
import { ConfigError } from '../util/errors.js';

const base = (route: Record<string, unknown>) => ({
  listeners: [{ name: 'web', address: '127.0.0.1:8080' }],
  routes: [{ service: 'app', ...route }],
  services: { app: { backends: [] } },
});

test('routes[].upgrades: WebSocket by default, a list of lower-case tokens otherwise', () => {
  assert.deepEqual(validateConfig(base({})).routes[0].upgrades, ['websocket']);
  assert.deepEqual(validateConfig(base({ upgrades: [] })).routes[0].upgrades, []);
  assert.deepEqual(validateConfig(base({ upgrades: ['websocket', 'x-custom'] })).routes[0].upgrades, ['websocket', 'x-custom']);
});

test('routes[].upgrades: h2c and malformed protocols are rejected with their path', () => {
  for (const [bad, reason] of [['h2c', /never forwarded/], ['WebSocket', /lower-case token/], ['web socket', /lower-case token/]] as const) {
    assert.throws(() => validateConfig(base({ upgrades: [bad] })), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.errors.some((l) => l.startsWith('routes[0].upgrades[0]: ') && reason.test(l)), e.errors.join('\n'));
      return true;
    });
  }
});
