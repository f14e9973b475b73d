import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { execFileSync } from 'node:child_process';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, CLI, type Backend, type Switchyard } from './harness.js';

/*
 * Hot reload, rejected configs, worker respawn: the process lives on while its config and its
 * workers change under steady load, and no request fails.
 */

let backends: Backend[];
let sy: Switchyard;
let port: number;

const config = (addrs: string[], extra: Record<string, unknown> = {}) =>
  baseConfig(port, { app: { balancer: { algorithm: 'round-robin' }, backends: addrs.map((address) => ({ address })) } }, undefined, { workers: 2, ...extra });

before(async () => {
  backends = await startBackends(3);
  port = await freePort();
  sy = await startSwitchyard(config([backends[0].address, backends[1].address]));
});

after(async () => {
  await sy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

/** Sends requests back to back on `conns` keep-alive connections until `stop()`; counts outcomes. */
function steadyLoad(conns: number, url = sy.url) {
  const agent = new Agent({ connections: conns });
  const stats = { ok: 0, failed: 0, errors: [] as string[], byBackend: new Map<string, number>() };
  let running = true;
  const deadline = Date.now() + 20_000;
  const loops = Array.from({ length: conns }, async () => {
    for (let i = 0; running && i < 100_000 && Date.now() < deadline; i++) {
      try {
        // Bounded: a connection handed to a worker that dies before accepting it is never answered.
        const r = await request(`${url}/x`, { dispatcher: agent, headersTimeout: 3000, bodyTimeout: 3000 });
        const text = await r.body.text();
        if (r.statusCode === 200) {
          stats.ok++;
          const b = (JSON.parse(text) as { backend: string }).backend;
          stats.byBackend.set(b, (stats.byBackend.get(b) ?? 0) + 1);
        } else { stats.failed++; stats.errors.push(`${r.statusCode} ${text}`); }
      } catch (e) { stats.failed++; stats.errors.push((e as Error).message); }
    }
  });
  return {
    stats,
    async stop() { running = false; await Promise.all(loops); await agent.close(); return stats; },
  };
}

test('hot reload by file change under steady load: zero failed requests, new backend gets traffic', { timeout: 60_000 }, async () => {
  const load = steadyLoad(8);
  await sleep(500);
  const mark = sy.output().length;
  sy.writeConfig(config([backends[0].address, backends[1].address, backends[2].address]));
  await sy.waitForLog(/"msg":"config applied"/, 10_000, mark);
  const before = backends[2].seen.length;
  await sleep(700);
  const stats = await load.stop();
  assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join('\n'));
  assert.ok(stats.ok > 100, `only ${stats.ok} requests`);
  assert.ok(backends[2].seen.length > before, 'the added backend receives requests after the reload');
});

test('SIGHUP reload under load, removing a backend: zero failed requests, removed one stops getting traffic', { timeout: 60_000 }, async () => {
  // A node that does not watch its file (--no-watch): only the signal can make it read the new config.
  const sigPort = await freePort();
  const sigConfig = (addrs: string[]) => baseConfig(sigPort, { app: { balancer: { algorithm: 'round-robin' }, backends: addrs.map((address) => ({ address })) } }, undefined, { workers: 2 });
  const node = await startSwitchyard(sigConfig([backends[0].address, backends[1].address, backends[2].address]), { extraArgs: ['--no-watch'] });
  try {
    const load = steadyLoad(8, node.url);
    await sleep(300);
    const mark = node.output().length;
    node.writeConfig(sigConfig([backends[0].address, backends[2].address]));
    // Longer than the watcher's debounce and its 2 s poll: a watching node would have applied it by now.
    await sleep(2500);
    assert.doesNotMatch(node.output().slice(mark), /"msg":"config applied"/, 'no reload before the signal');
    node.proc.kill('SIGHUP');
    await node.waitForLog(/"msg":"SIGHUP: reloading"[^]*"msg":"config applied"/, 10_000, mark);
    await sleep(200);
    const removedCount = backends[1].seen.length;
    await sleep(500);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join('\n'));
    assert.equal(backends[1].seen.length, removedCount, 'no request reaches the removed backend');
  } finally {
    await node.stop();
  }
});

