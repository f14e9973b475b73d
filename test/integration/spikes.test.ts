import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, sleep, type Backend, type Switchyard } from './harness.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

/*
 * Spike detection on a real node (issue 18, item 5): steady traffic teaches a route its baseline,
 * a burst from one client (127.0.0.2) raises a route spike in the admin API and /metrics naming
 * that client's prefix (and on the dashboard), and a prefix spike of that new client; both clear
 * after the burst. With mitigation on, the spike blocks
 * the top prefix for a bounded time (audited) and lifts the block when the spike ends.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-spikes-'));
const auditPath = join(dir, 'audit.log');
let backends: Backend[];
let sy: Switchyard;
let admin: string;
let config: Record<string, unknown>;
let browser: TestBrowser | undefined;
const steady = new Agent({ localAddress: '127.0.0.3', connections: 2 });
const flood = new Agent({ localAddress: '127.0.0.2', connections: 8 });

interface Spike { kind: string; key: string; ratio: number; text: string; top: { key: string; share: number }[] }
interface Spikes { active: Spike[]; mitigations: Record<string, string[]>; topPrefixes: Record<string, { prefix: string; rps: number }[]> }
async function spikes(): Promise<Spikes> {
  const r = await request(`${admin}/api/signals`);
  return ((await r.body.json()) as { spikes: Spikes }).spikes;
}
async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Requests to /api/search at about `rps` through `agent` until `stop()`; failures are counted, not thrown. */
function load(agent: Agent, rps: number, maxRequests: number) {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const one = async () => {
    try { const r = await request(`${sy.url}/api/search`, { dispatcher: agent }); await r.body.dump(); } catch { failed++; }
  };
  const done = (async () => {
    const started = Date.now();
    const inflight = new Set<Promise<void>>();
    while (!stopped && sent < maxRequests) {
      const due = started + (sent * 1000) / rps;
      if (due > Date.now()) await sleep(due - Date.now());
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
      sent++;
      if (inflight.size >= 16) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  })();
  return { stop: async () => { stopped = true; await done; }, stats: () => ({ sent, failed }) };
}

/** Whether a fresh connection from 127.0.0.2 is answered (false: closed at accept). */
function servedFrom(from: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port: sy.port, host: '127.0.0.1', localAddress: from });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 2000);
    s.on('connect', () => s.write('GET /api/search HTTP/1.1\r\nhost: t\r\n\r\n'));
    s.on('data', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
    s.on('close', () => { clearTimeout(t); resolve(false); });
  });
}

before(async () => {
  backends = await startBackends(1);
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  config = {
    workers: 1,
    listeners: [{ name: 'web', address: `127.0.0.1:${await freePort()}` }],
    routes: [{ name: 'search', match: { path: { prefix: '/api/search' } }, service: 'app' }, { name: 'rest', match: { path: { prefix: '/' } }, service: 'app' }],
    services: { app: { backends: [{ address: backends[0].address }] } },
    admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: auditPath } },
    spikes: { window: '1s', warmup: '3s', factor: 4, clearFactor: 2, minRate: 20, sampleEvery: 1, ipv4Prefix: 32 },
  };
  sy = await startSwitchyard(config);
});

after(async () => {
  await browser?.close();
  await sy?.stop();
  await steady.close();
  await flood.close();
  await Promise.all(backends.map((b) => b.close()));
});

