import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, rawRequest, sleep, type Backend, type Switchyard } from './harness.js';
import { clientFrom, count, flood, pacedLoad, quantile } from '../support/paced-load.js';

/*
 * Request rate limits on one node (issue 18): 429 with Retry-After and the IETF draft's
 * RateLimit fields past the budget, the admitted rate per client, independence of keys, shadow
 * mode, carry-over across reloads. Clients are told apart by their source address (127.0.0.x).
 */

let backends: Backend[];
before(async () => { backends = await startBackends(1); });
after(async () => { await Promise.all(backends.map((b) => b.close())); });

async function start(limits: unknown[], extra: Record<string, unknown> = {}): Promise<{ sy: Switchyard; admin: string; config: Record<string, unknown> }> {
  const port = await freePort();
  const adminPort = await freePort();
  const config = baseConfig(port, { app: { backends: backends.map((b) => ({ address: b.address })) } },
    [{ name: 'free', match: { path: { prefix: '/free' } }, service: 'app' }, { name: 'api', match: { path: { prefix: '/' } }, service: 'app', rateLimits: limits }],
    { admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(mkdtempSync(join(tmpdir(), 'swy-rl-')), 'audit.log') } }, ...extra });
  return { sy: await startSwitchyard(config), admin: `http://127.0.0.1:${adminPort}`, config };
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await request(url, { headers });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
};

/** Polls the admin API's rate-limit view until `ok` holds (the primary collects about once a second). */
async function rateLimitsWhen(admin: string, ok: (limits: { id: string; allowed: number; limited: number; shadowLimited: number; top: { key: string; limited: number }[] }[]) => boolean) {
  let last: unknown;
  for (let i = 0; i < 60; i++) {
    const body = await (await request(`${admin}/api/ratelimits`)).body.json() as { limits: Parameters<typeof ok>[0] };
    last = body;
    if (ok(body.limits)) return body.limits;
    await sleep(100);
  }
  assert.fail(`rate limits never matched: ${JSON.stringify(last)}`);
}

test('past its budget a route answers 429 with Retry-After, RateLimit-Policy and RateLimit, never forwarded; upgrades too', { timeout: 30_000 }, async () => {
  const { sy } = await start([{ name: 'per-ip', rate: 5, period: '1m', burst: 5 }]);
  try {
    const seenBefore = backends[0].seen.length;
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await get(`${sy.url}/x`));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 429, 429, 429]);
    assert.equal(backends[0].seen.length - seenBefore, 5, 'refused requests never reach the backend');
    const no = answers[7];
    assert.equal(no.headers['ratelimit-policy'], '"per-ip";q=5;w=60');
    assert.match(String(no.headers.ratelimit), /^"per-ip";r=0;t=(1[12])$/);
    assert.match(String(no.headers['retry-after']), /^1[12]$/);
    assert.equal(no.headers.ratelimit, `"per-ip";r=0;t=${no.headers['retry-after']}`);
    assert.match(no.body, /SWY_RATE_LIMITED/);
    // An Upgrade header is no way around it (both engines hand upgrades to the same tunnel code).
    const port = new URL(sy.url).port;
    const up = await rawRequest(Number(port), 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.match(up, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.match(up, /\r\nretry-after: \d+\r\n/i);
    // A refused POST with a body: answered, the connection closed, nothing forwarded.
    const post = await rawRequest(Number(port), 'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    assert.match(post, /^HTTP\/1\.1 429 /);
    assert.equal(backends[0].seen.length - seenBefore, 5);
  } finally {
    await sy.stop();
  }
});

