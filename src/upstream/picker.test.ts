import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../config/load.js';
import { serviceCounters } from '../observe/stats.js';
import { ManualClock } from '../util/clock.js';
import { seededRandom } from '../util/random.js';
import type { ResilienceEvent } from './deps.js';
import type { Endpoint } from './endpoint.js';
import { configuredEndpoints } from './endpoint-set.js';
import { Picker } from './picker.js';
import { CircuitBreaker } from '../resilience/breaker.js';

/** A picker over `n` fresh endpoints of a round-robin service with `extra` settings, activated. */
function setup(n: number, extra: object = {}) {
  const cfg = validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }], routes: [{ service: 'app' }],
    services: { app: { balancer: { algorithm: 'round-robin' }, backends: Array.from({ length: n }, (_, i) => ({ address: `127.0.0.1:${9001 + i}` })), ...extra } },
  }).services.app;
  const clock = new ManualClock(1000);
  const events: ResilienceEvent[] = [];
  const deps = { clock, random: seededRandom(7), events: (e: ResilienceEvent) => events.push(e) };
  const eps = configuredEndpoints(cfg);
  const counters = serviceCounters(`picker-test-${Math.random()}`);
  /** Ports of the endpoints reported as leaving rotation (their pools fail over queued requests). */
  const left: number[] = [];
  const picker = new Picker('app', cfg, deps, eps, false, counters, (ep) => left.push(ep.port));
  picker.activate(undefined, null);
  const picks = (k: number, tried?: Set<Endpoint>) => Array.from({ length: k }, () => picker.pick({ attempt: 0, tried })?.port);
  return { picker, eps, clock, events, counters, picks, left };
}

test('picker: picks only available endpoints; a health change rebuilds the balancer', () => {
  const { picker, eps, picks } = setup(3);
  assert.deepEqual(new Set(picks(6)), new Set([9001, 9002, 9003]));
  eps[1].healthy = false;
  picker.changed(eps[1]);
  assert.deepEqual(new Set(picks(6)), new Set([9001, 9003]));
});

test('picker: a retry re-picks among untried endpoints, and finds none when all were tried', () => {
  const { eps, picks } = setup(3);
  assert.deepEqual(new Set(picks(6, new Set([eps[0], eps[2]]))), new Set([9002]));
  assert.deepEqual(picks(1, new Set(eps)), [undefined]);
});

test('picker: under the panic threshold every non-draining endpoint is picked again, counted and reported once', () => {
  const { picker, eps, events, counters, picks } = setup(4, { degradation: { panicThreshold: 50 } });
  for (const ep of eps.slice(0, 3)) { ep.healthy = false; picker.changed(ep); }
  eps[3].draining = true; picker.changed(eps[3]);
  assert.deepEqual(new Set(picks(8)), new Set([9001, 9002, 9003]), 'unhealthy ones serve; the draining one does not');
  assert.equal(counters.panicPicks, 8);
  assert.equal(events.filter((e) => e.to === 'panic').length, 1);
});

test('picker: consecutive failures eject an endpoint (outlier detection) until its ejection time passed', () => {
  const { picker, eps, clock, events, picks } = setup(3, { outlierDetection: { enabled: true, consecutiveFailures: 3, baseEjectionTime: '10s' } });
  for (let i = 0; i < 3; i++) picker.recordOutcome(eps[0], false);
  assert.equal(eps[0].ejected, true);
  assert.ok(!picks(6).includes(9001));
  assert.deepEqual(events.map((e) => `${e.kind}:${e.backend}:${e.to}`), ['outlier:127.0.0.1:9001:ejected']);
  clock.advance(11_000);
  picker.tick();
  assert.equal(eps[0].ejected, false);
});

test('picker: a backend back from unhealthy ramps up under slow start (kept with a growing probability)', () => {
  const { picker, eps, clock, picks } = setup(2, { slowStart: '10s' });
  eps[0].healthy = false; picker.changed(eps[0]);
  eps[0].healthy = true; picker.changed(eps[0]);
  assert.equal(eps[0].rampStart, clock.now());
  const share = () => picks(400).filter((p) => p === 9001).length / 400;
  const early = share();
  clock.advance(10_000);
  const late = share();
  assert.ok(early < 0.2, `early share ${early}`);
  assert.ok(late > 0.4, `late share ${late}`);
  assert.equal(eps[0].rampStart, 0, 'the ramp ends');
});

test('picker: an open breaker takes its endpoint out of rotation; a half-open one whose trials are all taken only stops being picked', () => {
  const { picker, eps, clock, picks, left } = setup(2, { slowStart: 0, outlierDetection: { enabled: false } });
  // Endpoints made outside a service have no breaker: give the first one its own.
  eps[0].breaker = new CircuitBreaker({ requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindowMs: 1000, halfOpenRequests: 2, windowMs: 10_000 }, clock);
  picker.recordOutcome(eps[0], false);
  picker.recordOutcome(eps[0], false);
  assert.deepEqual(left, [9001], 'open: requests queued for it go elsewhere');
  clock.advance(1100);
  picker.tick();
  const trials = picks(8).filter((p) => p === 9001).length;
  assert.equal(trials, 2, 'exactly halfOpenRequests trials');
  // The requests queued for it are those trials: failing them over would leave the breaker half-open for good.
  assert.deepEqual(left, [9001]);
  picker.recordOutcome(eps[0], true);
  picker.recordOutcome(eps[0], true);
  assert.equal(eps[0].breaker?.state, 'closed');
});

test('picker: under slow start every trial slot a half-open breaker gives is used by a request sent to it, and its ramp starts when it closes', () => {
  const { picker, eps, clock, picks } = setup(3, { slowStart: '30s', outlierDetection: { enabled: false } });
  eps[0].breaker = new CircuitBreaker({ requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindowMs: 1000, halfOpenRequests: 3, windowMs: 10_000 }, clock);
  picker.recordOutcome(eps[0], false);
  picker.recordOutcome(eps[0], false);
  clock.advance(1100);
  picker.tick();
  assert.equal(eps[0].breaker.state, 'half-open');
  const trials = picks(30).filter((p) => p === 9001).length;
  assert.equal(trials, 3, 'all halfOpenRequests trials reach it, none is lost to the ramp');
  for (let i = 0; i < 3; i++) picker.recordOutcome(eps[0], true);
  assert.equal(eps[0].breaker.state, 'closed', 'the trials it was sent close it');
  assert.equal(eps[0].rampStart, clock.now(), 'closed: slow start ramps it from now');
});

test('picker: a retry that skips a half-open backend takes none of its trial slots', () => {
  const { picker, eps, clock } = setup(2, { slowStart: 0, outlierDetection: { enabled: false } });
  eps[0].breaker = new CircuitBreaker({ requestVolumeThreshold: 2, errorThresholdPercentage: 50, sleepWindowMs: 1000, halfOpenRequests: 1, windowMs: 10_000 }, clock);
  picker.recordOutcome(eps[0], false);
  picker.recordOutcome(eps[0], false);
  clock.advance(1100);
  picker.tick();
  // Retries that already tried it are sent elsewhere and leave its one slot free.
  for (let i = 0; i < 4; i++) assert.equal(picker.pick({ attempt: 1, tried: new Set([eps[0]]) })?.port, 9002);
  const firsts = Array.from({ length: 4 }, () => picker.pick({ attempt: 0 })?.port);
  assert.equal(firsts.filter((p) => p === 9001).length, 1, 'its one trial is still there for a first attempt');
});
