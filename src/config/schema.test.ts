import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from './load.js';
import { configJsonSchema } from './schema.js';
import { ConfigError } from '../util/errors.js';

const L = { name: 'web', address: '0.0.0.0:8080' };
const SVC = { api: { backends: [{ address: '10.0.0.1:9000' }] } };

/** The `path: reason` lines validateConfig throws for `raw`; fails if it does not throw ConfigError. */
function errorsOf(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'SWY_CONFIG_INVALID');
    assert.equal(e.side, 'config');
    assert.ok(e.message.startsWith('test.yaml: invalid config'), e.message);
    for (const line of e.errors) assert.match(line, /^\S+: \S/, `not a "path: reason" line: ${line}`);
    return [...e.errors];
  }
  assert.fail('expected validateConfig to throw');
}

test('validateConfig: fills top-level and listener defaults', () => {
  const c = validateConfig({ listeners: [L] });
  assert.equal(c.workers, 'auto');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.accessLog, false);
  assert.equal(c.shutdown.drainTimeout, 30_000);
  assert.deepEqual(c.routes, []);
  assert.deepEqual(c.services, {});
  assert.deepEqual(c.access, { allow: [], deny: [], temporaryBlocks: { max: 1000, maxTtl: 86_400_000 } });
  assert.equal(c.spikes.enabled, true);
  assert.equal(c.spikes.mitigate.enabled, false, 'spike mitigation is opt-in');
  assert.deepEqual(c.listeners[0], {
    name: 'web', address: '0.0.0.0:8080', protocol: 'http', sni: [], acceptProxyProtocol: false, engine: 'fast', http2: { enabled: true, maxConcurrentStreams: 100 }, maxConnections: 10_000, maxHeaderSize: 16_384,
    backlog: 511, access: { allow: [], deny: [] },
    mergeSlashes: false, timeouts: { header: 10_000, request: 300_000, keepAlive: 5000, idle: 3_600_000 },
  });
});

test('validateConfig: service defaults (p2c balancer, timeouts in ms, backend weight)', () => {
  const c = validateConfig({ listeners: [L], services: SVC });
  const s = c.services.api;
  assert.deepEqual(s.balancer, { algorithm: 'p2c' });
  assert.equal(s.hashKey, undefined);
  assert.equal(s.maxConnectionsPerBackend, 256);
  assert.deepEqual(s.timeouts, { connect: 5000, request: 60_000, idle: 60_000 });
  assert.deepEqual(s.backends, [{ address: '10.0.0.1:9000', weight: 1, priority: 0, draining: false }]);
  assert.equal(s.healthCheck, undefined);
  assert.deepEqual(s.outlierDetection, { enabled: true, consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 50,
    successRateThreshold: 0, successRateRequestVolume: 100, interval: 10_000 });
  assert.deepEqual(s.circuitBreaker, { enabled: true, errorThresholdPercentage: 50, requestVolumeThreshold: 20, sleepWindow: 30_000, halfOpenRequests: 5, window: 10_000 });
});

test('validateConfig: balancer-specific defaults', () => {
  const c = validateConfig({
    listeners: [L],
    services: {
      m: { balancer: { algorithm: 'maglev' }, backends: [] },
      r: { balancer: { algorithm: 'ring-hash' }, backends: [] },
      b: { balancer: { algorithm: 'bounded-load' }, backends: [] },
      e: { balancer: { algorithm: 'ewma', decay: '2s' }, backends: [] },
    },
  });
  assert.deepEqual(c.services.m.balancer, { algorithm: 'maglev', tableSize: 65_537 });
  assert.deepEqual(c.services.r.balancer, { algorithm: 'ring-hash', virtualNodes: 100 });
  assert.deepEqual(c.services.b.balancer, { algorithm: 'bounded-load', balanceFactor: 1.25, virtualNodes: 100 });
  assert.deepEqual(c.services.e.balancer, { algorithm: 'ewma', decay: 2000 });
});

test('validateConfig: duration strings and numbers become milliseconds', () => {
  const c = validateConfig({
    listeners: [{ ...L, timeouts: { header: '250ms', request: '1.5m', keepAlive: 750 } }],
    shutdown: { drainTimeout: '1h' },
    services: { api: { backends: [], timeouts: { connect: '5s', request: 1000, idle: '2m' } } },
  });
  assert.deepEqual(c.listeners[0].timeouts, { header: 250, request: 90_000, keepAlive: 750, idle: 3_600_000 });
  assert.equal(c.shutdown.drainTimeout, 3_600_000);
  assert.deepEqual(c.services.api.timeouts, { connect: 5000, request: 1000, idle: 120_000 });
});

test('validateConfig: explicit values are kept', () => {
  const c = validateConfig({ workers: 4, logLevel: 'debug', accessLog: true, listeners: [{ ...L, mergeSlashes: true }] });
  assert.equal(c.workers, 4);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.accessLog, true);
  assert.equal(c.listeners[0].mergeSlashes, true);
});

