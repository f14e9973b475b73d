import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/*
 * Zone-aware balancing end to end: a node started with `--zone a`, real backends on loopback in
 * three zones of uneven size (a: 2, b: 3, c: 5) and a fleet of 2:1:1 nodes per zone. Envoy's
 * algorithm gives this node a .4, b .1, c .5 (a's capacity covers 40% of a 50% node share; the
 * rest spills by residual capacity); checked over bounded request counts within ±5%, then the
 * plan's response to a zone-b backend lost, then zone a lost under load (no failed request, full
 * failover to b and c by capacity). A ring-hash service on a0, a1, b2, c4 keeps every key while
 * only another zone changes. A service with priority levels (4 primaries, 2 backups) moves load
 * to the backups as the primaries fall under 1/1.4 usable.
 */

const ZONES = ['a', 'a', 'b', 'b', 'b', 'c', 'c', 'c', 'c', 'c'];
const TOL = 0.05;
let backends: Backend[];
let tiers: Backend[];
let sy: Switchyard;
const agent = new Agent({ connections: 32 });
const zoneOf = new Map<string, string>();
const diagnostics: string[] = [];
let admin: string;

before(async () => {
  backends = await startBackends(ZONES.length, (req, res, b) => { req.resume(); req.on('end', () => res.end(b.name)); });
  backends.forEach((b, i) => zoneOf.set(b.name, ZONES[i]));
  tiers = await startBackends(6, (req, res, b) => { req.resume(); req.on('end', () => res.end(`t${b.name.slice(1)}`)); });
  const common = {
    // A stopped backend refuses at once; the long timeout keeps a loaded machine from failing healthy ones.
    healthCheck: { path: '/', interval: '200ms', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 },
    retries: { connectRetries: 4, statusRetries: 3, budgetPercent: 100, baseDelay: 0 },
    slowStart: 0,
  };
  const hashed = [0, 1, 4, 6];
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  sy = await startSwitchyard(baseConfig(await freePort(), {
    web: { ...common, backends: backends.map((b, i) => ({ address: b.address, zone: ZONES[i] })) },
    hashed: {
      ...common, balancer: { algorithm: 'ring-hash' }, hashKey: { source: 'header', name: 'x-user' }, locality: { minClusterSize: 2 },
      backends: hashed.map((i) => ({ address: backends[i].address, zone: ZONES[i] })),
    },
    tiers: { ...common, balancer: { algorithm: 'round-robin' }, backends: tiers.map((b, i) => ({ address: b.address, priority: i < 4 ? 0 : 1 })) },
  }, [{ match: { path: { prefix: '/hash' } }, service: 'hashed' }, { match: { path: { prefix: '/tiers' } }, service: 'tiers' }, { service: 'web' }], { workers: 2, zones: { nodes: { a: 2, b: 1, c: 1 } }, admin: { address: `127.0.0.1:${adminPort}` } }),
  { extraArgs: ['--zone', 'a'] });
});

after(async () => {
  await sy?.stop();
  await agent.close();
  await Promise.all([...backends, ...tiers].map((b) => b.close()));
});

