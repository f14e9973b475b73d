import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { HotspotDetector, type BackendWindow, type HotspotChange, type HotspotOptions } from './detector.js';
import { TopKeys } from './top-keys.js';
import { HotspotSchema } from '../config/hotspot-schema.js';
import { hotspotOptions } from './options.js';
import { ringHash } from '../upstream/balancers/ring-hash.js';
import { makeEndpoints, makeOptions } from '../upstream/balancers/testkit.js';
import { seededRandom, type Random } from '../util/random.js';

const WINDOW = 10_000;

/** Requests spread by weight at random (what any non-hashing balancer does on average). */
function weightedCounts(weights: readonly number[], requests: number, random: Random): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map(() => 0);
  for (let i = 0; i < requests; i++) {
    let u = random() * total;
    let j = 0;
    while (j < weights.length - 1 && (u -= weights[j]) >= 0) j++;
    counts[j]++;
  }
  return counts;
}

function backends(weights: readonly number[], counts: readonly number[], p99?: readonly number[]): BackendWindow[] {
  return weights.map((w, i) => ({ key: `b${i}`, weight: w, requests: counts[i], ...(p99 ? { p99Ms: p99[i], p50Ms: p99[i] / 4 } : {}) }));
}

/**
 * A hashed service of 4 equal backends behind a real ring-hash: each window sends `requests`
 * requests, `hotShare` of them with key "hot" and the rest over 5000 keys; per-backend TopKeys
 * counters report the window's top keys, as the worker wiring would.
 */
function hashedService(seed: number) {
  const eps = makeEndpoints([1, 1, 1, 1]);
  const ring = ringHash(eps, makeOptions(seed, { virtualNodes: 1000 }));
  const counters = eps.map(() => new TopKeys({ capacity: 64 }));
  const random = seededRandom(seed);
  return {
    owner: eps.indexOf(ring.pick({ hashKey: 'hot', attempt: 0 })!),
    window(hotShare: number, requests = 2000): BackendWindow[] {
      const counts = eps.map(() => 0);
      for (let i = 0; i < requests; i++) {
        const key = random() < hotShare ? 'hot' : `user-${Math.floor(random() * 5000)}`;
        const j = eps.indexOf(ring.pick({ hashKey: key, attempt: 0 })!);
        counts[j]++;
        counters[j].add(key);
      }
      return eps.map((ep, j) => {
        const topKeys = counters[j].top(5).map(({ key, count }) => ({ key, count }));
        counters[j].reset();
        return { key: ep.key, weight: 1, requests: counts[j], topKeys };
      });
    },
  };
}

const raised = (cs: HotspotChange[]) => cs.filter((c) => c.kind === 'raised');
const cleared = (cs: HotspotChange[]) => cs.filter((c) => c.kind === 'cleared');

test('detector: an even workload over 6 simulated hours never fires (equal and unequal weights, 500 req/window)', () => {
  const d = new HotspotDetector();
  const random = seededRandom(1);
  const pools = { equal: [1, 1, 1, 1], mixed: [1, 2, 3, 4, 1, 1, 1, 1, 1, 1] };
  let windows = 0;
  for (let now = WINDOW; now <= 6 * 3_600_000; now += WINDOW, windows++) {
    for (const [name, weights] of Object.entries(pools)) {
      const p99 = weights.map(() => 40 + random() * 30); // peers within 2× of each other
      const changes = d.observe(name, { now, hashed: false, backends: backends(weights, weightedCounts(weights, 500, random), p99) });
      assert.deepEqual(changes, [], `${name} at ${now}`);
    }
  }
  assert.equal(windows, 2160);
  assert.deepEqual(d.signals(), []);
});

