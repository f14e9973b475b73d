import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Snapshot, SnapshotHolder } from './snapshot.js';
import { validateConfig } from '../config/load.js';
import { ManualClock } from '../util/clock.js';
import { seededRandom } from '../util/random.js';

const deps = { clock: new ManualClock(), random: seededRandom(1) };
const config = (backends: string[], algorithm = 'least-connections') => validateConfig({
  listeners: [{ name: 'web', address: '127.0.0.1:1' }],
  routes: [{ service: 'app' }],
  services: { app: { balancer: { algorithm }, backends: backends.map((address, i) => ({ address, weight: i + 1 })) } },
});

test('a reload carries endpoint state (in-flight, latency, availability) for backends that remain', async () => {
  const s1 = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002']), 1, deps);
  const [a, b] = s1.services.get('app')!.endpoints;
  a.begin(); a.begin(); a.ewmaMs = 42; b.healthy = false; b.updateAvailability();
  const holder = new SnapshotHolder(s1);
  const s2 = Snapshot.build(config(['127.0.0.1:9002', '127.0.0.1:9001', '127.0.0.1:9003']), 2, deps, s1);
  holder.swap(s2);
  const [b2, a2, c2] = s2.services.get('app')!.endpoints;
  assert.equal(a2, a, 'same Endpoint object for 9001');
  assert.equal(b2, b, 'same Endpoint object for 9002');
  assert.equal(a2.inFlight, 2);
  assert.equal(a2.ewmaMs, 42);
  assert.equal(b2.available, false);
  assert.equal(b2.state, 'unhealthy');
  assert.equal(b2.weight, 1, 'weights follow the new config');
  assert.equal(a2.weight, 2);
  assert.equal(c2.inFlight, 0);
  // A request that began under the old snapshot ends under the new one: counts stay right.
  a.end(5, deps.clock);
  assert.equal(a2.inFlight, 1);
  await s2.close();
});

test('a backend marked unhealthy leaves picking, and comes back when healthy', async () => {
  const s = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002'], 'round-robin'), 1, deps);
  const svc = s.services.get('app')!;
  assert.equal(svc.setHealth('127.0.0.1:9001', false), true);
  assert.equal(svc.setHealth('127.0.0.1:9999', false), false);
  for (let i = 0; i < 10; i++) assert.equal(svc.pick({ attempt: 0 })?.key, '127.0.0.1:9002');
  svc.setHealth('127.0.0.1:9001', true);
  const seen = new Set(Array.from({ length: 4 }, () => svc.pick({ attempt: 0 })?.key));
  assert.deepEqual([...seen].sort(), ['127.0.0.1:9001', '127.0.0.1:9002']);
  await s.close();
});

test('outcomes trip the breaker and eject through outlier detection; both take the backend out of picking', async () => {
  const clock = new ManualClock(1000);
  const s = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003', '127.0.0.1:9004'], 'round-robin'), 1, { clock, random: seededRandom(2) });
  const svc = s.services.get('app')!;
  const [a] = svc.endpoints;
  for (let i = 0; i < 4; i++) svc.recordOutcome(a, false);
  assert.equal(a.available, true, 'four failures are not enough');
  svc.recordOutcome(a, false);
  assert.equal(a.state, 'ejected');
  for (let i = 0; i < 20; i++) assert.notEqual(svc.pick({ attempt: 0 }), a);
  clock.advance(30_001);
  svc.tick();
  assert.equal(a.available, true, 'back after the 30 s ejection');
  await s.close();
});

test('pick skips endpoints already tried (retries), and returns undefined when all were', async () => {
  const s = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003'], 'maglev'), 1, deps);
  const svc = s.services.get('app')!;
  const first = svc.pick({ attempt: 0, hashKey: 'k' })!;
  const tried = new Set([first]);
  const second = svc.pick({ attempt: 1, hashKey: 'k', tried })!;
  assert.notEqual(second, first);
  tried.add(second);
  const third = svc.pick({ attempt: 2, hashKey: 'k', tried })!;
  assert.ok(!tried.has(third));
  tried.add(third);
  assert.equal(svc.pick({ attempt: 3, hashKey: 'k', tried }), undefined);
  await s.close();
});