/** `n` GETs with `concurrency` in flight (each bounded by a 5 s timeout): the backend names that answered, and the failures. */
async function load(path: string, n: number, concurrency = 16, headers?: (i: number) => Record<string, string>, onEach?: (done: number) => void) {
  const served: string[] = new Array(n);
  const failures: string[] = [];
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      try {
        const r = await request(`${sy.url}${path}`, { headers: headers?.(i), dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
        const body = await r.body.text();
        if (r.statusCode === 200) served[i] = body; else failures.push(`${r.statusCode} ${body.slice(0, 80)}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
      onEach?.(++done);
    }
  }));
  return { served, failures };
}

function shares(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = { a: 0, b: 0, c: 0 };
  const seen = names.filter((x) => x !== undefined);
  for (const n of seen) out[zoneOf.get(n)!] += 1 / seen.length;
  return out;
}

function assertShares(got: Record<string, number>, want: Record<string, number>, label: string): void {
  diagnostics.push(`${label}: ${Object.entries(got).map(([z, v]) => `${z} ${v.toFixed(3)}`).join(', ')}`);
  for (const z of Object.keys(want)) assert.ok(Math.abs(got[z] - want[z]) <= TOL, `${label}: zone ${z} served ${got[z].toFixed(3)}, expected ${want[z]} ±${TOL} (${JSON.stringify(got)})`);
}

/** `switchyard_zone_requests_total` of service `web` by zone, once the node counted at least `min` tries. */
async function zoneCounters(min: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await (await request(`${admin}/metrics`, { dispatcher: agent })).body.text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^switchyard_zone_requests_total\{service="web",zone="(\w+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
    if (Object.values(out).reduce((s, v) => s + v, 0) >= min || Date.now() > deadline) return out;
    await sleep(200);
  }
}

/** The health transitions the node logged (context for a failure). */
const healthLog = () => sy.output().split('\n').filter((l) => /health: |panic/.test(l)).map((l) => /"msg":"([^"]*)"/.exec(l)?.[1]).join('\n');

/** Resolves once the node logged `b` unhealthy for `service`. */
const markedDown = (service: string, b: Backend, from: number) => sy.waitForLog(new RegExp(`health: ${service}/127\\.0\\.0\\.1:${b.port} → unhealthy`), 10_000, from);

test('zones: local share, spill by residual capacity, a lost zone under load with no failed request, full failover; the ring stays put', async (t) => {
  t.after(() => { for (const d of diagnostics.splice(0)) t.diagnostic(d); });
  const keys = (i: number) => ({ 'x-user': `user-${i % 400}` });

  // 1. Everything up: a .4 (local), b .1 and c .5 (spill).
  const all = await load('/', 4000);
  assert.deepEqual(all.failures, [], healthLog());
  assertShares(shares(all.served), { a: 0.4, b: 0.1, c: 0.5 }, 'all zones up');
  // The same shares in /metrics (tries per backend zone, summed over both workers) and in /api/services.
  const counted = await zoneCounters(4000);
  const sum = Object.values(counted).reduce((s, v) => s + v, 0);
  assertShares({ a: counted.a / sum, b: counted.b / sum, c: counted.c / sum }, { a: 0.4, b: 0.1, c: 0.5 }, '/metrics switchyard_zone_requests_total');
  const api = await (await request(`${admin}/api/services`, { dispatcher: agent })).body.json() as { services: { name: string; zones: { zone: string; share: number; backends: number }[] }[] };
  assert.deepEqual(api.services.find((s) => s.name === 'web')?.zones.map((z) => [z.zone, z.backends]), [['a', 2], ['b', 3], ['c', 5]]);
  const ring = (await load('/hash', 400, 8, keys)).served;
  assert.ok(ring.every((n) => zoneOf.get(n) === 'a'), 'the hashed service (half its backends in a) keeps every key in zone a');

  // 2. A zone-b backend lost: a 2/9 of the capacity → .444 local; b no longer has spare capacity → c .556.
  let from = sy.output().length;
  await backends[4].close();
  await Promise.all([markedDown('web', backends[4], from), markedDown('hashed', backends[4], from)]);
  const bDown = await load('/', 4000);
  assert.deepEqual(bDown.failures, []);
  assertShares(shares(bDown.served), { a: 4 / 9, b: 0, c: 5 / 9 }, 'one zone-b backend down');
  assert.deepEqual((await load('/hash', 400, 8, keys)).served, ring, 'a change in zone b moved no key of the ring');

  // 3. Zone a lost in the middle of the load: not one failed request (retries on other zones), then full failover by capacity.
  from = sy.output().length;
  let stopping: Promise<void> | undefined;
  const t0 = Date.now();
  const during = await load('/', 3000, 16, undefined, (done) => { if (done === 800) stopping = Promise.all([backends[0].close(), backends[1].close()]).then(() => undefined); });
  await stopping;
  diagnostics.push(`zone a stopped mid-load: ${during.served.filter((x) => x !== undefined).length}/3000 served, ${during.failures.length} failed, ${Date.now() - t0} ms`);
  assert.deepEqual(during.failures, [], 'zone a stopped mid-load');
  await Promise.all([markedDown('web', backends[0], from), markedDown('web', backends[1], from)]);
  const failover = await load('/', 4000);
  assert.deepEqual(failover.failures, []);
  assertShares(shares(failover.served), { a: 0, b: 2 / 7, c: 5 / 7 }, 'zone a down');
});

test('priority levels: the primaries keep all the load down to 1/1.4 usable, then the backups take the rest', async (t) => {
  t.after(() => { for (const d of diagnostics.splice(0)) t.diagnostic(d); });
  const level = (names: readonly string[]) => {
    const ok = names.filter((n) => n !== undefined);
    const p0 = ok.filter((n) => Number(n.slice(1)) < 4).length / ok.length;
    return { p0, p1: 1 - p0 };
  };
  const all = await load('/tiers', 1200);
  assert.deepEqual(all.failures, []);
  assertShares(level(all.served), { p0: 1, p1: 0 }, 'levels, all up');
  let from = sy.output().length;
  await Promise.all([tiers[0].close(), tiers[1].close()]);
  await Promise.all([markedDown('tiers', tiers[0], from), markedDown('tiers', tiers[1], from)]);
  const half = await load('/tiers', 2000);
  assert.deepEqual(half.failures, []);
  assertShares(level(half.served), { p0: 0.7, p1: 0.3 }, 'levels, primaries 2/4 usable');
  from = sy.output().length;
  await tiers[2].close();
  await markedDown('tiers', tiers[2], from);
  const quarter = await load('/tiers', 2000);
  assert.deepEqual(quarter.failures, []);
  assertShares(level(quarter.served), { p0: 0.35, p1: 0.65 }, 'levels, primaries 1/4 usable');
});
