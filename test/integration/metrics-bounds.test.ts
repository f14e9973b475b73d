import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/* /metrics with more backends than metrics.maxBackendSeries: bounded series that still add up and never fall. */

const MAX = 5;
const TOKEN = 'metrics-token-0123456789';
let backends: Backend[];
let sy: Switchyard;
let admin: string;
let config: Record<string, unknown>;
const agent = new Agent({ connections: 4 });

const service = (list: Backend[]) => ({ app: { balancer: { algorithm: 'round-robin' }, backends: list.map((b) => ({ address: b.address })) } });

before(async () => {
  backends = await startBackends(30);
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  config = baseConfig(await freePort(), service(backends), undefined, {
    metrics: { maxBackendSeries: MAX },
    admin: { address: `127.0.0.1:${adminPort}`, token: TOKEN, auditLog: { path: join(mkdtempSync(join(tmpdir(), 'swy-metrics-')), 'audit.log') } },
  });
  sy = await startSwitchyard(config);
});

after(async () => {
  await sy?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function send(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await request(`${sy.url}/x${i}`, { dispatcher: agent });
    await r.body.text();
    assert.equal(r.statusCode, 200);
  }
}

/** upstream_requests_total per backend label (summed over status classes). */
async function perBackend(): Promise<Map<string, number>> {
  const r = await request(`${admin}/metrics`, { dispatcher: agent, headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await r.body.text();
  assert.equal(r.statusCode, 200, text);
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^switchyard_upstream_requests_total\{service="app",backend="([^"]+)",code_class="[^"]+"\} (\d+)$/gm)) {
    out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const seen = (list: Backend[]) => list.reduce((a, b) => a + b.seen.length, 0);

/** Scrapes until the series add up to `want` (the stats reach the primary about once a second). */
async function settle(want: number, history: Map<string, number>[]): Promise<Map<string, number>> {
  for (let i = 0; i < 50; i++) {
    const m = await perBackend();
    history.push(m);
    if (sum(m) === want) return m;
    await sleep(200);
  }
  assert.fail(`series never added up to ${want}: ${JSON.stringify([...history.at(-1)!])}`);
}

test('30 backends, maxBackendSeries 5: at most 5 named series plus _other, adding up to what the backends served, never falling across a reload', { timeout: 60_000 }, async () => {
  const history: Map<string, number>[] = [];
  await send(90);
  const first = await settle(seen(backends), history);
  assert.ok(first.size <= MAX + 1, `${first.size} backend series: ${[...first.keys()].join(', ')}`);
  assert.ok(first.has('_other'));
  assert.equal(sum(first), 90);

  // Remove a named backend: its slot goes to one that was counted in _other so far.
  const gone = [...first.keys()].find((k) => k !== '_other')!;
  const kept = backends.filter((b) => b.address !== gone);
  const from = sy.output().length;
  sy.writeConfig({ ...config, services: service(kept) });
  await sy.waitForLog(/"msg":"config applied"/, 15_000, from);
  await send(90);
  const second = await settle(seen(kept), history);
  assert.ok(second.size <= MAX + 1, `${second.size} backend series`);
  assert.equal(second.has(gone), false);
  assert.equal([...second.keys()].filter((k) => k !== '_other').length, MAX, 'the freed slot was filled');

  // Counters never fall: every series, scrape after scrape.
  for (let i = 1; i < history.length; i++) {
    for (const [k, v] of history[i]) {
      const before = history[i - 1].get(k);
      if (before !== undefined) assert.ok(v >= before, `${k} fell from ${before} to ${v}`);
    }
  }
});
