import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startControlBackend, type ControlBackend } from '../support/control-backend.js';
import { startSwitchyard, freePort, baseConfig, sleep, type Switchyard } from './harness.js';

/*
 * Health, ejection and breakers end to end: real Switchyard, controllable real backends. Each
 * test starts its own Switchyard so the state machines start fresh.
 */

let backends: ControlBackend[];
const agent = new Agent({ connections: 32 });

before(async () => {
  backends = await Promise.all(['a', 'b', 'c'].map((n) => startControlBackend(n)));
});

after(async () => {
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function start(service: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Switchyard> {
  for (const b of backends) { b.set({ kind: 'ok' }); if (!b.listening) await b.start(); }
  const port = await freePort();
  return startSwitchyard(baseConfig(port, {
    app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })), ...service },
  }, undefined, extra));
}

/** `conns` loops sending GETs for `ms`; returns status counts and the backends that answered. */
async function load(sy: Switchyard, conns: number, ms: number) {
  const stats = { ok: 0, failed: 0, by: new Map<string, number>() };
  const end = Date.now() + ms;
  await Promise.all(Array.from({ length: conns }, async () => {
    for (let i = 0; i < 100_000 && Date.now() < end; i++) {
      try {
        const r = await request(`${sy.url}/x`, { dispatcher: agent });
        const text = await r.body.text();
        if (r.statusCode === 200) {
          stats.ok++;
          const name = (JSON.parse(text) as { backend: string }).backend;
          stats.by.set(name, (stats.by.get(name) ?? 0) + 1);
        } else stats.failed++;
      } catch { stats.failed++; }
    }
  }));
  return stats;
}

test('a dead backend under load is ejected; the others carry the traffic', { timeout: 30_000 }, async (t) => {
  const sy = await start({});
  try {
    await load(sy, 4, 300);
    const mark = sy.output().length;
    const killedAt = Date.now();
    await backends[1].stop();
    const during = load(sy, 8, 2000);
    const line = await sy.waitForLog(/"msg":"outlier: app\/127\.0\.0\.1:\d+ → ejected"/, 5000, mark);
    // How fast is measured by bench/resilience.mjs on a quiet machine, not asserted here.
    t.diagnostic(`ejected ${Date.now() - killedAt} ms after the kill`);
    assert.ok(line.includes(String(backends[1].port)), line);
    const s = await during;
    // Requests that met the dead backend before its ejection were retried on another one.
    assert.equal(s.failed, 0, `failed ${s.failed}`);
    assert.ok((s.by.get('a') ?? 0) > 50 && (s.by.get('c') ?? 0) > 50, JSON.stringify([...s.by]));
    const after = await load(sy, 4, 500);
    assert.equal(after.failed, 0);
    assert.equal(after.by.get('b') ?? 0, 0, 'the ejected backend gets nothing');
  } finally {
    await sy.stop();
  }
});

test('a breaker opens on a 50% error rate over 20 requests and takes the backend out of picking', { timeout: 30_000 }, async () => {
  const sy = await start({ outlierDetection: { enabled: false } });
  try {
    const mark = sy.output().length;
    const first = backends[2].requests;
    backends[2].set({ kind: 'status', status: 500 });
    const s = await load(sy, 2, 1500);
    const line = await sy.waitForLog(/"msg":"breaker: app\/127\.0\.0\.1:\d+ → open"/, 5000, mark);
    assert.ok(line.includes(String(backends[2].port)), line);
    // The breaker trips on the 20th failure of that backend (requestVolumeThreshold); with two
    // requests in flight, one more may have been picked before the 20th answer came back.
    const reached = backends[2].requests - first;
    assert.ok(reached >= 20 && reached <= 21, `${reached} requests reached the failing backend`);
    assert.equal(s.failed, reached, 'every failure is one of its 500s, none of another backend');
    const before = backends[2].requests;
    const again = await load(sy, 2, 500);
    assert.equal(again.failed, 0);
    assert.equal(backends[2].requests, before, 'no request reaches a backend whose breaker is open');
  } finally {
    await sy.stop();
  }
});

