import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planLocality, zoneShares, type LocalitySettings, type Member } from './locality.js';

const BASE: LocalitySettings = { localZone: 'a', zoneAware: true, minClusterSize: 6, overprovisioningFactor: 1.4, panicThreshold: 0 };

/** `counts` backends per zone, all usable, weight 1, priority `priority`. */
function zones(counts: Record<string, number>, priority = 0): Member[] {
  return Object.entries(counts).flatMap(([zone, n]) => Array.from({ length: n }, () => ({ zone, priority, weight: 1, usable: true, draining: false })));
}

function shares(members: Member[], s: Partial<LocalitySettings> = {}): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(members.map((m) => [m.zone, 0]));
  for (const [z, v] of zoneShares(planLocality(members, { ...BASE, ...s }), members)) out[z] = Math.round(v * 10_000) / 10_000;
  return out;
}

test('locality: 3 uneven zones, 2:1:1 nodes — the local zone takes what its capacity allows, the rest spills by residual capacity', () => {
  // upstream a .2 b .3 c .5, local a .5 b .25 c .25: a direct .2/.5 = .4; residual b .05, c .25 → .6 × 1/6, .6 × 5/6.
  const m = zones({ a: 2, b: 3, c: 5 });
  assert.deepEqual(shares(m, { nodesPerZone: { a: 2, b: 1, c: 1 } }), { a: 0.4, b: 0.1, c: 0.5 });
  assert.equal(planLocality(m, { ...BASE, nodesPerZone: { a: 2, b: 1, c: 1 } }).priorities[0].routing, 'spill');
});

test('locality: without fleet counts every zone is assumed to hold as many nodes; a zone with spare capacity keeps everything local', () => {
  const m = zones({ a: 1, b: 2, c: 3 });
  assert.deepEqual(shares(m), { a: 0.5, b: 0, c: 0.5 }, 'b has no residual (2/6 = 1/3): all spill goes to c');
  assert.deepEqual(shares(m, { localZone: 'c' }), { a: 0, b: 0, c: 1 });
  assert.equal(planLocality(m, { ...BASE, localZone: 'b' }).priorities[0].routing, 'local');
});

test('locality: every node applying the plan keeps every backend at the same load (Envoy\'s invariant)', () => {
  const m = zones({ a: 2, b: 3, c: 5 });
  const nodes = { a: 4, b: 3, c: 3 };
  const perBackend: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (const [zone, n] of Object.entries(nodes)) {
    for (const [z, v] of Object.entries(shares(m, { localZone: zone, nodesPerZone: nodes }))) perBackend[z] += (n * v) / m.filter((x) => x.zone === z).length;
  }
  for (const v of Object.values(perBackend)) assert.ok(Math.abs(v - 1) < 1e-3, `each backend gets 1/10 of the fleet's requests × 10 nodes: ${JSON.stringify(perBackend)}`);
});

test('locality: the local zone down fails over to every usable backend; partly down shifts the spill', () => {
  const m = zones({ a: 2, b: 3, c: 5 });
  m[0].usable = false;
  // upstream a 1/9: direct (1/9)/(1/3) = 1/3; residual b 3/9-1/3 = 0, c 5/9-1/3 = 2/9 → c gets 2/3.
  assert.deepEqual(shares(m), { a: 0.3333, b: 0, c: 0.6667 });
  m[1].usable = false;
  assert.deepEqual(shares(m), { a: 0, b: 0.375, c: 0.625 });
  assert.equal(planLocality(m, BASE).priorities[0].routing, 'failover');
});

test('locality: off without a local zone, with one zone, below minClusterSize, or when the local zone has no backends', () => {
  const m = zones({ a: 2, b: 3, c: 5 });
  assert.equal(planLocality(m, { ...BASE, localZone: undefined }).priorities[0].routing, 'off');
  assert.equal(planLocality(m, { ...BASE, zoneAware: false }).priorities[0].routing, 'off');
  assert.equal(planLocality(m, { ...BASE, localZone: 'x' }).priorities[0].routing, 'off');
  assert.equal(planLocality(m, { ...BASE, minClusterSize: 11 }).priorities[0].routing, 'off');
  assert.equal(planLocality(zones({ a: 8 }), BASE).priorities[0].routing, 'off');
  assert.deepEqual(shares(m, { localZone: undefined }), { a: 0.2, b: 0.3, c: 0.5 });
});

test('locality: weights count as capacity', () => {
  const m = zones({ a: 3, b: 3 });
  for (const x of m.filter((x) => x.zone === 'b')) x.weight = 3;
  // upstream a .25 < local .5 → direct .5; all spill to b.
  assert.deepEqual(shares(m), { a: 0.5, b: 0.5 });
});

test('priorities: a level keeps its load down to 1/1.4 usable, then the next level takes the rest (overprovisioning)', () => {
  const m = [...zones({ a: 4 }, 0), ...zones({ a: 2 }, 1)];
  const loads = () => planLocality(m, BASE).priorities.map((p) => [p.priority, Math.round(p.load * 1000) / 1000]);
  assert.deepEqual(loads(), [[0, 1]]);
  m[0].usable = false; // 75% × 1.4 > 1
  assert.deepEqual(loads(), [[0, 1]]);
  m[1].usable = false; // 50% × 1.4 = .7
  assert.deepEqual(loads(), [[0, 0.7], [1, 0.3]]);
  m[2].usable = false; // 25% × 1.4 = .35
  assert.deepEqual(loads(), [[0, 0.35], [1, 0.65]]);
  m[4].usable = false; // P1 .7: total 1.05 → .35 / .65 still
  assert.deepEqual(loads(), [[0, 0.35], [1, 0.65]]);
  m[5].usable = false; // P1 0: total .35 → P0 takes all it can
  assert.deepEqual(loads(), [[0, 1]]);
  m[3].usable = false;
  assert.deepEqual(planLocality(m, BASE).priorities, [], 'nothing usable and no panic: nothing to pick');
});

test('priorities: panic is per level; with nothing usable anywhere every level serves from all its backends, by size', () => {
  const m = [...zones({ a: 4 }, 0), ...zones({ a: 2 }, 1)];
  m[0].usable = m[1].usable = m[2].usable = false;
  const p = planLocality(m, { ...BASE, panicThreshold: 50 }).priorities;
  assert.deepEqual(p.map((x) => [x.priority, x.panic, x.subsets[0].members.length]), [[0, true, 4], [1, false, 2]]);
  for (const x of m) x.usable = false;
  m[5].draining = true;
  const total = planLocality(m, { ...BASE, panicThreshold: 50 }).priorities;
  assert.deepEqual(total.map((x) => [x.priority, Math.round(x.load * 100), x.subsets[0].members]), [[0, 80, [0, 1, 2, 3]], [1, 20, [4]]]);
});

test('priorities: zone-aware routing applies within each level', () => {
  const m = [...zones({ a: 1, b: 2, c: 3 }, 0), ...zones({ a: 3, b: 3 }, 1)];
  for (const x of m.filter((x) => x.priority === 0)) x.usable = false;
  const p = planLocality(m, { ...BASE, minClusterSize: 2 }).priorities;
  assert.deepEqual(p.map((x) => [x.priority, x.routing, x.subsets.map((s) => s.zone)]), [[1, 'local', ['a']]]);
});
