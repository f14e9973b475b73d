import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema, type Config } from '../config/schema.js';
import { evaluateReadiness, type ReadinessInput } from './readiness.js';

const raw = (minHealthy = 0.5, service = 'api') => ({
  listeners: [{ name: 'web', address: '127.0.0.1:8080' }],
  services: {
    api: { backends: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002' }, { address: '127.0.0.1:9003' }, { address: '127.0.0.1:9004' }] },
    empty: { backends: [] },
  },
  routes: [{ service: 'api' }],
  anycast: { vips: ['198.51.100.10'], policy: [{ service, minHealthy }] },
});
const config = (minHealthy = 0.5, service = 'api'): Config => ConfigSchema.parse(raw(minHealthy, service));

const input = (over: Partial<ReadinessInput> = {}): ReadinessInput => ({
  started: true, liveWorkers: 2, draining: false, config: config(), health: {}, drains: {}, ...over,
});

test('ready when started, serving, not draining and the policy holds', () => {
  const r = evaluateReadiness(input());
  assert.equal(r.ready, true);
  assert.deepEqual(r.services, [{ service: 'api', healthy: 4, total: 4, minHealthy: 0.5, ok: true }]);
});

test('not ready before the first config is applied, when draining, or with no worker', () => {
  assert.equal(evaluateReadiness(input({ started: false })).code, 'starting');
  assert.equal(evaluateReadiness(input({ draining: true })).code, 'draining');
  assert.equal(evaluateReadiness(input({ liveWorkers: 0 })).code, 'no-workers');
});

test('the share counts unhealthy and drained backends (config or admin) out; exactly the minimum is enough', () => {
  const health = { api: { '127.0.0.1:9001': false, '127.0.0.1:9002': true } };
  assert.equal(evaluateReadiness(input({ health })).ready, true); // 3/4
  const two = evaluateReadiness(input({ health, drains: { api: { '127.0.0.1:9003': true } } }));
  assert.equal(two.ready, true); // 2/4 = 50 %
  const one = evaluateReadiness(input({ health: { api: { '127.0.0.1:9001': false, '127.0.0.1:9002': false, '127.0.0.1:9003': false } } }));
  assert.equal(one.ready, false);
  assert.equal(one.code, 'unhealthy-backends');
  assert.match(one.reason, /api 1\/4 healthy \(needs 50%\)/);
});

test('a policy service with no backends is never ready', () => {
  assert.equal(evaluateReadiness(input({ config: config(0.1, 'empty') })).ready, false);
});

test('no policy: readiness is started + serving + not draining', () => {
  const c = ConfigSchema.parse({ listeners: [{ name: 'web', address: '127.0.0.1:8080' }] });
  assert.equal(evaluateReadiness(input({ config: c })).ready, true);
});