test('slow start: a backend back from ejection ramps from ~10% to its full share over 30 s', async () => {
  const clock = new ManualClock(1000);
  const s = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003', '127.0.0.1:9004'], 'round-robin'), 1, { clock, random: seededRandom(3) });
  const svc = s.services.get('app')!;
  const [a] = svc.endpoints;
  const share = () => {
    let n = 0;
    for (let i = 0; i < 4000; i++) if (svc.pick({ attempt: 0 }) === a) n++;
    return n / 4000;
  };
  assert.ok(Math.abs(share() - 0.25) < 0.02, 'full share before any failure (no ramp at startup)');
  for (let i = 0; i < 5; i++) svc.recordOutcome(a, false);
  assert.equal(share(), 0);
  clock.advance(30_001);
  svc.tick();
  const start = share();
  clock.advance(15_000);
  const mid = share();
  clock.advance(15_001);
  const full = share();
  assert.ok(start < 0.06, `share right after return ${start}`);
  assert.ok(mid > start + 0.05 && mid < 0.22, `share half-way ${mid}`);
  assert.ok(Math.abs(full - 0.25) < 0.02, `share after the window ${full}`);
  await s.close();
});

test('a hot-spot mitigation scales listed weights and can switch hashed picking to bounded-load; null restores the config', async () => {
  const cfg = validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }],
    routes: [{ service: 'app' }],
    services: { app: { balancer: { algorithm: 'ring-hash' }, hashKey: { source: 'header', name: 'x-user' }, backends: [
      { address: '127.0.0.1:9001', weight: 4 }, { address: '127.0.0.1:9002', weight: 4 }, { address: '127.0.0.1:9003', weight: 4 },
    ] } },
  });
  const s = Snapshot.build(cfg, 1, deps);
  const svc = s.services.get('app')!;
  const [a] = svc.endpoints;
  // One hot key: plain ring-hash sends every request with it to one backend.
  const spread = () => {
    const by = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const ep = svc.pick({ attempt: 0, hashKey: 'whale', tried: undefined })!;
      ep.begin();
      by.set(ep.key, (by.get(ep.key) ?? 0) + 1);
    }
    for (const ep of svc.endpoints) while (ep.inFlight > 0) ep.end(1, deps.clock);
    return by;
  };
  assert.equal(spread().size, 1, 'ring-hash: the hot key lands on one backend');
  svc.setMitigation({ boundedLoad: { balanceFactor: 1.25 }, weightFactors: [{ backend: a.key, factor: 0.5 }] });
  assert.equal(a.weight, 2, 'weight halved');
  const bounded = spread();
  assert.ok(bounded.size > 1, `bounded-load spreads the hot key: ${JSON.stringify([...bounded])}`);
  svc.setMitigation(null);
  assert.equal(a.weight, 4, 'configured weight back');
  assert.equal(spread().size, 1, 'plain ring-hash again');
  await s.close();
});

/** Everything a reload may change on an endpoint, as one comparable value. */
const endpointState = (s: Snapshot) => s.services.get('app')!.endpoints.map((e) => ({
  key: e.key, weight: e.weight, zone: e.zone, draining: e.draining, healthy: e.healthy, ejected: e.ejected, available: e.available,
  breaker: e.breaker, breakerState: e.breaker?.state, topKeys: e.topKeys, observer: e.observer,
}));