test('detector: one hash key sending 40% of traffic to one of 4 backends fires after `for` (1 min) and not before, naming the key', () => {
  const d = new HotspotDetector();
  const svc = hashedService(3);
  for (let now = WINDOW; now <= 50_000; now += WINDOW) {
    assert.deepEqual(d.observe('api', { now, hashed: true, backends: svc.window(0.4) }), [], `nothing at ${now}`);
  }
  const changes = d.observe('api', { now: 60_000, hashed: true, backends: svc.window(0.4) });
  assert.equal(changes.length, 1);
  const c = changes[0];
  assert.ok(c.kind === 'raised');
  const s = c.signal;
  assert.equal(s.backend, `10.0.0.${svc.owner + 1}:8080`);
  assert.equal(s.cause, 'hash-key-concentration');
  assert.equal(s.since, 0, 'the run started with the first window (0–10 s)');
  assert.equal(s.raisedAt, 60_000);
  assert.equal(s.expectedShare, 0.25);
  assert.ok(s.share > 0.5 && s.share < 0.6, `share ${s.share}`);
  assert.equal(s.detail.keys?.[0].key, 'hot');
  assert.ok(Math.abs(s.detail.keys![0].share - 0.4) < 0.04);
  assert.equal(s.suggestedMitigation, 'bounded-load');
  assert.match(s.detail.text, /"hot"/);
  assert.deepEqual(d.signals('api'), [s]);
  assert.equal(d.mitigation('api').boundedLoad, null, 'mitigate defaults to off: detection only');
});

test('detector: the signal clears in the first window after the skew stops, and needs `for` again to return', () => {
  const d = new HotspotDetector();
  const svc = hashedService(4);
  let now = 0;
  for (let i = 0; i < 8; i++) d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0.4) });
  assert.equal(d.signals().length, 1);
  const changes = d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0) });
  assert.equal(cleared(changes).length, 1);
  assert.deepEqual(changes[0], { kind: 'cleared', service: 'api', backend: `10.0.0.${svc.owner + 1}:8080`, since: 0, activeMs: 30_000 });
  assert.deepEqual(d.signals(), []);
  for (let i = 0; i < 5; i++) assert.deepEqual(d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0.4) }), []);
  assert.equal(raised(d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0.4) })).length, 1);
});

test('detector: weights are respected — weight 4 taking 4× traffic never fires; a weight-1 backend at 2.4× its share does', () => {
  const weights = [4, 1, 1, 1, 1];
  const d = new HotspotDetector();
  for (let now = WINDOW; now <= 3_600_000; now += WINDOW) {
    assert.deepEqual(d.observe('even', { now, hashed: false, backends: backends(weights, [500, 125, 125, 125, 125]) }), []);
  }
  let first: number | undefined;
  for (let now = WINDOW; now <= 120_000; now += WINDOW) {
    const cs = d.observe('skewed', { now, hashed: false, backends: backends(weights, [400, 300, 100, 100, 100]) });
    if (raised(cs).length > 0 && first === undefined) first = now;
  }
  assert.equal(first, 60_000);
  const [s] = d.signals('skewed');
  assert.deepEqual([s.backend, s.share, s.expectedShare, s.cause, s.suggestedMitigation], ['b1', 0.3, 0.125, 'unknown', null]);
});

test('detector: a slow backend fires as slow-backend whether its balancer starves it (least-request) or keeps its share (round-robin)', () => {
  const weights = [1, 1, 1, 1, 1];
  const p99 = [250, 50, 45, 60, 55];
  for (const [name, counts] of [['p2c', [40, 240, 240, 240, 240]], ['round-robin', [200, 200, 200, 200, 200]]] as const) {
    const d = new HotspotDetector();
    for (let now = WINDOW; now <= 50_000; now += WINDOW) assert.deepEqual(d.observe(name, { now, hashed: false, backends: backends(weights, counts, p99) }), []);
    const [c] = raised(d.observe(name, { now: 60_000, hashed: false, backends: backends(weights, counts, p99) }));
    assert.ok(c?.kind === 'raised', name);
    assert.equal(c.signal.backend, 'b0');
    assert.equal(c.signal.cause, 'slow-backend');
    assert.equal(c.signal.suggestedMitigation, 'reduce-weight');
    assert.deepEqual(c.signal.detail.latency, { metric: 'p99', ms: 250, poolMedianMs: 52.5, ratio: 250 / 52.5 });
  }
});