test('a burst on one route raises a spike naming the flooding client, in the API and /metrics; it clears after the burst', async () => {
  const base = load(steady, 5, 400);
  try {
    browser = await launchBrowser();
    await browser.page.goto(`${admin}/`, { timeout: 10_000 });
    await sleep(5500); // warm-up (3 s) and a couple of judged windows
    assert.deepEqual((await spikes()).active, [], 'steady traffic is no spike');
    // Bounded by count, and long enough (30 s) to outlast every wait below: a burst that ended
    // while the page was slow would clear the spike before /metrics is read.
    const burst = load(flood, 150, 4500);
    let spike: Spike;
    let prefix: Spike;
    let m: string;
    try {
      // The list is the last judged window's: the window the burst began in holds only part of it, so wait for a
      // full one (the flood's own rate, far above the steady client's 5 req/s) rather than the first list it tops.
      let last: unknown;
      const top = await until('the flooding client on top of the route\'s client list at its full rate', 8000, async () => {
        const t = (last = (await spikes()).topPrefixes.search) as Spikes['topPrefixes'][string] | undefined;
        return t !== undefined && t[0]?.prefix === '127.0.0.2/32' && t[0].rps > 20 ? t : undefined;
      }).catch((e: Error) => { throw new Error(`${e.message}; last list: ${JSON.stringify(last)}`); });
      assert.ok(top.length >= 1 && (top[1] === undefined || top[1].rps < top[0].rps), `top list: ${JSON.stringify(top)}`);
      spike = await until('the route spike', 8000, async () => (await spikes()).active.find((s) => s.kind === 'route' && s.key === 'search'));
      // 127.0.0.2 was never seen before the burst: a spike of its own, not its own baseline.
      prefix = await until('the prefix spike', 4000, async () => (await spikes()).active.find((s) => s.kind === 'prefix' && s.key === '127.0.0.2/32'));
      // The dashboard's Signals card shows the spike's line (pushed by the event stream).
      await browser.page.locator('#signals-body', { hasText: 'route search:' }).waitFor({ timeout: 5000 });
      assert.match(await browser.page.locator('#signals-body').textContent() ?? '', /Traffic spikes[\s\S]*route search: [\d.]+× baseline/);
      m = await (await request(`${admin}/metrics`)).body.text();
    } finally { await burst.stop(); }
    assert.ok(spike.ratio >= 4, spike.text);
    assert.match(spike.text, /^route search: [\d.]+× baseline \([\d.]+ req\/s against [\d.]+\), top prefixes 127\.0\.0\.2\/32 \d+%/);
    assert.ok(spike.top[0].share > 0.5, JSON.stringify(spike.top));
    assert.match(m, /switchyard_spike_active\{kind="route",key="search"\} 1/);
    assert.match(m, /switchyard_spikes_total\{kind="route",key="search"\} 1/);
    assert.match(prefix.text, /^prefix 127\.0\.0\.2\/32: new \([\d.]+ req\/s, none before\), top routes search 100%$/);
    await until('the spike to clear', 8000, async () => ((await spikes()).active.length === 0 ? true : undefined));
    await sy.waitForLog(/traffic spike over: route search/, 2000);
    await sy.waitForLog(/traffic spike over: prefix 127\.0\.0\.2\/32/, 2000);
    assert.doesNotMatch(await (await request(`${admin}/metrics`)).body.text(), /switchyard_spike_active\{/);
  } finally { await base.stop(); }
});

test('mitigation on: the top prefix is blocked while the spike lasts (audited), then the block is lifted', async () => {
  const mitigating = { ...config, spikes: { ...(config.spikes as object), mitigate: { enabled: true, minShare: 0.5, duration: '30s' } } };
  sy.writeConfig(mitigating);
  const r = await request(`${admin}/api/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(((await r.body.json()) as { result: string }).result, 'applied');
  const base = load(steady, 5, 400);
  try {
    await sleep(2500); // judged windows at the steady rate (the baseline was learned before the reload)
    const burst = load(flood, 150, 900);
    try {
      await until('the mitigation', 8000, async () => ((await spikes()).mitigations.search?.includes('127.0.0.2/32') ? true : undefined));
      assert.equal(await servedFrom('127.0.0.2'), false, 'the flooding client is blocked at accept');
      assert.equal(await servedFrom('127.0.0.3'), true, 'the steady client is not');
    } finally { await burst.stop(); }
    // Blocked, the flood no longer reaches the route: the spike ends and the block is lifted.
    await until('the block to be lifted', 10_000, async () => ((await spikes()).mitigations.search === undefined && (await spikes()).active.length === 0 ? true : undefined));
    assert.equal(await servedFrom('127.0.0.2'), true, 'admitted again');
    const audit = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target?: string; result: string });
    assert.ok(audit.some((e) => e.action === 'spike-block' && e.target === '127.0.0.2/32' && e.result === 'ok'), 'block audited');
    assert.ok(audit.some((e) => e.action === 'spike-unblock' && e.target === '127.0.0.2/32' && e.result === 'ok'), 'lift audited');
  } finally { await base.stop(); }
});
