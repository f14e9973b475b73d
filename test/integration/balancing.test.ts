import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, type Backend, type Switchyard } from './harness.js';

/*
 * Each algorithm end to end, through a real Switchyard process to real backends: one service per
 * algorithm behind its own path prefix, three backends each. Backend b0 answers 10x slower than
 * b1 and b2 (50 ms vs 5 ms), which the load-aware algorithms must notice.
 */

let backends: Backend[];
/** Requests of the bounded-load service in flight at each backend now, and the most seen at once. */
const bounded = { now: new Map<string, number>(), max: 0 };
let sy: Switchyard;
const agent = new Agent({ connections: 64 });

const ALGORITHMS = ['round-robin', 'weighted-round-robin', 'random', 'least-connections', 'p2c', 'ewma', 'ring-hash', 'maglev', 'bounded-load'];

before(async () => {
  backends = await startBackends(3, (req, res, b) => {
    req.resume();
    const tracked = req.url!.startsWith('/bounded-load');
    if (tracked) {
      const n = (bounded.now.get(b.name) ?? 0) + 1;
      bounded.now.set(b.name, n);
      bounded.max = Math.max(bounded.max, n);
    }
    setTimeout(() => {
      if (tracked) bounded.now.set(b.name, bounded.now.get(b.name)! - 1);
      res.end(b.name);
    }, b.name === 'b0' ? 50 : 5);
  });
  const port = await freePort();
  const services: Record<string, unknown> = {};
  const routes: unknown[] = [];
  for (const a of ALGORITHMS) {
    services[a] = {
      balancer: { algorithm: a },
      hashKey: { source: 'header', name: 'x-user' },
      backends: backends.map((b, i) => ({ address: b.address, weight: a === 'weighted-round-robin' || a === 'random' ? i + 1 : 1 })),
    };
    routes.push({ match: { path: { prefix: `/${a}` } }, service: a });
  }
  sy = await startSwitchyard(baseConfig(port, services, routes));
});

after(async () => {
  await sy?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function hit(path: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await request(`${sy.url}${path}`, { headers, dispatcher: agent });
  const text = await r.body.text();
  assert.equal(r.statusCode, 200, text);
  return text;
}

/** Sends `n` requests with `concurrency` in flight; returns the count per backend. */
async function spread(path: string, n: number, concurrency: number, key?: (i: number) => string): Promise<Record<string, number>> {
  const counts: Record<string, number> = { b0: 0, b1: 0, b2: 0 };
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const b = await hit(path, key ? { 'x-user': key(i) } : {});
      counts[b]++;
    }
  }));
  return counts;
}

test('round-robin rotates exactly', async () => {
  assert.deepEqual(await spread('/round-robin', 30, 1), { b0: 10, b1: 10, b2: 10 });
});

test('weighted-round-robin follows weights 1:2:3 exactly per period', async () => {
  assert.deepEqual(await spread('/weighted-round-robin', 60, 1), { b0: 10, b1: 20, b2: 30 });
});

test('random follows weights 1:2:3 roughly', async () => {
  const c = await spread('/random', 600, 8);
  assert.ok(c.b0 < c.b1 && c.b1 < c.b2, JSON.stringify(c));
  assert.ok(c.b0 > 40, JSON.stringify(c));
});

test('bounded-load moves a hot key off a loaded backend', async () => {
  // All requests carry one key; with 12 in flight no backend may exceed ceil(1.25 * 12 / 3) = 5
  // (one worker; a backend counts a request from its arrival to its answer, inside the proxy's count).
  bounded.max = 0;
  const c = await spread('/bounded-load', 240, 12, () => 'hot-key');
  assert.ok(Object.values(c).filter((n) => n > 0).length >= 2, JSON.stringify(c));
  assert.ok(bounded.max <= 5, `a backend had ${bounded.max} requests in flight at once (cap 5)`);
  assert.ok(bounded.max >= 3, `the load reached the backends (${bounded.max} at most in flight at one)`);
});

for (const a of ['least-connections', 'p2c', 'ewma']) {
  test(`${a} sends less to the 10x slower backend`, async () => {
    const c = await spread(`/${a}`, 600, 12);
    const share = c.b0 / 600;
    assert.ok(share < 0.2, `${a}: slow backend got ${(share * 100).toFixed(1)}% (${JSON.stringify(c)})`);
    assert.ok(c.b1 > 150 && c.b2 > 150, JSON.stringify(c));
  });
}

for (const a of ['ring-hash', 'maglev', 'bounded-load']) {
  test(`${a} keeps a key on one backend and spreads many keys`, async () => {
    const sticky = await spread(`/${a}`, 30, 1, () => 'user-42');
    assert.equal(Object.values(sticky).filter((n) => n > 0).length, 1, JSON.stringify(sticky));
    // One at a time, so bounded-load's load cap (which rightly avoids the slow b0) stays out of it.
    const many = await spread(`/${a}`, 150, 1, (i) => `user-${i}`);
    for (const n of Object.values(many)) assert.ok(n > 20, `${a}: ${JSON.stringify(many)}`);
  });
}
