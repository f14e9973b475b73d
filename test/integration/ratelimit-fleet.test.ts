// engine-independent: the Redis leases are shared by both engines; ratelimit.test covers the 429 path on both, so the suite runs it once (package.json "test").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { count, flood, pacedLoad, type LoadResult } from '../support/paced-load.js';

/*
 * One fleet-wide rate limit held by three Switchyard nodes through one real Redis (issue 18,
 * item 2): the fleet admits the configured rate within ±10%; with Redis stopped every node
 * falls back to its share (rate ÷ participants) and no request fails beyond the limit's 429s.
 */

const RATE = 30;
let backends: Backend[];
let redis: TestRedis;
const nodes: Switchyard[] = [];
let admin = '';
const agents = [0, 1, 2].map(() => new Agent({ connections: 16 }));

before(async () => {
  backends = await startBackends(1);
  redis = await startRedis();
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const extra: Record<string, unknown> = { rateLimiting: { redis: redis.url } };
    if (i === 0) extra.admin = { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(mkdtempSync(join(tmpdir(), 'swy-rlf-')), 'audit.log') } };
    nodes.push(await startSwitchyard(baseConfig(port, { app: { backends: backends.map((b) => ({ address: b.address })) } }, [
      { name: 'free', match: { path: { prefix: '/free' } }, service: 'app' },
      { name: 'api', match: { path: { prefix: '/' } }, service: 'app', rateLimits: [{ name: 'fleet', rate: RATE, period: '1s', key: { by: 'global' }, scope: 'fleet' }] },
    ], extra)));
  }
});

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await redis.close();
  await Promise.all(backends.map((b) => b.close()));
});

/** Every node at `perNode` requests per second for `ms`. */
const loadAll = (perNode: number, ms: number) => Promise.all(nodes.map((n, i) => pacedLoad(`${n.url}/x`, agents[i], perNode, ms)));
const admitted = (rs: LoadResult[]) => rs.reduce((s, r) => s + count(r, 200), 0);
const span = (rs: LoadResult[]) => Math.max(...rs.map((r) => r.spanMs)) / 1000;
const onlyLimitAnswers = (rs: LoadResult[]) => rs.every((r) => count(r, 200) + count(r, 429) === r.sent);

test('three nodes on one Redis hold one fleet-wide limit within ±10% at 3x the limit', { timeout: 60_000 }, async (t) => {
  await Promise.all(nodes.map((n, i) => flood(`${n.url}/free`, agents[i], 16, 300))); // connections open, code warm
  const rs = await loadAll(RATE, 6000);
  assert.ok(onlyLimitAnswers(rs), JSON.stringify(rs.map((r) => [...r.byStatus])));
  // The burst (default: the rate, one second's worth) is excluded from the long-run rate.
  const perSecond = (admitted(rs) - RATE) / span(rs);
  t.diagnostic(`fleet admitted ${perSecond.toFixed(2)}/s beyond the burst (configured ${RATE}/s); per node ${rs.map((r) => count(r, 200)).join(', ')} over ${span(rs).toFixed(2)} s`);
  assert.ok(Math.abs(perSecond - RATE) <= RATE * 0.1, `fleet admitted ${perSecond}/s, configured ${RATE}/s`);
});

test('Redis stopped mid-load: no request fails beyond the limit; each node falls back to its share, counted', { timeout: 60_000 }, async (t) => {
  const during = loadAll(RATE, 4000);
  await sleep(1000);
  await redis.stop();
  const rs = await during;
  assert.ok(onlyLimitAnswers(rs), `only 200 and 429 while Redis went away: ${JSON.stringify(rs.map((r) => [...r.byStatus]))}`);
  await sleep(1200); // every share bucket refills to its burst
  const fb = await loadAll(RATE, 5000);
  assert.ok(onlyLimitAnswers(fb), JSON.stringify(fb.map((r) => [...r.byStatus])));
  const share = RATE / 3;
  for (const [i, r] of fb.entries()) {
    const perSecond = (count(r, 200) - share) / (r.spanMs / 1000);
    t.diagnostic(`node ${i} in fallback: ${perSecond.toFixed(2)}/s beyond its burst share (share ${share}/s)`);
    assert.ok(Math.abs(perSecond - share) <= share * 0.1, `node ${i}: ${perSecond}/s, share ${share}/s`);
  }
  const metrics = await (await request(`${admin}/metrics`)).body.text();
  const fallback = Number(/switchyard_ratelimit_fallback_total\{limit="route:api:fleet"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  assert.ok(fallback >= count(fb[0], 200) + count(fb[0], 429) - 5, `fallback decisions counted on node 0: ${fallback}`);
  await redis.start();
});