test('preparing a snapshot (and dropping it, as a rejected reload does) leaves the live one\'s endpoints and picks untouched', async () => {
  const clock = new ManualClock(1000);
  const d = { clock, random: seededRandom(4) };
  const service = (over: Record<string, unknown>, backends: Record<string, unknown>[]) => validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }],
    routes: [{ service: 'app' }],
    services: { app: { balancer: { algorithm: 'least-connections' }, backends, ...over } },
  });
  const live = Snapshot.build(service({}, [
    { address: '127.0.0.1:9001', weight: 1, zone: 'a' }, { address: '127.0.0.1:9002', weight: 1, zone: 'a' }, { address: '127.0.0.1:9003', weight: 1 },
  ]), 1, d);
  const holder = new SnapshotHolder(live);
  const svc = live.services.get('app')!;
  const [a, b, c] = svc.endpoints;
  for (let i = 0; i < 5; i++) svc.recordOutcome(c, false); // c: ejected by outlier detection
  assert.equal(c.state, 'ejected');
  const before = endpointState(live);
  const picks = () => { const n = new Map<string, number>(); for (let i = 0; i < 300; i++) { const ep = svc.pick({ attempt: 0 })!; n.set(ep.key, (n.get(ep.key) ?? 0) + 1); } return [...n].sort(); };
  const split = picks();
  // Every per-endpoint setting changes: weights, zones, a drain, hashing (top keys), other breaker
  // settings, outlier detection off (which would return c), a different balancer.
  const nextConfig = service({
    balancer: { algorithm: 'ring-hash' }, circuitBreaker: { requestVolumeThreshold: 3 }, outlierDetection: { enabled: false },
  }, [
    { address: '127.0.0.1:9001', weight: 9, zone: 'b' }, { address: '127.0.0.1:9002', weight: 1, draining: true }, { address: '127.0.0.1:9003', weight: 1 },
  ]);
  const staged = Snapshot.prepare(nextConfig, 2, d, live);
  const staged2 = Snapshot.prepare(nextConfig, 3, d, live);
  assert.equal(staged.services.get('app')!.endpoints[0], a, 'endpoints are carried (shared), not copied');
  assert.deepEqual(endpointState(live), before, 'nothing live changed while two snapshots were prepared');
  assert.deepEqual(picks(), split, 'the live split is the same');
  svc.tick();
  assert.deepEqual(picks(), split, 'and stays so after the next balancer refresh');
  // The rejected one is dropped; a later one commits.
  holder.commit(staged2, { drains: { app: { '127.0.0.1:9001': true } } });
  assert.equal(holder.current, staged2);
  assert.deepEqual([a.weight, a.zone, a.draining, b.draining, c.ejected, c.available], [9, 'b', true, true, false, true], 'commit applies config and overrides');
  assert.notEqual(a.breaker, before[0].breaker, 'new breaker settings, new breaker');
  assert.ok(a.topKeys !== null, 'hashed now: top keys tracked');
  await staged2.close();
});

test('a staged service refuses live changes until activated', async () => {
  const live = Snapshot.build(config(['127.0.0.1:9001']), 1, deps);
  const staged = Snapshot.prepare(config(['127.0.0.1:9001']), 2, deps, live);
  assert.throws(() => staged.services.get('app')!.setDraining('127.0.0.1:9001', true), /not active/);
  assert.equal(live.services.get('app')!.endpoints[0].draining, false);
  await live.close();
});

test('a config whose balancer cannot be built is refused at prepare, before anything is touched', async () => {
  const live = Snapshot.build(config(['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003']), 1, deps);
  const before = endpointState(live);
  const bad = validateConfig({
    listeners: [{ name: 'web', address: '127.0.0.1:1' }],
    routes: [{ service: 'app' }],
    services: { app: { balancer: { algorithm: 'maglev', tableSize: 2 }, backends: [{ address: '127.0.0.1:9001', weight: 7, draining: true }, { address: '127.0.0.1:9002' }, { address: '127.0.0.1:9003' }] } },
  });
  assert.throws(() => Snapshot.prepare(bad, 2, deps, live), /maglev/);
  assert.deepEqual(endpointState(live), before);
  await live.close();
});
