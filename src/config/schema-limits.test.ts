import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { validateConfig } from './load.js';
import { ConfigSchema } from './schema.js';
import { durationBounds } from './resilience-schema.js';
import { ConfigError } from '../util/errors.js';
import { TIMER_MAX_MS } from '../util/clock.js';

/* Values that used to validate and then break at run time (issue 15, section 6). */

const L = { name: 'web', address: '127.0.0.1:8080' };

/** The `path: reason` lines validateConfig throws for `raw` (empty when it validates). */
function errorsOf(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test.yaml');
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.errors];
  }
}

test('route regexes: constructs RE2 cannot run in linear time are rejected with path: reason; catastrophic ones run on RE2', () => {
  const route = (path: unknown, headers?: unknown) => ({ listeners: [L], services: { s: { backends: [] } }, routes: [{ match: { path, headers }, service: 's' }] });
  const back = errorsOf(route({ regex: '^/(a+)\\1$' }));
  assert.equal(back.length, 1, back.join('\n'));
  assert.match(back[0], /^routes\[0\]\.match\.path\.regex: invalid regular expression: not supported by the linear-time regex engine/);
  const look = errorsOf(route(undefined, [{ name: 'x', regex: '^(?!admin)' }]));
  assert.match(look.join('\n'), /^routes\[0\]\.match\.headers\[0\]\.regex: invalid regular expression: /m);
  for (const p of ['^/(a+)+$', '(a|a)*', '(a|aa)+', '(.*a){20}', '^([a-zA-Z]+)*$']) assert.deepEqual(errorsOf(route({ regex: p })), [], p);
});

type Node = z.ZodType & { _zod: { def: { type: string; shape?: Record<string, Node>; in?: Node; out?: Node; innerType?: Node; options?: Node[]; element?: Node; valueType?: Node } } };
interface DurationField { path: string; schema: Node; maxMs: number; zeroAllowed: boolean }

/** Every duration field reachable from `node`: walks the zod definitions (objects, unions, arrays, records, wrappers). */
function durationFields(node: Node, path: string, field: Node, out: DurationField[]): DurationField[] {
  const bounds = durationBounds.get(node);
  if (bounds !== undefined) { out.push({ path, schema: field, ...bounds }); return out; }
  const d = node._zod.def;
  if (d.type === 'object') for (const [k, v] of Object.entries(d.shape!)) durationFields(v, path === '' ? k : `${path}.${k}`, v, out);
  for (const child of [d.in, d.out, d.innerType, d.element, d.valueType, ...(d.options ?? [])]) {
    if (child !== undefined) durationFields(child, d.type === 'array' || d.type === 'record' ? `${path}[]` : path, field, out);
  }
  return out;
}

test('every duration in the schema has an upper bound within Node\'s timer limit, and 0 only where it means "off"', () => {
  const fields = durationFields(ConfigSchema as unknown as Node, '', ConfigSchema as unknown as Node, []);
  const paths = [...new Set(fields.map((f) => f.path))];
  assert.ok(paths.length >= 35, `found only ${paths.length} duration fields: ${paths.join(', ')}`);
  for (const path of ['services[].healthCheck.interval', 'shutdown.drainTimeout', 'services[].timeouts.request', 'listeners[].timeouts.request', 'autoscaling.cooldown']) {
    assert.ok(paths.includes(path), `${path} not found among ${paths.join(', ')}`);
  }
  for (const f of fields) {
    assert.ok(f.maxMs > 0 && f.maxMs <= TIMER_MAX_MS, `${f.path}: max ${f.maxMs}`);
    const tooLong = f.schema.safeParse('1000h');
    assert.equal(tooLong.success, false, `${f.path} accepts 1000h`);
    assert.match(tooLong.error!.issues.map((i) => i.message).join('; '), /must be at most /, f.path);
    assert.equal(f.schema.safeParse(TIMER_MAX_MS + 1).success, false, `${f.path} accepts more than the timer limit`);
    assert.equal(f.schema.safeParse(f.maxMs + 1).success, false, `${f.path} accepts max + 1 ms`);
    assert.deepEqual(f.schema.safeParse(f.maxMs).data, f.maxMs, `${f.path} refuses its own max`);
    assert.equal(f.schema.safeParse(0).success, f.zeroAllowed, `${f.path}: 0 ${f.zeroAllowed ? 'should mean off' : 'should be rejected'}`);
  }
  const zeroOff = fields.filter((f) => f.zeroAllowed).map((f) => f.path);
  assert.ok(!zeroOff.some((p) => /timeouts\.(header|request|keepAlive|connect)$|services\[\]\.timeouts\.idle$/.test(p)), `a timeout accepts 0: ${zeroOff.join(', ')}`);
});

