import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../config/load.js';
import { ManualClock } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import { configuredEndpoints, EndpointSet } from './endpoint-set.js';

const deps = { clock: new ManualClock(), random: seededRandom(1) };
const service = (backends: object[], extra: object = {}) => validateConfig({
  listeners: [{ name: 'web', address: '127.0.0.1:1' }], routes: [{ service: 'app' }],
  services: { app: { backends, ...extra } },
}).services.app;
type Cfg = ReturnType<typeof service>;
/** Stages the set of `cfg` after `previous` (the live snapshot's config and endpoints). */
const build = (cfg: Cfg, previous?: { config: Cfg; endpoints: EndpointSet['endpoints'] }) =>
  new EndpointSet('app', cfg, deps, configuredEndpoints(cfg), false, previous);

test('endpoint set: kept addresses keep their Endpoint; staging writes nothing to them until activate', () => {
  const cfg1 = service([{ address: '127.0.0.1:9001', weight: 1 }, { address: '127.0.0.1:9002' }]);
  const live = build(cfg1);
  live.activate({});
  const [a] = live.endpoints;
  a.begin();
  const staged = build(service([{ address: '127.0.0.1:9001', weight: 5, zone: 'z1', draining: true }, { address: '127.0.0.1:9003' }]),
    { config: cfg1, endpoints: live.endpoints });
  assert.equal(staged.endpoints[0], a, 'the same object carries in-flight counts');
  assert.equal(staged.active, false);
  assert.deepEqual([a.weight, a.zone, a.draining, a.inFlight], [1, undefined, false, 1], 'untouched while staged');
  staged.activate({ health: { '127.0.0.1:9001': false } });
  assert.deepEqual([a.weight, a.zone, a.draining, a.healthy], [5, 'z1', true, false]);
  assert.equal(staged.find('127.0.0.1:9003'), staged.endpoints[1]);
  assert.equal(staged.find('127.0.0.1:9002'), undefined);
});

test('endpoint set: breakers are kept across a reload with the same settings and replaced when they change', () => {
  const cfg = service([{ address: '127.0.0.1:9001' }], { circuitBreaker: { enabled: true } });
  const first = build(cfg);
  first.activate({});
  const breaker = first.endpoints[0].breaker;
  assert.notEqual(breaker, null);
  const same = build(cfg, { config: cfg, endpoints: first.endpoints });
  same.activate({});
  assert.equal(same.endpoints[0].breaker, breaker);
  const changed = build(service([{ address: '127.0.0.1:9001' }], { circuitBreaker: { enabled: true, requestVolumeThreshold: 99 } }), { config: cfg, endpoints: same.endpoints });
  assert.equal(same.endpoints[0].breaker, breaker, 'staging does not swap it');
  changed.activate({});
  assert.notEqual(changed.endpoints[0].breaker, breaker);
});

test('endpoint set: mitigation weights multiply the configured weight; null restores it', () => {
  const set = build(service([{ address: '127.0.0.1:9001', weight: 4 }, { address: '127.0.0.1:9002', weight: 2 }]));
  set.activate({});
  set.applyWeights({ boundedLoad: null, weightFactors: [{ backend: '127.0.0.1:9002', factor: 0.5 }] });
  assert.deepEqual(set.endpoints.map((e) => e.weight), [4, 1]);
  set.applyWeights(null);
  assert.deepEqual(set.endpoints.map((e) => e.weight), [4, 2]);
});