test('detector: latency rules — 1.5× slower, a sub-5ms gap, or too few requests do not fire; two backends compare with each other', () => {
  const d = new HotspotDetector();
  const even = [200, 200, 200, 200];
  for (let now = WINDOW; now <= 600_000; now += WINDOW) {
    assert.deepEqual(d.observe('mild', { now, hashed: false, backends: backends([1, 1, 1, 1], even, [75, 50, 50, 50]) }), []);
    assert.deepEqual(d.observe('fast', { now, hashed: false, backends: backends([1, 1, 1, 1], even, [3, 0.5, 0.6, 0.5]) }), []);
    assert.deepEqual(d.observe('quiet', { now, hashed: false, backends: backends([1, 1, 1, 1], [5, 200, 200, 200], [900, 50, 50, 50]) }), []);
  }
  for (let now = WINDOW; now <= 60_000; now += WINDOW) d.observe('pair', { now, hashed: false, backends: backends([1, 1], [100, 100], [30, 120]) });
  assert.deepEqual(d.signals('pair').map((s) => [s.backend, s.cause]), [['b1', 'slow-backend']]);
});

test('detector: hashed skew spread over many keys is "unknown" with bounded-load suggested; none when configured bounded-load', () => {
  const weights = [1, 1, 1, 1];
  const many = (n: number) => Array.from({ length: 5 }, (_, i) => ({ key: `k${n}-${i}`, count: 3 }));
  const bs = (): BackendWindow[] => backends(weights, [1100, 300, 300, 300]).map((b, i) => ({ ...b, topKeys: many(i) }));
  const d = new HotspotDetector({ forMs: 0 });
  d.observe('ring', { now: WINDOW, hashed: true, backends: bs() });
  d.observe('bl', { now: WINDOW, hashed: true, boundedLoad: true, backends: bs() });
  assert.deepEqual(d.signals().map((s) => [s.service, s.cause, s.suggestedMitigation]), [['bl', 'unknown', null], ['ring', 'unknown', 'bounded-load']]);
});

test('detector: mitigate bounded-load switches on at the signal, stays on while the key is still hot, releases `holdMs` after', () => {
  const d = new HotspotDetector();
  d.configure('api', { mitigate: 'bounded-load' });
  const svc = hashedService(5);
  let now = 0;
  for (let i = 0; i < 5; i++) d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0.4) });
  assert.equal(d.mitigation('api').boundedLoad, null);
  d.observe('api', { now: now += WINDOW, hashed: true, backends: svc.window(0.4) });
  assert.deepEqual(d.mitigation('api'), { service: 'api', boundedLoad: { balanceFactor: 1.25 }, weightFactors: [] });
  // Bounded-load applied: the hot key now spills over all backends, so no backend is skewed any more.
  const spilled = (hot: number): BackendWindow[] => [0, 1, 2, 3].map((i) => ({
    key: `10.0.0.${i + 1}:8080`, weight: 1, requests: 500, topKeys: hot > 0 ? [{ key: 'hot', count: hot }] : [],
  }));
  for (let i = 0; i < 60; i++) {
    const cs = d.observe('api', { now: now += WINDOW, hashed: true, backends: spilled(200) });
    if (i === 0) assert.equal(cleared(cs).length, 1);
    assert.notEqual(d.mitigation('api').boundedLoad, null, `still on after ${i + 1} calm windows: "hot" is 40% of traffic`);
  }
  const cool = now;
  // Bounded: a mitigation that never releases fails here instead of hanging the suite.
  for (let i = 0; i < 1000 && d.mitigation('api').boundedLoad !== null; i++) {
    d.observe('api', { now: now += WINDOW, hashed: true, backends: spilled(0) });
  }
  assert.equal(d.mitigation('api').boundedLoad, null, 'released at all');
  assert.equal(now - cool, 300_000, 'released holdMs (5 min) after the key stopped being hot');
});

