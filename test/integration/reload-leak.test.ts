import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { FileConfigSource } from '../../src/config/file-source.js';
import { Snapshot } from '../../src/snapshot/snapshot.js';
import { Worker } from '../../src/runtime/worker.js';
import type { FromWorker } from '../../src/runtime/messages.js';
import { systemClock } from '../../src/util/clock.js';
import { systemRandom } from '../../src/util/random.js';
import { baseConfig, freePort, sleep, withTestEngine } from './harness.js';

/*
 * Issue 17 §4: 100 rejected reloads leak nothing. A real worker data plane (runtime/worker.ts,
 * its listeners, pools and snapshots) runs in this process, so its handles, timers and heap can be
 * counted exactly; the primary's side of a reload — load and validate the file, the trial build,
 * prepare on every worker, abort everywhere when one refused — is played by `reload()` below
 * with the same calls. Rejections cycle through every stage: a schema error, a build error (the
 * trial build throws), a listener that cannot bind (the worker refuses), and another worker that
 * failed (this one prepared, then aborts). Light traffic flows throughout.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live timers (setTimeout/setInterval, ref'd or not), by async id. */
const timers = new Set<number>();
const hook = createHook({
  init(id, type) { if (type === 'Timeout') timers.add(id); },
  destroy(id) { timers.delete(id); },
});

/**
 * Every snapshot built from now on (the trial builds and the workers' prepares) is numbered and
 * watched: `collected` holds the numbers of those garbage-collected since. A rejected build that
 * something still holds (a listener, a timer, a list) never shows up there.
 */
const collected = new Set<number>();
let built = 0;
const registry = new FinalizationRegistry<number>((n) => collected.add(n));
const prepare = Snapshot.prepare;
function watchBuilds(): void {
  Snapshot.prepare = (...args: Parameters<typeof prepare>) => {
    const s = prepare.apply(Snapshot, args);
    registry.register(s, ++built);
    return s;
  };
}

/** A backend answering its name, keeping nothing per request. */
async function backend(name: string): Promise<HttpServer> {
  const s = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ backend: name });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}

/** Sequential GETs on two keep-alive connections, bounded in count and time; `pause()` waits until none is in flight. */
function startLoad(url: string, maxRequests = 200_000, maxMs = 100_000) {
  const agent = new Agent({ connections: 2, pipelining: 1 });
  const hits = new Map<string, number>();
  const failures: string[] = [];
  let count = 0;
  let stopped = false;
  let paused = false;
  let busy = 0;
  const deadline = Date.now() + maxMs;
  const loop = async () => {
    while (!stopped && count < maxRequests && Date.now() < deadline) {
      if (paused) { await sleep(10); continue; }
      count++;
      busy++;
      try {
        const r = await request(`${url}/x`, { dispatcher: agent });
        const text = await r.body.text();
        if (r.statusCode !== 200) failures.push(`${r.statusCode} ${text}`);
        else {
          const b = (JSON.parse(text) as { backend: string }).backend;
          hits.set(b, (hits.get(b) ?? 0) + 1);
        }
      } catch (e) {
        failures.push((e as Error).message);
      } finally {
        busy--;
      }
      await sleep(2); // light: a few hundred requests a second at most
    }
  };
  const done = Promise.all([loop(), loop()]);
  return {
    failures,
    get count() { return count; },
    /** Answers per backend so far. */
    hits: () => Object.fromEntries(hits),
    async pause() { paused = true; while (busy > 0) await sleep(5); },
    resume() { paused = false; },
    async stop() { stopped = true; await done; await agent.close(); },
  };
}

/** Handles, timers and heap of this process once quiet (traffic paused, garbage collected). */
async function measure(load: ReturnType<typeof startLoad>) {
  await load.pause();
  await sleep(300); // deferred closes (parsers, sockets) run
  for (let i = 0; i < 3; i++) { gc(); await sleep(20); } // (FinalizationRegistry callbacks run between)
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  const byType: Record<string, number> = {};
  for (const h of handles) byType[h.constructor.name] = (byType[h.constructor.name] ?? 0) + 1;
  const m = { handles: handles.length, byType, timers: timers.size, heap: process.memoryUsage().heapUsed };
  load.resume();
  return m;
}