test('an invalid config is rejected with path: reason and the last good config keeps serving', { timeout: 30_000 }, async () => {
  const mark = sy.output().length;
  const bad = config([backends[0].address]);
  (bad.services as Record<string, Record<string, unknown>>).app.balancer = { algorithm: 'maglev', tableSize: 1000 };
  (bad.listeners as Record<string, unknown>[])[0].bogus = true;
  sy.writeConfig(bad);
  const line = await sy.waitForLog(/"msg":"config rejected[^\n]*/, 10_000, mark);
  assert.match(line, /services\.app\.balancer\.tableSize: tableSize must be a prime/);
  assert.match(line, /listeners\[0\]\.bogus: unknown key/);
  // Still the previous config: all three backends in rotation.
  const load = steadyLoad(2);
  await sleep(300);
  const stats = await load.stop();
  assert.equal(stats.failed, 0);
  assert.deepEqual([...stats.byBackend.keys()].sort(), ['b0', 'b1', 'b2']);
  // A broken YAML file is rejected the same way.
  const mark2 = sy.output().length;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(sy.configPath, 'listeners: [\n  - {name: web');
  await sy.waitForLog(/"msg":"config rejected/, 10_000, mark2);
  const r = await request(`${sy.url}/still-up`);
  assert.equal(r.statusCode, 200);
  await r.body.dump();
  sy.writeConfig(config(backends.map((b) => b.address))); // restore for the next test
  await sleep(500);
});

test('a crashed worker is respawned and serving continues', { timeout: 30_000 }, async () => {
  const pids = sy.workerPids();
  assert.equal(pids.length, 2);
  const load = steadyLoad(4);
  await sleep(200);
  const mark = sy.output().length;
  process.kill(pids[0], 'SIGKILL');
  await sy.waitForLog(/"msg":"worker exited; respawning"/, 10_000, mark);
  for (let i = 0; i < 50 && sy.workerPids().filter((p) => !pids.includes(p)).length === 0; i++) await sleep(100);
  await sleep(500);
  const stats = await load.stop();
  const now = sy.workerPids();
  assert.equal(now.length, 2);
  assert.ok(!now.includes(pids[0]));
  // Requests in flight on the killed worker's connections may fail; afterwards all succeed.
  assert.ok(stats.ok > 50);
  const after = steadyLoad(4);
  await sleep(500);
  const s2 = await after.stop();
  assert.equal(s2.failed, 0, s2.errors.slice(0, 3).join('\n'));
});

test('rolling restart of workers (switchyard reload --workers): every worker replaced, no refused or failed connection', { timeout: 60_000 }, async () => {
  const pidFile = `${sy.configPath}.pid`;
  const rolled = await startSwitchyard(baseConfig(await freePort(), { app: { backends: [{ address: backends[0].address }, { address: backends[1].address }] } }, undefined, { workers: 2 }),
    { extraArgs: ['--pid-file', pidFile] });
  try {
    const before = rolled.workerPids();
    assert.equal(before.length, 2);
    // A new connection per request: each one is accepted by whichever worker the cluster picks.
    const agent = new Agent({ connections: 4 });
    const stats = { ok: 0, failed: 0, errors: [] as string[] };
    let running = true;
    const deadline = Date.now() + 30_000;
    const loops = Array.from({ length: 4 }, async () => {
      for (let i = 0; running && i < 100_000 && Date.now() < deadline; i++) {
        try {
          const r = await request(`${rolled.url}/r`, { dispatcher: agent, reset: true, headersTimeout: 5000, bodyTimeout: 5000 });
          await r.body.dump();
          if (r.statusCode === 200) stats.ok++; else { stats.failed++; stats.errors.push(String(r.statusCode)); }
        } catch (e) { stats.failed++; stats.errors.push((e as Error).message); }
      }
    });
    await sleep(300);
    const mark = rolled.output().length;
    execFileSync(process.execPath, [CLI, 'reload', '--pid-file', pidFile, '--workers']);
    await rolled.waitForLog(/"msg":"rolling restart done"/, 40_000, mark);
    await sleep(300);
    running = false;
    await Promise.all(loops);
    await agent.close();
    const now = rolled.workerPids();
    assert.equal(now.length, 2);
    assert.deepEqual(now.filter((p) => before.includes(p)), [], 'every worker was replaced');
    assert.ok(stats.ok > 50, `only ${stats.ok} requests`);
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join('\n'));
  } finally {
    await rolled.stop();
  }
});