test('each client gets the configured rate within ±5% at 3x the limit, from three source addresses', { timeout: 60_000 }, async (t) => {
  // A burst of two seconds' worth absorbs the jitter of arrivals on a busy machine (with burst 1,
  // a request 1 ms early is refused and the next one admitted arrives late; a process stalled
  // for longer than the burst lasts loses what arrived meanwhile); the long-run rate excludes it.
  const rate = 20;
  const burst = rate * 2;
  const { sy } = await start([{ name: 'per-ip', rate, period: '1s', burst }]);
  const clients = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((a) => clientFrom(a));
  try {
    // Connections open and code warm first (on an unlimited route): a slow start would shorten the run.
    await Promise.all(clients.map((c) => flood(`${sy.url}/free`, c, 16, 300)));
    const results = await Promise.all(clients.map((c) => pacedLoad(`${sy.url}/x`, c, rate * 3, 6000)));
    for (const [i, r] of results.entries()) {
      const perSecond = Math.round(((count(r, 200) - burst) / (r.spanMs / 1000)) * 100) / 100;
      t.diagnostic(`client ${i}: ${perSecond}/s admitted beyond the burst over ${Math.round(r.spanMs)} ms (configured ${rate}/s), ${count(r, 429)} × 429`);
      assert.ok(Math.abs(perSecond - rate) <= rate * 0.05, `client ${i}: ${perSecond}/s admitted, configured ${rate}/s (${JSON.stringify([...r.byStatus])})`);
      assert.equal(count(r, 200) + count(r, 429), r.sent, 'every other answer is a 429');
      // (Arrivals at the proxy may trail the sends by a moment on a busy machine: a quarter second of slack.)
      assert.ok(count(r, 200) <= burst + rate * (r.spanMs / 1000 + 0.25), `never more than the burst plus the rate: ${count(r, 200)}`);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await sy.stop();
  }
});

test('limits on two keys are independent: a flooding address does not limit (or much slow) another', { timeout: 60_000 }, async (t) => {
  const { sy } = await start([{ name: 'per-ip', rate: 50, period: '1s', burst: 10 }]);
  const [a, b] = [clientFrom('127.0.0.2', 8), clientFrom('127.0.0.3')];
  try {
    const alone = await pacedLoad(`${sy.url}/x`, b, 20, 3000);
    const [flooded, withFlood] = await Promise.all([flood(`${sy.url}/x`, a, 8, 3000), pacedLoad(`${sy.url}/x`, b, 20, 3000)]);
    assert.equal(count(alone, 200), alone.sent);
    assert.equal(count(withFlood, 200), withFlood.sent, 'the second address is never limited');
    assert.ok(count(flooded, 429) > count(flooded, 200), `the flooding address is limited: ${JSON.stringify([...flooded.byStatus])}`);
    const [p99alone, p99flood] = [quantile(alone.latencies, 0.99), quantile(withFlood.latencies, 0.99)];
    t.diagnostic(`second address p99: ${p99alone.toFixed(1)} ms alone, ${p99flood.toFixed(1)} ms during the flood (${count(flooded, 429)} × 429 to the flooder)`);
    // Loose: the flood shares the worker's CPU, but its requests are answered without a backend.
    assert.ok(p99flood < p99alone * 5 + 25, `p99 ${p99flood.toFixed(1)} ms with the flood vs ${p99alone.toFixed(1)} ms alone`);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await sy.stop();
  }
});

test('shadow mode forwards everything and counts what it would refuse (metrics, admin top list)', { timeout: 30_000 }, async () => {
  const { sy, admin } = await start([{ name: 'try-me', rate: 2, period: '1m', burst: 2, mode: 'shadow' }]);
  try {
    const seenBefore = backends[0].seen.length;
    for (let i = 0; i < 20; i++) assert.equal((await get(`${sy.url}/x`)).status, 200);
    assert.equal(backends[0].seen.length - seenBefore, 20);
    const limits = await rateLimitsWhen(admin, (l) => l.some((x) => x.shadowLimited === 18));
    const mine = limits.find((x) => x.id === 'route:api:try-me')!;
    assert.equal(mine.allowed, 2);
    assert.equal(mine.limited, 0);
    assert.deepEqual(mine.top, [{ key: '127.0.0.1', limited: 18 }]);
    const metrics = await (await request(`${admin}/metrics`)).body.text();
    assert.match(metrics, /switchyard_ratelimit_requests_total\{limit="route:api:try-me",result="shadow_limited"\} 18/);
    assert.match(metrics, /switchyard_ratelimit_requests_total\{limit="route:api:try-me",result="allowed"\} 2/);
  } finally {
    await sy.stop();
  }
});

test('a reload that keeps a limit keeps its state (shadow → enforce too); changing the limit starts it over', { timeout: 30_000 }, async () => {
  const limit = { name: 'per-ip', rate: 3, period: '1m', burst: 3 };
  const { sy, config } = await start([{ ...limit, mode: 'shadow' }]);
  try {
    for (let i = 0; i < 4; i++) assert.equal((await get(`${sy.url}/x`)).status, 200, 'shadow: forwarded');
    const routes = config.routes as Record<string, unknown>[];
    let mark = sy.output().length;
    // Same limit, now enforced, and another route added: the budget spent in shadow mode is still spent.
    sy.writeConfig({ ...config, routes: [{ name: 'other', match: { path: { prefix: '/other' } }, service: 'app' }, routes[0], { ...routes[1], rateLimits: [limit] }] });
    await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
    assert.equal((await get(`${sy.url}/x`)).status, 429, 'the budget spent before the reload is still spent');
    mark = sy.output().length;
    sy.writeConfig({ ...config, routes: [routes[0], { ...routes[1], rateLimits: [{ ...limit, rate: 4, burst: 4 }] }] });
    await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
    assert.equal((await get(`${sy.url}/x`)).status, 200, 'a changed limit starts with a full budget');
  } finally {
    await sy.stop();
  }
});

test('HTTP/2 streams past the budget get 429 with the same fields', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-rl-h2-'));
  const [key, cert] = [join(dir, 'site.key'), join(dir, 'site.crt')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=site.test', '-addext', 'subjectAltName=DNS:site.test'], { stdio: 'ignore' });
  const port = await freePort();
  const config = baseConfig(port, { app: { backends: backends.map((b) => ({ address: b.address })) } },
    [{ name: 'api', match: { path: { prefix: '/' } }, service: 'app', rateLimits: [{ name: 'per-ip', rate: 2, period: '1m' }] }]);
  config.listeners = [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] } }];
  const sy = await startSwitchyard(config);
  const session = h2connect(`https://127.0.0.1:${port}`, { servername: 'site.test', rejectUnauthorized: false });
  try {
    const one = () => new Promise<Record<string, unknown>>((resolve, reject) => {
      const st = session.request({ ':path': '/x', ':authority': 'site.test' });
      st.on('response', (h) => { st.resume(); st.on('end', () => resolve(h)); });
      st.on('error', reject);
      st.end();
    });
    const answers = [await one(), await one(), await one()];
    assert.deepEqual(answers.map((h) => h[':status']), [200, 200, 429]);
    assert.equal(answers[2]['ratelimit-policy'], '"per-ip";q=2;w=60');
    assert.match(String(answers[2].ratelimit), /^"per-ip";r=0;t=\d+$/);
    assert.match(String(answers[2]['retry-after']), /^\d+$/);
  } finally {
    session.close();
    await sy.stop();
  }
});