test('detector: mitigate reduce-weight halves a slow backend per window down to 10%, restores +10% per window once fast, pauses while slow', () => {
  const d = new HotspotDetector();
  d.configure('svc', { mitigate: 'reduce-weight' });
  const counts = [200, 200, 200, 200];
  const slow = [300, 50, 50, 50];
  const fast = [55, 50, 50, 50];
  const factors: number[] = [];
  let now = 0;
  const step = (p99: number[]) => {
    d.observe('svc', { now: now += WINDOW, hashed: false, backends: backends([1, 1, 1, 1], counts, p99) });
    const f = d.mitigation('svc').weightFactors;
    factors.push(f.length === 0 ? 1 : Number(f[0].factor.toFixed(3)));
  };
  for (let i = 0; i < 10; i++) step(slow);
  assert.deepEqual(factors.splice(0), [1, 1, 1, 1, 1, 0.5, 0.25, 0.125, 0.1, 0.1]);
  for (let i = 0; i < 3; i++) step(fast);
  step(slow); // slow again, not yet for `for`: restoration pauses
  for (let i = 0; i < 7; i++) step(fast);
  assert.deepEqual(factors, [0.2, 0.3, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1]);
  assert.deepEqual(d.mitigation('svc').weightFactors, []);
  d.configure('svc', { mitigate: 'off' });
  assert.deepEqual(d.mitigation('other'), { service: 'other', boundedLoad: null, weightFactors: [] });
});

test('detector: a gap of more than 2 windows breaks the run; time must increase; bad settings and inputs throw', () => {
  const d = new HotspotDetector();
  const skewed = backends([1, 1, 1, 1], [700, 100, 100, 100]);
  for (const now of [10_000, 20_000, 30_000, 40_000, 50_000]) d.observe('s', { now, hashed: false, backends: skewed });
  for (let now = 90_000; now <= 130_000; now += WINDOW) assert.deepEqual(d.observe('s', { now, hashed: false, backends: skewed }), [], `run restarted at 80 s (${now})`);
  assert.equal(raised(d.observe('s', { now: 140_000, hashed: false, backends: skewed })).length, 1);
  assert.equal(d.signals('s')[0].since, 80_000);
  assert.throws(() => d.observe('s', { now: 140_000, hashed: false, backends: skewed }), RangeError);
  assert.throws(() => d.observe('t', { now: 1, hashed: false, backends: backends([0], [1]) }), RangeError);
  const bad: Array<Partial<HotspotOptions>> = [{ skew: 1 }, { windowMs: 0 }, { keyCoverage: 0 }, { weightFloor: 2 }, { mitigate: 'x' as 'off' }];
  for (const o of bad) assert.throws(() => new HotspotDetector(o), RangeError, JSON.stringify(o));
});

test('schema: defaults are detection only; durations parse; unknown fields are rejected; options map to the detector', () => {
  const cfg = HotspotSchema.parse({});
  assert.deepEqual(cfg, { enabled: true, skew: 2, for: 60_000, window: 10_000, mitigate: 'off', sampleEvery: 1 });
  const custom = HotspotSchema.parse({ skew: 3, for: '30s', window: 5000, mitigate: 'reduce-weight', sampleEvery: 16 });
  assert.deepEqual(hotspotOptions(custom), { skew: 3, forMs: 30_000, windowMs: 5000, mitigate: 'reduce-weight' });
  new HotspotDetector(hotspotOptions(custom)); // accepted as detector settings
  for (const bad of [{ skew: 1 }, { for: 'soon' }, { window: '10ms' }, { mitigate: 'eject' }, { sampleEvery: 0 }, { threshold: 2 }]) {
    assert.equal(HotspotSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  const parent = z.strictObject({ hotspot: HotspotSchema.prefault({}) });
  assert.equal(parent.parse({}).hotspot.for, 60_000);
  const json = z.toJSONSchema(HotspotSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
  for (const [k, v] of Object.entries(json.properties)) assert.ok(v.description, `${k} has a description`);
});
