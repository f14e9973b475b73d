import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/* The design's signals on a live node: hot spots from a skewed hash workload, auto-scaling decisions reaching the actuator. */

const dir = mkdtempSync(join(tmpdir(), 'swy-signals-'));
const agent = new Agent({ connections: 8 });
const started: { sy?: Switchyard; backends?: Backend[] }[] = [];

after(async () => {
  for (const s of started) { await s.sy?.stop(); await Promise.all((s.backends ?? []).map((b) => b.close())); }
  await agent.close();
});

async function node(services: Record<string, unknown>, extra: Record<string, unknown>) {
  const adminPort = await freePort();
  const sy = await startSwitchyard(baseConfig(await freePort(), services, undefined, {
    workers: 2, admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(dir, `audit-${adminPort}.log`) } }, ...extra,
  }));
  return { sy, admin: `http://127.0.0.1:${adminPort}` };
}

/** Sends `n` requests with the given user ids (header x-user), 8 at a time; returns how many were answered 200. */
async function send(url: string, users: string[]): Promise<number> {
  let ok = 0;
  for (let i = 0; i < users.length; i += 8) {
    await Promise.all(users.slice(i, i + 8).map(async (u) => {
      const r = await request(`${url}/x`, { headers: { 'x-user': u }, dispatcher: agent });
      await r.body.dump();
      if (r.statusCode === 200) ok++;
    }));
  }
  return ok;
}

async function signals(admin: string) {
  const r = await request(`${admin}/api/signals`, { dispatcher: agent });
  return JSON.parse(await r.body.text()) as { hotspots: { service: string; backend: string; cause: string; detail: { keys?: { key: string }[] } }[]; scaling: { decisions: { action: string; trigger: string }[] } | null };
}

test('a skewed hash workload raises a hash-key-concentration hot spot naming the key; an even one does not', { timeout: 60_000 }, async () => {
  const backends = await startBackends(4);
  const svc = (name: string) => ({
    [name]: {
      balancer: { algorithm: 'ring-hash' }, hashKey: { source: 'header', name: 'x-user' },
      backends: backends.map((b) => ({ address: b.address })),
      hotspot: { window: '500ms', for: '1500ms' },
    },
  });
  const { sy, admin } = await node({ ...svc('even'), ...svc('skewed') }, {
    routes: [{ match: { path: { prefix: '/' }, headers: [{ name: 'x-mode', exact: 'skewed' }] }, service: 'skewed' }, { match: { path: { prefix: '/' } }, service: 'even' }],
  });
  started.push({ sy, backends });
  const deadline = Date.now() + 20_000;
  let found: Awaited<ReturnType<typeof signals>>['hotspots'] = [];
  let round = 0;
  let evenOk = 0;
  let metrics = '';
  const gauge = /switchyard_hotspot_active\{service="skewed",backend="[^"]+",cause="hash-key-concentration"\} 1/;
  // The detector judges 500 ms windows and clears on the first quiet one after the traffic stops:
  // the API and /metrics are read right after a round, and a round counts only when both show it.
  while (Date.now() < deadline && (found.length === 0 || !gauge.test(metrics))) {
    // 60% of the skewed service's requests carry one user (its backend then takes > 2× its 25% share whatever the ring gives it); the rest are spread over many.
    const users = Array.from({ length: 100 }, (_, i) => (i % 5 < 3 ? 'whale' : `user-${round}-${i}`));
    await Promise.all([
      // The even service gets as many requests, every one with its own user.
      send(sy.url, users.map((_, i) => `even-${round}-${i}`)).then((n) => { evenOk += n; }),
      (async () => {
        for (let i = 0; i < users.length; i += 8) {
          await Promise.all(users.slice(i, i + 8).map(async (u) => {
            const r = await request(`${sy.url}/x`, { headers: { 'x-user': u, 'x-mode': 'skewed' }, dispatcher: agent });
            await r.body.dump();
          }));
        }
      })(),
    ]);
    round++;
    found = (await signals(admin)).hotspots.filter((h) => h.service === 'skewed');
    metrics = await (await request(`${admin}/metrics`, { dispatcher: agent })).body.text();
  }
  assert.equal(found.length, 1, 'one hot backend in the skewed service');
  assert.equal(found[0].cause, 'hash-key-concentration');
  assert.ok(found[0].detail.keys?.some((k) => k.key === 'whale'), JSON.stringify(found[0].detail));
  // "No hot spot" means something only if the even service carried as much traffic, in the same rounds, all of it answered.
  assert.equal(evenOk, round * 100, `the even service answered ${evenOk} of ${round * 100}`);
  assert.deepEqual((await signals(admin)).hotspots.filter((h) => h.service === 'even'), [], 'no hot spot where keys are spread');
  assert.match(metrics, gauge);
});

test('auto-scaling: a sustained trigger reaches the exec actuator with the decision as JSON', { timeout: 60_000 }, async () => {
  const backends = await startBackends(1);
  const out = join(dir, 'decision.json');
  const script = `require('fs').writeFileSync(${JSON.stringify(out)}, require('fs').readFileSync(0))`;
  const { sy, admin } = await node({ app: { backends: [{ address: backends[0].address }] } }, {
    autoscaling: {
      enabled: true, sampleInterval: '1s',
      // Any traffic at all is "high" here: the point is the path from trigger to actuator.
      connections: { enabled: false }, memory: { enabled: false }, latency: { enabled: false },
      cpu: { scaleOutAbove: 0.01, scaleOutFor: '2s', scaleInBelow: 0, scaleInFor: '1h' },
      actuator: { type: 'exec', command: [process.execPath, '-e', script], timeout: '10s' },
    },
  });
  started.push({ sy, backends });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !existsSync(out)) {
    await send(sy.url, Array.from({ length: 80 }, (_, i) => `u${i}`));
    await sleep(100);
  }
  assert.ok(existsSync(out), 'the actuator ran');
  const d = JSON.parse(readFileSync(out, 'utf8')) as { action: string; trigger: string; reason: string };
  assert.equal(d.action, 'scale-out');
  assert.equal(d.trigger, 'cpu');
  const s = await signals(admin);
  assert.equal(s.scaling?.decisions[0].action, 'scale-out');
  await sy.waitForLog(/auto-scaling actuator: done/, 10_000);
});