test('active health checks mark a backend unhealthy and back, once for all workers', { timeout: 30_000 }, async () => {
  const sy = await start({
    healthCheck: { path: '/health', interval: '100ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 2 },
    slowStart: 0, // back at full share at once, so the check below is not left to chance
  }, { workers: 2 });
  try {
    const mark = sy.output().length;
    backends[0].set({ kind: 'status', status: 503 }, 'health');
    await sy.waitForLog(/"msg":"health: app\/127\.0\.0\.1:\d+ → unhealthy"/, 5000, mark);
    await sleep(200);
    const before = backends[0].requests;
    const s = await load(sy, 2, 400);
    assert.equal(s.failed, 0);
    assert.equal(backends[0].requests, before, 'an unhealthy backend gets no traffic');
    const mark2 = sy.output().length;
    backends[0].set({ kind: 'ok' }, 'health');
    await sy.waitForLog(/"msg":"health: app\/127\.0\.0\.1:\d+ → healthy"/, 5000, mark2);
    await sleep(200);
    const back = await load(sy, 2, 400);
    assert.ok((back.by.get('a') ?? 0) > 0, 'back in rotation');
    // Checked once per node, not once per worker: at most one check per shortest interval elapsed
    // (100 ms less the checker's 10% jitter; a loaded machine may delay checks, never add any),
    // plus one at the window's edges, where two workers would make two per interval.
    const checks = backends[1].healthRequests;
    const t0 = Date.now();
    await sleep(2000);
    const rate = backends[1].healthRequests - checks;
    const intervals = (Date.now() - t0) / 90;
    assert.ok(rate >= 1 && rate <= intervals + 1, `${rate} checks in ${intervals.toFixed(1)} intervals of 90 ms`);
  } finally {
    await sy.stop();
  }
});

test('a backend set to draining in config gets no new requests', { timeout: 30_000 }, async () => {
  const sy = await start({});
  try {
    const cfg = baseConfig(sy.port, {
      app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b, i) => ({ address: b.address, draining: i === 0 })) },
    });
    const mark = sy.output().length;
    sy.writeConfig(cfg);
    await sy.waitForLog(/"msg":"config applied"/, 10_000, mark);
    const before = backends[0].requests;
    const s = await load(sy, 2, 400);
    assert.equal(s.failed, 0);
    assert.equal(backends[0].requests, before);
  } finally {
    await sy.stop();
  }
});

test('connection failures are retried at once on another backend: no client-visible error', { timeout: 30_000 }, async () => {
  const sy = await start({ outlierDetection: { enabled: false }, circuitBreaker: { enabled: false } });
  try {
    await backends[1].stop();
    const s = await load(sy, 1, 800);
    assert.equal(s.failed, 0);
    assert.ok(s.ok > 20, `only ${s.ok}`);
    assert.equal(s.by.get('b') ?? 0, 0);
  } finally {
    await sy.stop();
  }
});

test('a 503 is retried once for GET on another backend, never for POST', { timeout: 30_000 }, async () => {
  const sy = await start({ outlierDetection: { enabled: false }, circuitBreaker: { enabled: false } });
  try {
    backends[0].set({ kind: 'status', status: 503 });
    const s = await load(sy, 1, 600);
    assert.equal(s.failed, 0, 'every GET that met the 503 was answered by another backend');
    const posts = await Promise.all(Array.from({ length: 6 }, async () => {
      const r = await request(`${sy.url}/p`, { method: 'POST', body: 'x', dispatcher: agent });
      await r.body.dump();
      return r.statusCode;
    }));
    assert.ok(posts.includes(503), `POSTs are not retried: ${posts}`);
  } finally {
    await sy.stop();
  }
});

test('the retry budget keeps upstream load near 1.2× when every backend fails', { timeout: 30_000 }, async () => {
  // Without the budget each failing GET is tried twice (2×); with it, retries stay ≤ 20% of active requests.
  const ratio = async (budgetPercent: number) => {
    // No per-second floor: retries ≤ budgetPercent% of the requests however few a loaded machine
    // gets through (a floor of 10/s allows 100 retries per 10 s window, a lot next to ~100 requests).
    const sy = await start({ outlierDetection: { enabled: false }, circuitBreaker: { enabled: false }, retries: { budgetPercent, budgetMinPerSecond: 0 } });
    try {
      for (const b of backends) b.set({ kind: 'status', status: 503 });
      const before = backends.reduce((n, b) => n + b.requests, 0);
      const s = await load(sy, 40, 1500);
      const upstream = backends.reduce((n, b) => n + b.requests, 0) - before;
      const client = s.ok + s.failed;
      assert.ok(client >= 50, `only ${client} requests`);
      return upstream / client;
    } finally {
      await sy.stop();
    }
  };
  const budgeted = await ratio(20);
  const unbounded = await ratio(100);
  assert.ok(budgeted <= 1.3, `upstream/client = ${budgeted.toFixed(2)} with the budget`);
  assert.ok(unbounded > 1.8, `upstream/client = ${unbounded.toFixed(2)} without it`);
});