test('validateConfig: a bad duration is reported with its path', () => {
  assert.deepEqual(errorsOf({ listeners: [{ ...L, timeouts: { header: '5 s' } }] }),
    ['listeners[0].timeouts.header: invalid duration "5 s" (use e.g. 250ms, 5s, 1m)']);
  const svc = errorsOf({ listeners: [L], services: { api: { backends: [], timeouts: { idle: '10 minutes' } } } });
  assert.equal(svc.length, 1);
  assert.match(svc[0], /^services\.api\.timeouts\.idle: invalid duration "10 minutes"/);
  const neg = errorsOf({ listeners: [{ ...L, timeouts: { keepAlive: -5 } }] });
  assert.equal(neg.length, 1);
  assert.match(neg[0], /^listeners\[0\]\.timeouts\.keepAlive: /);
});

test('validateConfig: unknown keys are errors naming their path', () => {
  assert.deepEqual(errorsOf({ listeners: [{ ...L, foo: 1 }] }), ['listeners[0].foo: unknown key']);
  assert.deepEqual(errorsOf({ listeners: [L], services: { api: { backends: [{ address: 'a:1', bogus: true }] } } }),
    ['services.api.backends[0].bogus: unknown key']);
  assert.deepEqual(errorsOf({ listeners: [L], workres: 2 }), ['workres: unknown key']);
  assert.deepEqual(errorsOf({ listeners: [{ ...L, timeouts: { connect: '5s' } }] }), ['listeners[0].timeouts.connect: unknown key']);
  const two = errorsOf({ listeners: [{ ...L, a: 1, b: 2 }] });
  assert.deepEqual(two.sort(), ['listeners[0].a: unknown key', 'listeners[0].b: unknown key']);
});

test('validateConfig: missing or empty listeners', () => {
  const none = errorsOf(undefined);
  assert.equal(none.length, 1);
  assert.match(none[0], /^listeners: /);
  const empty = errorsOf({ listeners: [] });
  assert.equal(empty.length, 1);
  assert.match(empty[0], /^listeners: /);
});

test('validateConfig: bad listen/backend addresses', () => {
  const e = errorsOf({ listeners: [{ name: 'web', address: 'nope' }] });
  assert.deepEqual(e, ['listeners[0].address: expected listen address as host:port (IPv6 as [::1]:port)']);
  assert.equal(validateConfig({ listeners: [{ name: 'w', address: '[::]:0' }] }).listeners[0].address, '[::]:0');
  const b = errorsOf({ listeners: [L], services: { api: { backends: [{ address: '10.0.0.1:0' }] } } });
  assert.deepEqual(b, ['services.api.backends[0].address: expected backend address as host:port (IPv6 as [::1]:port)']);
});

test('validateConfig: maglev tableSize must be prime', () => {
  const svc = (tableSize: number) => ({ listeners: [L], services: { api: { balancer: { algorithm: 'maglev', tableSize }, backends: [] } } });
  assert.deepEqual(errorsOf(svc(100)), ['services.api.balancer.tableSize: tableSize must be a prime']);
  assert.deepEqual(errorsOf(svc(1)), ['services.api.balancer.tableSize: tableSize must be a prime']);
  assert.equal(validateConfig(svc(251)).services.api.balancer.algorithm, 'maglev');
});

test('validateConfig: route to an unknown service / listener', () => {
  assert.deepEqual(errorsOf({ listeners: [L], routes: [{ service: 'nope' }] }), ['routes[0].service: unknown service "nope"']);
  assert.deepEqual(errorsOf({ listeners: [L], services: SVC, routes: [{ service: 'api', listeners: ['web', 'admin'] }] }),
    ['routes[0].listeners[1]: unknown listener "admin"']);
});

test('validateConfig: duplicate listener names and addresses', () => {
  assert.deepEqual(errorsOf({ listeners: [L, { name: 'web', address: '0.0.0.0:8081' }] }),
    ['listeners[1].name: duplicate listener name "web"']);
  assert.deepEqual(errorsOf({ listeners: [L, { name: 'other', address: '0.0.0.0:8080' }] }),
    ['listeners[1].address: address 0.0.0.0:8080 conflicts with listeners[0] 0.0.0.0:8080 (the same address)']);
});

test('validateConfig: duplicate backends in one service, but the same backend in two services is fine', () => {
  assert.deepEqual(errorsOf({ listeners: [L], services: { api: { backends: [{ address: 'a:1' }, { address: 'b:1' }, { address: 'a:1' }] } } }),
    ['services.api.backends[2].address: duplicate backend a:1']);
  const c = validateConfig({ listeners: [L], services: { x: { backends: [{ address: 'a:1' }] }, y: { backends: [{ address: 'a:1' }] } } });
  assert.equal(Object.keys(c.services).length, 2);
});