test('durations: 1000h health-check interval and drain timeout, and a 0 request timeout, are rejected with path: reason', () => {
  const raw = {
    listeners: [{ ...L, timeouts: { request: 0 } }],
    shutdown: { drainTimeout: '1000h' },
    services: { api: { backends: [], healthCheck: { interval: '1000h' }, timeouts: { request: '0s', idle: 4_000_000 } } },
  };
  const errors = errorsOf(raw);
  assert.ok(errors.includes('services.api.healthCheck.interval: must be at most 1h, got 1000h'), errors.join('\n'));
  assert.ok(errors.includes('shutdown.drainTimeout: must be at most 1h, got 1000h'), errors.join('\n'));
  assert.ok(errors.includes('services.api.timeouts.request: must be more than 0'), errors.join('\n'));
  assert.ok(errors.includes('services.api.timeouts.idle: must be at most 1h, got 4000000 ms'), errors.join('\n'));
  assert.ok(errors.includes('listeners[0].timeouts.request: must be more than 0'), errors.join('\n'));
  assert.equal(errors.length, 5, errors.join('\n'));
  const ok = validateConfig({ listeners: [{ ...L, timeouts: { idle: 0 } }], shutdown: { drainTimeout: '1h' }, services: { api: { backends: [], slowStart: 0, healthCheck: { interval: '1h' } } } });
  assert.equal(ok.listeners[0].timeouts.idle, 0);
  assert.equal(ok.shutdown.drainTimeout, 3_600_000);
});

test('addresses are compared as bound: 127.1 is 127.0.0.1, 0.0.0.0 holds every IPv4 address of its port, the admin listener counts', () => {
  const errors = errorsOf({
    listeners: [
      { name: 'a', address: '127.0.0.1:18370' }, { name: 'b', address: '127.1:18370' },
      { name: 'c', address: '[::ffff:127.0.0.1]:18370' }, { name: 'd', address: '0.0.0.0:18371' }, { name: 'e', address: '10.1.2.3:18371' },
      { name: 'f', address: '127.0.0.1:18372' },
    ],
    admin: { address: 'localhost:18372' },
    services: { api: { backends: [{ address: '10.0.0.1:80' }, { address: '10.1:80' }, { address: '[::ffff:a00:1]:80' }] } },
  });
  assert.deepEqual(errors, [
    'listeners[1].address: address 127.1:18370 conflicts with listeners[0] 127.0.0.1:18370 (the same address)',
    'listeners[2].address: address [::ffff:127.0.0.1]:18370 conflicts with listeners[0] 127.0.0.1:18370 (the same address)',
    'listeners[2].address: address [::ffff:127.0.0.1]:18370 conflicts with listeners[1] 127.1:18370 (the same address)',
    'listeners[4].address: address 10.1.2.3:18371 conflicts with listeners[3] 0.0.0.0:18371 (a 0.0.0.0 listener takes the port on every IPv4 address)',
    'admin.address: address localhost:18372 conflicts with listeners[5] 127.0.0.1:18372 (the same address)',
    'services.api.backends[1].address: duplicate backend 10.1:80 (the same as 10.0.0.1:80)',
    'services.api.backends[2].address: duplicate backend [::ffff:a00:1]:80 (the same as 10.0.0.1:80)',
  ]);
  assert.deepEqual(errorsOf({ listeners: [{ name: 'a', address: '127.0.0.1:18370' }, { name: 'b', address: '127.0.0.2:18370' }, { name: 'c', address: '127.0.0.1:18371' }] }), []);
});
