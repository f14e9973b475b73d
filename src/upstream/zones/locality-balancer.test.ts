import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/load.js';
import { serviceCounters } from '../../observe/stats.js';
import { ManualClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';
import { configuredEndpoints } from '../endpoint-set.js';
import { Picker } from '../picker.js';
import { ALGORITHMS } from '../balancers/index.js';
import { HASHED } from '../picker.js';

/** A picker on a node in zone `a` over backends in zones by `counts`, activated. */
function setup(algorithm: string, counts: Record<string, number>, nodes: Record<string, number> = {}, extra: object = {}) {
  const backends = Object.entries(counts).flatMap(([zone, n], z) => Array.from({ length: n }, (_, i) => ({ address: `127.0.${z}.${i + 1}:80`, zone })));
  const cfg = validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }], routes: [{ service: 'app' }],
    services: { app: { balancer: { algorithm }, backends, ...extra } },
  }).services.app;
  const deps = { clock: new ManualClock(1000), random: seededRandom(11), zone: 'a', nodesPerZone: nodes, fleetZones: { nodes: undefined as Record<string, number> | undefined } };
  const eps = configuredEndpoints(cfg);
  const picker = new Picker('app', cfg, deps, eps, HASHED.has(algorithm), serviceCounters(`zone-test-${Math.random()}`));
  picker.activate(undefined, null);
  const down = (i: number) => { eps[i].healthy = false; picker.changed(eps[i]); };
  return { picker, eps, down, deps };
}

/** Share of `n` picks per zone. */
function zoneShares(picker: Picker, n: number, key?: (i: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const ep = picker.pick({ attempt: 0, hashKey: key?.(i) });
    assert.ok(ep !== undefined);
    out[ep.zone!] = (out[ep.zone!] ?? 0) + 1 / n;
  }
  return out;
}

test('locality balancer: every algorithm gives the planned zone shares (a .4, b .1, c .5 for 2:3:5 backends and 2:1:1 nodes)', () => {
  for (const algorithm of ALGORITHMS) {
    const { picker } = setup(algorithm, { a: 2, b: 3, c: 5 }, { a: 2, b: 1, c: 1 });
    const s = zoneShares(picker, 20_000, HASHED.has(algorithm) ? (i) => `user-${i}` : undefined);
    for (const [z, want] of Object.entries({ a: 0.4, b: 0.1, c: 0.5 })) {
      assert.ok(Math.abs((s[z] ?? 0) - want) < 0.02, `${algorithm}: zone ${z} got ${s[z]}, want ${want}`);
    }
  }
});

test('locality balancer: the local zone down → all zones by capacity; back → local again', () => {
  const { picker, eps, down } = setup('round-robin', { a: 2, b: 3, c: 5 }, { a: 2, b: 1, c: 1 }, { slowStart: 0 });
  down(0); down(1);
  const s = zoneShares(picker, 8000);
  assert.ok(Math.abs(s.b - 0.375) < 0.02 && Math.abs(s.c - 0.625) < 0.02 && s.a === undefined, JSON.stringify(s));
  eps[0].healthy = eps[1].healthy = true;
  picker.changed(eps[0]); picker.changed(eps[1]);
  assert.ok(Math.abs(zoneShares(picker, 8000).a - 0.4) < 0.02);
});

// Maglev moves no key between survivors; ring-hash moves a few, as it does without zones (its ring
// keeps at least 1024 points, so each backend's virtual nodes change with the backend count).
test('locality balancer: hashing — a key stays on its backend when another zone changes, and barely moves between survivors of its own zone', () => {
  for (const algorithm of ['ring-hash', 'maglev']) {
    const { picker, eps, down } = setup(algorithm, { a: 3, b: 3, c: 3 });
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    const where = () => keys.map((k) => picker.pick({ attempt: 0, hashKey: k })!);
    const before = where();
    assert.ok(before.every((ep) => ep.zone === 'a'), 'a zone with its full share keeps every key');
    down(4); // zone b: zone a still has the capacity for its share
    assert.deepEqual(where(), before, `${algorithm}: a change in another zone moves no key`);
    down(0); // zone a loses one of three: 2/7 usable < 1/3 of the nodes, so 1 − (2/7)/(1/3) = 1/7 spills
    const after = where();
    let stayed = 0;
    let moved = 0;
    after.forEach((ep, i) => {
      if (ep.zone !== 'a') return;
      stayed++;
      if (ep !== before[i] && before[i] !== eps[0]) moved++;
    });
    assert.ok(moved <= (algorithm === 'maglev' ? 0 : 0.1 * keys.length), `${algorithm}: ${moved} keys moved between zone a's survivors`);
    assert.ok(Math.abs(stayed / keys.length - 6 / 7) < 0.03, `${algorithm}: ${stayed} keys stayed in zone a`);
    assert.deepEqual(where(), after, 'stable between picks');
  }
});

test('locality balancer: the fleet\'s live nodes per zone win over the configured ones once the picker replans', () => {
  const { picker, deps } = setup('random', { a: 2, b: 3, c: 5 }, { a: 1, b: 1, c: 1 });
  assert.ok(Math.abs(zoneShares(picker, 8000).a - 0.6) < 0.02, 'configured 1:1:1 → a .2 / (1/3)');
  deps.fleetZones.nodes = { a: 2, b: 1, c: 1 };
  picker.refresh();
  assert.ok(Math.abs(zoneShares(picker, 8000).a - 0.4) < 0.02, 'fleet 2:1:1 → a .2 / .5');
});
