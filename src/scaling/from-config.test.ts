import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ScalingSchema } from '../config/scaling-schema.js';
import { policyFromConfig, actuatorConfigFromConfig } from './from-config.js';
import { DEFAULT_SCALING_POLICY, ScalingEvaluator } from './evaluator.js';
import { createActuator } from './actuator.js';

test('scaling schema: an empty block is off and gives the design defaults', () => {
  const cfg = ScalingSchema.parse({});
  assert.equal(cfg.enabled, false);
  assert.deepEqual(policyFromConfig(cfg), { ...DEFAULT_SCALING_POLICY });
  assert.deepEqual(actuatorConfigFromConfig(cfg), { type: 'none' });
  assert.doesNotThrow(() => new ScalingEvaluator(policyFromConfig(cfg)));
});

test('scaling schema: durations and thresholds are read; a trigger can be turned off', () => {
  const cfg = ScalingSchema.parse({
    enabled: true,
    cpu: { scaleOutAbove: 60, scaleOutFor: '2m' },
    memory: { enabled: false },
    latency: { p99Factor: 3, for: '90s', baselineWindow: '2h' },
    cooldown: '15m',
    maxNodes: 12,
  });
  const p = policyFromConfig(cfg);
  assert.deepEqual(p.cpu, { scaleOutAbove: 60, scaleOutForMs: 120_000, scaleInBelow: 30, scaleInForMs: 900_000 });
  assert.equal(p.memory, null);
  assert.deepEqual(p.latency, { p99Factor: 3, forMs: 90_000, baselineTimeConstantMs: 7_200_000, baselineWarmupMs: 600_000 });
  assert.equal(p.cooldownMs, 900_000);
  assert.equal(p.latencyCooldownMs, 300_000);
  assert.equal(p.maxNodes, 12);
});

test('scaling schema: actuators', () => {
  const exec = ScalingSchema.parse({ actuator: { type: 'exec', command: ['/usr/local/bin/scale', '--group', 'lb'], timeout: '30s' } });
  assert.deepEqual(actuatorConfigFromConfig(exec), { type: 'exec', command: ['/usr/local/bin/scale', '--group', 'lb'], timeoutMs: 30_000 });
  const hook = ScalingSchema.parse({ actuator: { type: 'webhook', url: 'https://ops.example/scale', headers: { authorization: 'Bearer x' } } });
  const a = actuatorConfigFromConfig(hook);
  assert.deepEqual(a, { type: 'webhook', url: 'https://ops.example/scale', timeoutMs: 10_000, headers: { authorization: 'Bearer x' } });
  assert.doesNotThrow(() => createActuator(a));
});

test('scaling schema: mistakes are errors with their path', () => {
  const issues = (v: unknown) => {
    const r = ScalingSchema.safeParse(v);
    assert.equal(r.success, false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };
  assert.match(issues({ cpu: { scaleOutAbove: 20 } }), /cpu\.scaleInBelow: scaleInBelow must be below scaleOutAbove/);
  assert.match(issues({ cpu: { scaleOutAbov: 80 } }), /cpu/);
  assert.match(issues({ memory: { scaleOutAbove: 120 } }), /memory\.scaleOutAbove/);
  assert.match(issues({ cooldown: '10 minutes' }), /cooldown: invalid duration/);
  assert.match(issues({ latency: { p99Factor: 1 } }), /latency\.p99Factor/);
  assert.match(issues({ minNodes: 5, maxNodes: 2 }), /maxNodes/);
  assert.match(issues({ actuator: { type: 'exec', command: [] } }), /actuator\.command/);
  assert.match(issues({ actuator: { type: 'webhook', url: 'ftp://x' } }), /actuator\.url/);
  assert.match(issues({ actuator: { type: 'shell' } }), /actuator/);
});

type JsonNode = { description?: string; properties?: Record<string, JsonNode>; anyOf?: JsonNode[]; oneOf?: JsonNode[] };

test('scaling schema: every field has a description', () => {
  const missing: string[] = [];
  const walk = (n: JsonNode, path: string) => {
    for (const [k, v] of Object.entries(n.properties ?? {})) {
      if (!v.description) missing.push(`${path}${k}`);
      walk(v, `${path}${k}.`);
    }
    for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) walk(alt, path);
  };
  walk(z.toJSONSchema(ScalingSchema, { io: 'input', unrepresentable: 'any' }) as JsonNode, '');
  assert.deepEqual(missing, []);
});