test('bulkheads: a service whose backend hangs is capped with fast 503s + Retry-After; another service is unaffected', { timeout: 30_000 }, async (t) => {
  const port = await freePort();
  for (const b of backends) { b.set({ kind: 'ok' }); if (!b.listening) await b.start(); }
  backends[0].set({ kind: 'hang' });
  const before0 = backends[0].requests;
  const sy = await startSwitchyard(baseConfig(port, {
    a: { backends: [{ address: backends[0].address }], bulkhead: { maxConcurrent: 10, maxQueued: 5, queueTimeout: '200ms' }, timeouts: { request: '20s' } },
    b: { backends: [{ address: backends[1].address }, { address: backends[2].address }], bulkhead: { maxConcurrent: 10 } },
  }, [
    { match: { path: { prefix: '/a' } }, service: 'a' },
    { match: { path: { prefix: '/b' } }, service: 'b' },
  ]));
  const flood = new Agent({ connections: 60 });
  /** 100 sequential GETs to service b: outcome counts and p99 latency (ms). */
  const probeB = async () => {
    let ok = 0; let failed = 0;
    const ms: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      const r = await request(`${sy.url}/b`, { dispatcher: agent });
      await r.body.dump();
      ms.push(performance.now() - t0);
      if (r.statusCode === 200) ok++; else failed++;
    }
    ms.sort((x, y) => x - y);
    return { ok, failed, p99: ms[98] };
  };
  try {
    const unloaded = await probeB();
    // 40 requests to the hanging service: 10 in flight (they hang until the client gives up at
    // 3 s), 5 queued then refused at the 200 ms queue timeout, 25 refused at once as the queue is full.
    const t0 = Date.now();
    const floodResults = Array.from({ length: 40 }, async () => {
      try {
        const r = await request(`${sy.url}/a`, { dispatcher: flood, headersTimeout: 3000 });
        return { status: r.statusCode, retryAfter: r.headers['retry-after'], body: await r.body.text(), ms: Date.now() - t0 };
      } catch { return { status: 0, retryAfter: undefined, body: '', ms: Date.now() - t0 }; }
    });
    // Meanwhile service b answers every request. Its latency is reported, not asserted (a timing
    // assertion on a shared 2-core machine would be noise).
    const loaded = await probeB();
    assert.deepEqual({ ok: loaded.ok, failed: loaded.failed }, { ok: 100, failed: 0 });
    t.diagnostic(`service b p99: ${unloaded.p99.toFixed(2)} ms unloaded, ${loaded.p99.toFixed(2)} ms while a is saturated`);
    const results = await Promise.all(floodResults);
    const summary = JSON.stringify(results.map((r) => [r.status, r.ms, /\((full|timeout)\)/.exec(r.body)?.[1]]));
    // Only the 10 admitted requests hang; every other one is answered 503 + Retry-After, none waits for the client's timeout.
    assert.equal(results.filter((r) => r.status === 0).length, 10, summary);
    const refused = results.filter((r) => r.status === 503);
    assert.equal(refused.length, 30, summary);
    assert.ok(refused.every((r) => r.retryAfter === '1'), summary);
    // The queued ones leave at the queue timeout: never before it. A machine that delivers the
    // flood slowly may queue a few more than 5 (a freed queue place is taken again), never fewer.
    const timedOut = refused.filter((r) => r.body.includes('(timeout)'));
    const full = refused.filter((r) => r.body.includes('(full)'));
    assert.equal(timedOut.length + full.length, 30, summary);
    assert.ok(timedOut.length >= 5 && timedOut.every((r) => r.ms >= 200), summary);
    assert.ok(full.length >= 20, summary);
    const seen = backends[0].requests - before0;
    assert.equal(seen, 10, `the hanging backend saw ${seen} requests`);
  } finally {
    await flood.destroy();
    await sy.stop();
    backends[0].set({ kind: 'ok' });
  }
});

