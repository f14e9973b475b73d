import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, rawRequest, sleep, type Backend, type Switchyard } from './harness.js';

/*
 * A reload is all or nothing on every worker (issue 15 §2): a config rejected at any stage — a
 * port already taken, a certificate only a worker reads, a worker that does not answer — changes
 * nothing while traffic flows (split, weights, drains, breakers, ejections, listeners, open
 * sockets, version, metrics), and the same file saved again once the cause is gone is applied.
 */

/** Every backend answers with its name, except b3, which always fails (its breaker opens, it is ejected). */
async function backendsWithOneFailing(): Promise<Backend[]> {
  return startBackends(4, (req, res, b) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ backend: b.name });
      res.writeHead(b.name === 'b3' ? 503 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

/** b2 drained in the config, b3 failing; slow breaker and ejection clocks so both stay put during the test. */
function services(backends: Backend[], weights: number[], changed = false): Record<string, unknown> {
  return {
    app: {
      balancer: { algorithm: 'weighted-round-robin' },
      backends: backends.map((b, i) => ({ address: b.address, weight: weights[i], ...(i === 2 && !changed ? { draining: true } : {}) })),
      circuitBreaker: { requestVolumeThreshold: changed ? 4 : 3, sleepWindow: '5m' },
      outlierDetection: changed ? { enabled: false } : { consecutiveFailures: 3, baseEjectionTime: '5m', maxEjectionTime: '10m' },
    },
  };
}

/** Sequential GETs on `concurrency` keep-alive connections, bounded in count and time; counts answers by backend. */
function startLoad(url: string, concurrency: number, maxRequests = 40_000, maxMs = 90_000) {
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  const hits = new Map<string, number>();
  const failures: string[] = [];
  let count = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loop = async () => {
    while (!stopped && count < maxRequests && Date.now() < deadline) {
      count++;
      try {
        const r = await request(`${url}/load`, { dispatcher: agent });
        const text = await r.body.text();
        if (r.statusCode !== 200) { failures.push(`${r.statusCode} ${text}`); continue; }
        const b = (JSON.parse(text) as { backend: string }).backend;
        hits.set(b, (hits.get(b) ?? 0) + 1);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, loop));
  return {
    failures,
    /** Requests per backend over the next `n` answers. */
    async split(n: number): Promise<Record<string, number>> {
      const from = new Map(hits);
      const target = count + n;
      while (count < target && !stopped && Date.now() < deadline) await sleep(10);
      const out: Record<string, number> = {};
      for (const name of ['b0', 'b1', 'b2', 'b3']) out[name] = (hits.get(name) ?? 0) - (from.get(name) ?? 0);
      return out;
    },
    async stop() { stopped = true; await done; await agent.close(); },
  };
}
type Load = ReturnType<typeof startLoad>;

/** The admin API of a node. */
function adminOf(address: string) {
  const url = `http://${address}`;
  const get = async (path: string) => {
    const r = await request(`${url}${path}`);
    return r.statusCode === 200 ? r.body.json() as Promise<Record<string, unknown>> : Promise.reject(new Error(`${path}: ${r.statusCode} ${await r.body.text()}`));
  };
  return {
    get,
    async post(path: string): Promise<Record<string, unknown>> {
      const r = await request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return r.body.json() as Promise<Record<string, unknown>>;
    },
    async metric(name: string, labels: string): Promise<number> {
      const text = await (await request(`${url}/metrics`)).body.text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
    /** The config version and listeners the node reports. */
    async status(): Promise<{ configVersion: number; listeners: unknown }> {
      const s = await get('/api/status');
      return { configVersion: s.configVersion as number, listeners: s.listeners };
    },
    /** Every backend's state as the workers report it, once a fresh collection (1 s) came in. */
    async backends(): Promise<unknown[]> {
      await sleep(1300);
      const s = (await get('/api/services')).services as { backends: Record<string, unknown>[] }[];
      return s[0].backends.map((b) => ({ key: b.key, weight: b.weight, draining: b.draining, ejected: b.ejected, breaker: b.breaker, state: b.state }));
    },
  };
}
type Admin = ReturnType<typeof adminOf>;

/** Open file descriptors of the primary and each worker. */
function fdCounts(sy: Switchyard): number[] {
  return [sy.proc.pid!, ...sy.workerPids().sort()].map((pid) => readdirSync(`/proc/${pid}/fd`).length);
}

/** True when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve) => { const s = createServer(); s.listen(port, '127.0.0.1', () => resolve(s)); });
}

/** Waits until b3 (failing) is out of every worker's picking: it gets no request over 300 answers. */
async function untilFailingBackendOut(load: Load): Promise<void> {
  for (let i = 0; i < 40; i++) if ((await load.split(300)).b3 === 0) return;
  assert.fail('b3 was never taken out of picking');
}

/** b0 and b1 share traffic evenly (weights 1:1); drained b2 and ejected b3 get none. */
function assertEvenSplit(s: Record<string, number>, when: string): void {
  const share = s.b0 / (s.b0 + s.b1);
  assert.ok(share > 0.35 && share < 0.65, `${when}: b0:b1 split ${JSON.stringify(s)}`);
  assert.equal(s.b2, 0, `${when}: drained b2 gets nothing ${JSON.stringify(s)}`);
  assert.equal(s.b3, 0, `${when}: ejected b3 gets nothing ${JSON.stringify(s)}`);
}

/**
 * Forces a balancer rebuild in every worker — an undrain and drain of b2 (drained in the config) —
 * which is when a leaked weight would show (b0 and b1 stay in picking: no slow-start ramp).
 */
async function refreshBalancers(admin: Admin, b2: Backend): Promise<void> {
  assert.equal((await admin.post(`/api/backends/app/${encodeURIComponent(b2.address)}/undrain`)).ok, true);
  assert.equal((await admin.post(`/api/backends/app/${encodeURIComponent(b2.address)}/drain`)).ok, true);
}

/** What must not move when a reload is rejected. */
async function observe(sy: Switchyard, admin: Admin, load: Load) {
  return { status: await admin.status(), backends: await admin.backends(), split: await load.split(400), fds: fdCounts(sy) };
}

async function assertUnchanged(sy: Switchyard, admin: Admin, load: Load, b2: Backend, before: Awaited<ReturnType<typeof observe>>, newPorts: number[], rejected: number): Promise<void> {
  await refreshBalancers(admin, b2);
  const after = await observe(sy, admin, load);
  assert.deepEqual(after.status, before.status, 'version and listeners as before');
  assert.deepEqual(after.backends, before.backends, 'weights, drains, breakers and ejections as before');
  assertEvenSplit(after.split, 'after the rejections');
  for (const p of newPorts) assert.equal(await listening(p), false, `port ${p} of the rejected config is not listening`);
  assert.equal(await listening(sy.port), true);
  assert.equal(after.fds.length, before.fds.length);
  after.fds.forEach((n, i) => assert.ok(n <= before.fds[i] + 2, `fds of ${i === 0 ? 'the primary' : `worker ${i}`}: ${before.fds[i]} before, ${n} after`));
  assert.equal(await admin.metric('switchyard_config_reloads_total', 'result="rejected"'), rejected);
  assert.equal(await admin.metric('switchyard_config_reloads_total', 'result="applied"'), 0);
  assert.deepEqual(load.failures, [], 'no failed request while reloads were rejected');
}

/** Saves the config again (same content) and waits for it to be applied; returns the split after. */
async function resaveAndApply(sy: Switchyard, admin: Admin, load: Load, config: Record<string, unknown>, before: Awaited<ReturnType<typeof observe>>): Promise<void> {
  const mark = sy.output().length;
  sy.writeConfig(config);
  await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
  const status = await admin.status();
  assert.equal(status.configVersion, before.status.configVersion + 1);
  for (const l of config.listeners as { address: string }[]) assert.equal(await listening(Number(l.address.split(':')[1])), true, `${l.address} listens`);
  const s = await load.split(400);
  assert.ok(s.b0 / (s.b0 + s.b1) > 0.75, `new weights 9:1 in force: ${JSON.stringify(s)}`);
  assert.equal(await admin.metric('switchyard_config_reloads_total', 'result="applied"'), 1);
}

test('workers: 1 — a reload rejected for a busy port (21 times, under load) changes nothing and leaks no socket; saved again once the port is free, it applies', { timeout: 120_000 }, async () => {
  const backends = await backendsWithOneFailing();
  const [busyPort, extraPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const holder = await holdPort(busyPort);
  let sy: Switchyard | undefined;
  let load: Load | undefined;
  try {
    const port = await freePort();
    const good = baseConfig(port, services(backends, [1, 1, 1, 1]), undefined, { workers: 1, admin: { address: `127.0.0.1:${adminPort}` } });
    sy = await startSwitchyard(good);
    const admin = adminOf(`127.0.0.1:${adminPort}`);
    load = startLoad(sy.url, 1);
    await untilFailingBackendOut(load);
    const before = await observe(sy, admin, load);
    assertEvenSplit(before.split, 'before');

    // New weights, b2 undrained, other breaker settings, outlier detection off, a new listener
    // that can open and one that cannot.
    const bad = { ...good, services: services(backends, [9, 1, 1, 1], true), listeners: [
      ...(good.listeners as unknown[]), { name: 'extra', address: `127.0.0.1:${extraPort}` }, { name: 'busy', address: `127.0.0.1:${busyPort}` },
    ] };
    const mark = sy.output().length;
    sy.writeConfig(bad);
    assert.match(await sy.waitForLog(/"msg":"config rejected[^\n]*/, 15_000, mark), /EADDRINUSE/);
    for (let i = 0; i < 20; i++) {
      const r = await admin.post('/api/reload');
      assert.equal(r.result, 'rejected', JSON.stringify(r));
      assert.equal(r.version, before.status.configVersion);
      assert.match(String(r.errors), /EADDRINUSE/);
    }
    await assertUnchanged(sy, admin, load, backends[2], before, [extraPort], 21);
    console.log(`fds (primary, worker) before ${before.fds.join(', ')}; after 21 rejections ${fdCounts(sy).join(', ')}`);

    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await resaveAndApply(sy, admin, load, bad, before);
  } finally {
    if (holder.listening) holder.close();
    await load?.stop();
    await sy?.stop();
    await Promise.all(backends.map((b) => b.close()));
  }
});

test('workers: 2 — rejected for a certificate only a worker reads, for a busy port, and for a worker that does not answer in time: nothing changes anywhere; saved again, it applies; a connection to a new listener before the commit is served by the new config', { timeout: 120_000 }, async () => {
  const backends = await backendsWithOneFailing();
  const [busyPort, extraPort, securePort, latePort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const holder = await holdPort(busyPort);
  let sy: Switchyard | undefined;
  let load: Load | undefined;
  try {
    const port = await freePort();
    const good = baseConfig(port, services(backends, [1, 1, 1, 1]), undefined, { workers: 2, reloadTimeout: '1s', admin: { address: `127.0.0.1:${adminPort}` } });
    sy = await startSwitchyard(good);
    const admin = adminOf(`127.0.0.1:${adminPort}`);
    load = startLoad(sy.url, 4);
    await untilFailingBackendOut(load);
    const before = await observe(sy, admin, load);
    assertEvenSplit(before.split, 'before');
    const changed = (extra: unknown[]) => ({ ...good, services: services(backends, [9, 1, 1, 1], true), listeners: [...(good.listeners as unknown[]), { name: 'extra', address: `127.0.0.1:${extraPort}` }, ...extra] });
    const reject = async (config: Record<string, unknown>, why: RegExp) => {
      const mark = sy!.output().length;
      sy!.writeConfig(config);
      assert.match(await sy!.waitForLog(/"msg":"config rejected[^\n]*/, 15_000, mark), why);
    };

    // 1. A certificate file the primary never reads: the workers' prepare fails.
    await reject(changed([{ name: 'secure', address: `127.0.0.1:${securePort}`, protocol: 'https', tls: { certificates: [{ cert: '/nonexistent/swy.pem', key: '/nonexistent/swy.key' }] } }]), /ENOENT/);
    // 2. A port taken.
    await reject(changed([{ name: 'busy', address: `127.0.0.1:${busyPort}` }]), /EADDRINUSE/);
    // 3. A worker frozen while the others prepare: the deadline passes, every worker aborts.
    const slow = { ...changed([]), reloadTimeout: '5s' };
    const [frozen] = sy.workerPids();
    process.kill(frozen, 'SIGSTOP');
    try {
      await reject(slow, /did not answer within 1000 ms/);
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
    await sleep(500); // the frozen worker finishes its prepare, then its abort
    await assertUnchanged(sy, admin, load, backends[2], before, [extraPort, securePort], 3);
    console.log(`fds (primary, workers) before ${before.fds.join(', ')}; after 3 rejections ${fdCounts(sy).join(', ')}`);

    await resaveAndApply(sy, admin, load, slow, before);

    // 4. A listener one worker has opened while another still prepares holds what connects to
    // it until the commit, then serves it with the new config (the old one has no such listener).
    const late = { ...slow, listeners: [...(slow.listeners as unknown[]), { name: 'late', address: `127.0.0.1:${latePort}` }] };
    const mark = sy.output().length;
    process.kill(frozen, 'SIGSTOP');
    try {
      sy.writeConfig(late);
      const until = Date.now() + 4000;
      while (!await listening(latePort) && Date.now() < until) await sleep(20);
      const answer = rawRequest(latePort, 'GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 8000);
      await sleep(200);
      process.kill(frozen, 'SIGCONT');
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 200 /, text);
      assert.match(text, /"backend":"b[01]"/);
      await sy.waitForLog(/"msg":"config applied"/, 10_000, mark);
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
  } finally {
    holder.close();
    await load?.stop();
    await sy?.stop();
    await Promise.all(backends.map((b) => b.close()));
  }
});