test('100 rejected reloads (schema, build, bind, another worker failing) leak no handle, timer, heap or build, and the live balancing serves throughout', { timeout: 180_000 }, async () => {
  hook.enable();
  watchBuilds();
  const dir = mkdtempSync(join(tmpdir(), 'swy-leak-'));
  const file = join(dir, 'switchyard.yaml');
  const backends = [await backend('b0'), await backend('b1')];
  const addresses = backends.map((b) => `127.0.0.1:${(b.address() as AddressInfo).port}`);
  const [port, busyPort, extraPort] = [await freePort(), await freePort(), await freePort()];
  const held: Server = createServer();
  await new Promise<void>((resolve) => held.listen(busyPort, '127.0.0.1', resolve));
  const deps = { clock: systemClock, random: systemRandom };
  const replies: FromWorker[] = [];
  const worker = new Worker(deps, pino({ level: 'silent' }), 1, (m) => { if (m.type !== 'counters') replies.push(m); });
  const loader = new FileConfigSource(file);
  let load: ReturnType<typeof startLoad> | undefined;
  let txn = 1;

  const app = (weights: number[], extra: Record<string, unknown> = {}) => ({
    app: { balancer: { algorithm: 'round-robin' }, backends: addresses.map((address, i) => ({ address, weight: weights[i] })), ...extra },
  });
  const good = withTestEngine(baseConfig(port, app([1, 1])));
  const withListener = (address: string) => ({ ...good, services: app([9, 1]), listeners: [...(good.listeners as unknown[]), { name: 'extra', address }] });
  const kinds = [
    { kind: 'schema', config: { ...good, services: app([1, 1], { balancer: { algorithm: 'no-such-algorithm' } }) }, why: /services\.app\.balancer/ },
    // Valid per the schema, but maglev cannot build a 2-slot table for 3 backends: the trial build throws.
    { kind: 'build', config: { ...good, services: { app: { balancer: { algorithm: 'maglev', tableSize: 2 }, backends: [...addresses, '127.0.0.1:1'].map((address) => ({ address })) } } }, why: /smaller than the number of endpoints/ },
    { kind: 'bind', config: withListener(`127.0.0.1:${busyPort}`), why: /EADDRINUSE/ },
    { kind: 'worker', config: withListener(`127.0.0.1:${extraPort}`), why: /another worker failed/ },
  ];

  /** One reload as the primary runs it (runtime/primary.ts reloadNow + applyEverywhere) with this worker as the fleet. */
  const reload = async (raw: Record<string, unknown>, anotherWorkerFails: boolean): Promise<string> => {
    writeFileSync(file, JSON.stringify(raw));
    let next;
    try {
      next = await loader.load();
      await Snapshot.build(next, 3, deps).close();
    } catch (e) {
      return `rejected by the primary: ${(e as Error).message}`;
    }
    const t = ++txn;
    replies.length = 0;
    await worker.handle({ type: 'prepare', txn: t, version: 2, config: next });
    const answer = replies.find((m) => 'txn' in m && m.txn === t);
    // Every worker aborts when one refused (or, here, when another one did).
    if (answer?.type !== 'prepared' || anotherWorkerFails) await worker.handle({ type: 'abort', txn: t });
    if (answer?.type === 'rejected') return `rejected by the worker: ${answer.error}`;
    return anotherWorkerFails ? 'prepared, then aborted: another worker failed' : `applied?! ${JSON.stringify(answer)}`;
  };

  try {
    writeFileSync(file, JSON.stringify(good));
    await worker.handle({ type: 'config', txn: 1, version: 1, config: await loader.load(), health: {} });
    assert.equal(replies.at(-1)?.type, 'applied');
    load = startLoad(`http://127.0.0.1:${port}`);
    const rejectRound = async (i: number) => {
      const k = kinds[i % kinds.length];
      assert.match(await reload(k.config, k.kind === 'worker'), k.why, `${k.kind} #${i}`);
    };
    // Warm-up: five of each kind, so lazily made things (compiled code, caches) exist before counting.
    for (let i = 0; i < 20; i++) await rejectRound(i);
    const hitsBefore = load.hits();
    const before = await measure(load);
    const firstBuild = built + 1;
    for (let i = 0; i < 100; i++) await rejectRound(i);
    const after = await measure(load);
    const builds = Array.from({ length: built - firstBuild + 1 }, (_, i) => firstBuild + i);
    const kept = builds.filter((n) => !collected.has(n));
    assert.equal(builds.length, 100, 'a trial build and a worker\'s build for each bind and worker rejection');
    assert.deepEqual(kept, [], `every rejected build is garbage-collected; still held: ${kept.length} of ${builds.length}`);
    const detail = `before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`;
    console.log(`100 rejected reloads: handles ${before.handles} → ${after.handles}, timers ${before.timers} → ${after.timers}, heap ${(before.heap / 2 ** 20).toFixed(1)} → ${(after.heap / 2 ** 20).toFixed(1)} MiB`);
    // Small slack: a keep-alive connection of the traffic may open or close between the counts, and
    // its timers (idle, header; node:http and undici arm them per request) be armed or not. A leak
    // per rejected reload shows as 25 or more: each kind ran 25 times.
    assert.ok(after.handles <= before.handles + 2, `handles: ${detail}`);
    assert.ok(after.timers <= before.timers + 5, `timers: ${detail}`);
    assert.ok(after.heap < before.heap * 1.1 || after.heap - before.heap < 2 * 2 ** 20, `heap: ${detail}`);
    // The aborted build's listener is closed: its port can be bound again.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(extraPort, '127.0.0.1', resolve); });
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    // The live config still serves, with its own weights (1:1), from both backends.
    const from = load.hits();
    const [until, deadline] = [load.count + 200, Date.now() + 20_000];
    while (load.count < until && Date.now() < deadline) await sleep(20);
    const to = load.hits();
    const split = ['b0', 'b1'].map((b) => (to[b] ?? 0) - (from[b] ?? 0));
    assert.ok(split[0] > 50 && split[1] > 50, `round-robin 1:1 as configured: ${split.join(':')} (warm-up ${JSON.stringify(hitsBefore)})`);
    assert.deepEqual(load.failures, [], 'no failed request');
  } finally {
    await load?.stop();
    await worker.handle({ type: 'shutdown', drainMs: 0 });
    await new Promise<void>((resolve) => held.close(() => resolve()));
    await Promise.all(backends.map((b) => new Promise<void>((resolve) => { b.closeAllConnections(); b.close(() => resolve()); })));
    hook.disable();
    Snapshot.prepare = prepare;
    rmSync(dir, { recursive: true, force: true });
  }
});