test('half-open: after the open window exactly halfOpenRequests trials reach the backend, then the breaker closes', { timeout: 30_000 }, async () => {
  // Slow start at its default (30 s): a half-open backend's trials are not ramped away (they were,
  // leaving trial slots taken by requests sent elsewhere, and the breaker reopened instead of closing).
  const sy = await start({ outlierDetection: { enabled: false }, circuitBreaker: { sleepWindow: '1s' } });
  const wide = new Agent({ connections: 40 });
  try {
    const mark = sy.output().length;
    backends[2].set({ kind: 'status', status: 500 });
    const opened = /"msg":"breaker: app\/[^"]*→ open"/;
    for (let i = 0; i < 300 && !opened.test(sy.output().slice(mark)); i++) await (await request(`${sy.url}/x`, { dispatcher: agent })).body.dump();
    await sy.waitForLog(opened, 5000, mark);
    // The trials take a while (less than the sleep window, after which an outstanding trial counts
    // as lost), so a burst meets the half-open breaker with its trials still running.
    backends[2].set({ kind: 'delay', ms: 400 });
    // Wait for half-open itself, not a fixed sleep: the worker's 250 ms ticker is what puts a backend
    // whose open window passed back into picking, so it half-opens 1000–1250 ms (or later, busy)
    // after the trip, and a burst sent before that tick gave the backend fewer than 5 trials.
    await sy.waitForLog(/"msg":"breaker: app\/[^"]*→ half-open"/, 5000, mark);
    const before = backends[2].requests;
    const statuses = await Promise.all(Array.from({ length: 30 }, async () => {
      const r = await request(`${sy.url}/burst`, { dispatcher: wide });
      const text = await r.body.text();
      return r.statusCode === 200 ? 200 : `${r.statusCode} ${text}`;
    }));
    assert.deepEqual(statuses, Array(30).fill(200));
    assert.equal(backends[2].requests - before, 5, 'exactly halfOpenRequests (5) trials reach the backend');
    await sy.waitForLog(/"msg":"breaker: app\/[^"]*→ half-open"[^]*"msg":"breaker: app\/[^"]*→ closed"/, 5000, mark);
    backends[2].set({ kind: 'ok' });
    const after = await load(sy, 1, 300);
    assert.ok((after.by.get('c') ?? 0) > 0, `closed: back in rotation ${JSON.stringify([...after.by])}`);
  } finally {
    await wide.close();
    await sy.stop();
  }
});

test('degradation: a stale copy of a GET (Age, Warning) when no backend answers, else the error page', { timeout: 30_000 }, async () => {
  for (const b of backends) { b.set({ kind: 'ok' }); if (!b.listening) await b.start(); }
  const port = await freePort();
  const sy = await startSwitchyard(baseConfig(port, {
    cached: { backends: [{ address: backends[0].address }], degradation: { staleCache: true } },
    paged: { backends: [{ address: backends[1].address }], degradation: { errorPage: { status: 503, contentType: 'text/plain', body: 'we will be right back' } } },
  }, [
    { match: { path: { prefix: '/cached' } }, service: 'cached' },
    { match: { path: { prefix: '/paged' } }, service: 'paged' },
  ]));
  try {
    const fresh = await request(`${sy.url}/cached/page`, { dispatcher: agent });
    const freshBody = await fresh.body.text();
    assert.equal(fresh.statusCode, 200);
    await backends[0].stop();
    await backends[1].stop();
    const stale = await request(`${sy.url}/cached/page`, { dispatcher: agent });
    assert.equal(stale.statusCode, 200);
    assert.equal(await stale.body.text(), freshBody, 'the last good response, byte for byte');
    assert.match(String(stale.headers.warning), /^110 /);
    assert.ok(Number(stale.headers.age) >= 0);
    const uncached = await request(`${sy.url}/cached/other`, { dispatcher: agent });
    assert.equal(uncached.statusCode, 502, 'nothing stale for a path never served');
    await uncached.body.dump();
    const page = await request(`${sy.url}/paged/x`, { dispatcher: agent });
    assert.equal(page.statusCode, 503);
    assert.equal(page.headers['content-type'], 'text/plain');
    assert.equal(await page.body.text(), 'we will be right back');
  } finally {
    await sy.stop();
    await backends[0].start();
    await backends[1].start();
  }
});