test('validateConfig: bad regex in path and header matches', () => {
  const route = (match: unknown) => ({ listeners: [L], services: SVC, routes: [{ service: 'api', match }] });
  assert.match(errorsOf(route({ path: { regex: '(' } })).join('\n'), /^routes\[0\]\.match\.path\.regex: invalid regular expression: .*missing closing \)/);
  assert.match(errorsOf(route({ headers: [{ name: 'x', regex: '[' }] })).join('\n'),
    /^routes\[0\]\.match\.headers\[0\]\.regex: invalid regular expression: .*missing closing \]/);
  assert.deepEqual(validateConfig(route({ path: { regex: '^/v[0-9]+/' } })).routes[0].match.path, { regex: '^/v[0-9]+/' });
});

test('validateConfig: header match needs exactly one of exact/prefix/regex/present', () => {
  const route = (h: object) => ({ listeners: [L], services: SVC, routes: [{ service: 'api', match: { headers: [{ name: 'x', ...h }] } }] });
  const msg = ['routes[0].match.headers[0]: give exactly one of exact, prefix, regex, present'];
  assert.deepEqual(errorsOf(route({})), msg);
  assert.deepEqual(errorsOf(route({ exact: 'a', present: true })), msg);
  assert.deepEqual(errorsOf(route({ prefix: 'a', regex: 'b' })), msg);
  for (const ok of [{ exact: '' }, { prefix: 'a' }, { regex: 'b' }, { present: false }]) {
    assert.equal(validateConfig(route(ok)).routes.length, 1, JSON.stringify(ok));
  }
});

test('validateConfig: every problem is reported, not just the first', () => {
  const e = errorsOf({ listeners: [L, { name: 'web', address: '0.0.0.0:9', foo: 1 }], routes: [{ service: 'nope' }] });
  assert.deepEqual(e.sort(), [
    'listeners[1].foo: unknown key',
    'listeners[1].name: duplicate listener name "web"',
    'routes[0].service: unknown service "nope"',
  ]);
});

test('configJsonSchema: strict root object describing the file', () => {
  const s = configJsonSchema() as Record<string, unknown>;
  assert.equal(typeof s, 'object');
  assert.equal(typeof s.$schema, 'string');
  assert.match(s.$schema as string, /json-schema\.org/);
  assert.equal(s.additionalProperties, false);
  const props = s.properties as Record<string, unknown>;
  for (const k of ['listeners', 'routes', 'services', 'workers']) assert.ok(k in props, k);
  assert.deepEqual(s.required, ['listeners']);
});

test('validateConfig: retry budget, per-try timeout and hedging settings', () => {
  const c = validateConfig({ listeners: [L], services: { api: { ...SVC.api, retries: { perTryTimeout: '1s' }, hedging: { enabled: true } } } });
  const s = c.services.api;
  assert.equal(s.retries.perTryTimeout, 1000);
  assert.deepEqual([s.retries.budgetPercent, s.retries.budgetMinPerSecond, s.retries.budgetWindow], [20, 10, 10_000]);
  assert.deepEqual(s.hedging, { enabled: true, percentile: 99, factor: 1.5, minDelay: 10, maxDelay: 1000 });
  assert.equal(validateConfig({ listeners: [L], services: SVC }).services.api.retries.perTryTimeout, 0);
  assert.deepEqual(errorsOf({ listeners: [L], services: { api: { ...SVC.api, retries: { budgetMinConcurrent: 3 } } } }),
    ['services.api.retries.budgetMinConcurrent: budgetMinConcurrent was replaced by budgetMinPerSecond (the retry budget is a token bucket now; see docs/config.md)']);
  assert.deepEqual(errorsOf({ listeners: [L], services: { api: { ...SVC.api, hedging: { minDelay: '2s', maxDelay: '1s' } } } }),
    ['services.api.hedging.minDelay: minDelay must not exceed maxDelay']);
  assert.deepEqual(errorsOf({ listeners: [L], services: SVC, routes: [{ service: 'api', hedging: true }] }),
    ['routes[0].hedging: service "api" has hedging off: set services.api.hedging.enabled (and hedging: false on the routes that must not hedge)']);
});

test('validateConfig: CIDR rules and client limits are checked with the path and the fix', () => {
  const errors: string[] = errorsOf({ listeners: [{ ...L, access: { deny: ['10.0.0.1/8', 'nope'] }, clientLimits: { maxConnections: 0 } }], access: { allow: ['2001:db8::/129'] } });
  assert.ok(errors.some((e) => e.startsWith('listeners[0].access.deny[0]: ') && e.includes('did you mean 10.0.0.0/8?')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('listeners[0].access.deny[1]: ') && e.includes('not an IP address')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('listeners[0].clientLimits.maxConnections: ')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('access.allow[0]: ') && e.includes('0..128')), errors.join('\n'));
});