test('panic threshold: with too few healthy backends, traffic spreads over all of them', { timeout: 30_000 }, async () => {
  const sy = await start({
    healthCheck: { path: '/health', interval: '100ms', timeout: '500ms', unhealthyThreshold: 2 },
    degradation: { panicThreshold: 50 },
  });
  try {
    const mark = sy.output().length;
    backends[0].set({ kind: 'status', status: 503 }, 'health');
    backends[1].set({ kind: 'status', status: 503 }, 'health');
    await sy.waitForLog(/"msg":"health: app\/[^"]*→ unhealthy"[^]*"msg":"health: app\/[^"]*→ unhealthy"/, 5000, mark);
    await sleep(200);
    const s = await load(sy, 2, 500);
    assert.equal(s.failed, 0);
    for (const name of ['a', 'b', 'c']) assert.ok((s.by.get(name) ?? 0) > 0, `${name} gets traffic in panic mode: ${JSON.stringify([...s.by])}`);
  } finally {
    backends[0].set({ kind: 'ok' }, 'health');
    backends[1].set({ kind: 'ok' }, 'health');
    await sy.stop();
  }
});

test('a timeout is retried once with a longer per-try timeout; a small POST body is replayed after a refused connection', { timeout: 30_000 }, async () => {
  for (const b of backends) { b.set({ kind: 'ok' }); if (!b.listening) await b.start(); }
  const { startBackends } = await import('./harness.js');
  const [echo] = await startBackends(1, (req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; });
    req.on('end', () => res.end(JSON.stringify({ backend: 'echo', bytes: n })));
  });
  const deadPort = await freePort();
  const port = await freePort();
  const sy = await startSwitchyard(baseConfig(port, {
    slow: {
      balancer: { algorithm: 'round-robin' },
      backends: [{ address: backends[0].address }, { address: backends[1].address }],
      timeouts: { request: '1s' }, outlierDetection: { enabled: false }, circuitBreaker: { enabled: false },
    },
    post: {
      balancer: { algorithm: 'round-robin' },
      backends: [{ address: `127.0.0.1:${deadPort}` }, { address: echo.address }],
      outlierDetection: { enabled: false }, circuitBreaker: { enabled: false },
    },
  }, [
    { match: { path: { prefix: '/slow' } }, service: 'slow' },
    { match: { path: { prefix: '/post' } }, service: 'post' },
  ]));
  try {
    // Both backends answer after 1.5 s: over the 1 s first try, under the 2 s second one (half a
    // second either side, for a loaded machine's late timers).
    backends[0].set({ kind: 'delay', ms: 1500 });
    backends[1].set({ kind: 'delay', ms: 1500 });
    const r = await request(`${sy.url}/slow`, { dispatcher: agent });
    assert.equal(r.statusCode, 200, await r.body.text());
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await request(`${sy.url}/post`, { method: 'POST', body: Buffer.alloc(5000, 1), dispatcher: agent });
      const text = await p.body.text();
      statuses.push(p.statusCode);
      if (p.statusCode === 200) assert.equal((JSON.parse(text) as { bytes: number }).bytes, 5000);
    }
    // Both engines replay a body within retries.maxBufferedBody.
    assert.deepEqual(statuses, Array(6).fill(200));
  } finally {
    backends[0].set({ kind: 'ok' });
    backends[1].set({ kind: 'ok' });
    await sy.stop();
    await echo.close();
  }
});

test('a PUT whose backend resets after reading the body is retried on another backend with the same body (both engines)', { timeout: 30_000 }, async () => {
  const { startBackends } = await import('./harness.js');
  const got: string[] = [];
  const [resetter, echo] = await startBackends(2, (req, res, b) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (b.name === 'b0') { req.socket.destroy(); return; } // read the whole body, then reset
      const body = Buffer.concat(chunks).toString();
      got.push(body);
      res.end(JSON.stringify({ backend: b.name, body }));
    });
  });
  const port = await freePort();
  const sy = await startSwitchyard(baseConfig(port, {
    put: {
      balancer: { algorithm: 'round-robin' },
      backends: [{ address: resetter.address }, { address: echo.address }],
      outlierDetection: { enabled: false }, circuitBreaker: { enabled: false },
    },
  }));
  try {
    for (let i = 0; i < 4; i++) {
      const body = `payload-${i}-${'x'.repeat(3000)}`;
      const r = await request(`${sy.url}/item`, { method: 'PUT', body, dispatcher: agent });
      const text = await r.body.text();
      assert.equal(r.statusCode, 200, `try ${i}: ${text}`);
      assert.deepEqual(JSON.parse(text), { backend: 'b1', body });
    }
    assert.ok(resetter.seen.length >= 1, 'the resetting backend was tried');
    assert.equal(got.length, 4);
  } finally {
    await sy.stop();
    await resetter.close();
    await echo.close();
  }
});
