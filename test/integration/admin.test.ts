import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, pollUntil, type Backend, type Switchyard } from './harness.js';

/* The admin listener: metrics that move with traffic, drain/undrain and reload (audited), the token. */

const dir = mkdtempSync(join(tmpdir(), 'swy-admin-'));
const TOKEN = 'test-token-0123456789abcdef';
let backends: Backend[];
let sy: Switchyard;
let open: Switchyard;
let admin: string;
let openAdmin: string;
const agent = new Agent({ connections: 4 });
const auth = { authorization: `Bearer ${TOKEN}` };

before(async () => {
  backends = await startBackends(2);
  const services = { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })) } };
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  sy = await startSwitchyard(baseConfig(await freePort(), services, undefined, {
    workers: 2, admin: { address: `127.0.0.1:${adminPort}`, token: TOKEN, auditLog: { path: join(dir, 'audit.log') } },
  }));
  const openPort = await freePort();
  openAdmin = `http://127.0.0.1:${openPort}`;
  open = await startSwitchyard(baseConfig(await freePort(), services, undefined, { admin: { address: `127.0.0.1:${openPort}`, auditLog: { path: join(dir, 'open-audit.log') } } }));
});

after(async () => {
  await sy?.stop();
  await open?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function get(url: string, headers: Record<string, string> = auth) {
  const r = await request(url, { headers, dispatcher: agent });
  return { status: r.statusCode, text: await r.body.text() };
}
async function post(url: string, headers: Record<string, string> = auth) {
  const r = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}', dispatcher: agent });
  return { status: r.statusCode, body: JSON.parse(await r.body.text()) as Record<string, unknown> };
}
async function traffic(n: number): Promise<Map<string, number>> {
  const by = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await request(`${sy.url}/t`, { dispatcher: agent });
    const b = (JSON.parse(await r.body.text()) as { backend: string }).backend;
    by.set(b, (by.get(b) ?? 0) + 1);
  }
  return by;
}
function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('the token is enforced on the API and /metrics; the dashboard page itself loads without it', async () => {
  assert.equal((await get(`${admin}/api/status`, {})).status, 401);
  assert.equal((await get(`${admin}/metrics`, { authorization: 'Bearer wrong-token-0123456789' })).status, 401);
  assert.equal((await get(`${admin}/api/status`)).status, 200);
  assert.equal((await get(`${admin}/api/status?token=${TOKEN}`, {})).status, 401, 'never a token in the URL');
  assert.equal((await get(`${admin}/`, {})).status, 200);
  assert.equal((await post(`${admin}/api/reload`, {})).status, 401);
  assert.match(readFileSync(join(dir, 'audit.log'), 'utf8'), /"action":"\/api\/reload".*"result":"refused"/);
  // Without a token configured, everything is open (the listener is on loopback).
  assert.equal((await get(`${openAdmin}/api/status`, {})).status, 200);
});

test('metrics exist and move with traffic: requests, upstream tries, latency histogram, connections', { timeout: 30_000 }, async () => {
  await sleep(1200);
  const before = (await get(`${admin}/metrics`)).text;
  for (const name of ['switchyard_requests_total', 'switchyard_request_duration_seconds_bucket', 'switchyard_upstream_requests_total',
    'switchyard_backend_healthy', 'switchyard_config_version', 'switchyard_retries_total', 'switchyard_bulkhead_rejections_total',
    'switchyard_degraded_responses_total', 'switchyard_tls_handshakes_total', 'process_cpu_seconds_total']) {
    assert.ok(before.includes(name), `${name} is exported`);
  }
  const r0 = metric(before, 'switchyard_requests_total', 'code_class="2xx"') || 0;
  await traffic(50);
  // The primary collects the workers' counters once a second (waiting up to 500 ms for a slow
  // worker): read until a collection holds the 50, then check everything on that one text (on a
  // time-out, on the last one, so that the assertions say what is missing).
  const scrape = async () => (await get(`${admin}/metrics`)).text;
  const afterText = await pollUntil('a collection that holds the 50 requests', scrape,
    (t) => metric(t, 'switchyard_requests_total', 'service="app",code_class="2xx"') - r0 >= 50).catch(scrape);
  assert.equal(metric(afterText, 'switchyard_requests_total', 'service="app",code_class="2xx"') - r0, 50);
  // Each of the two workers balances on its own: the split is near, not exactly, even.
  const b0 = metric(afterText, 'switchyard_upstream_requests_total', `backend="${backends[0].address}",code_class="2xx"`);
  const b1 = metric(afterText, 'switchyard_upstream_requests_total', `backend="${backends[1].address}",code_class="2xx"`);
  assert.equal(b0 + b1, 50, `tries: ${b0} + ${b1}`);
  assert.ok(b0 >= 15 && b1 >= 15, `tries: ${b0} + ${b1}`);
  assert.ok(metric(afterText, 'switchyard_request_duration_seconds_count', 'service="app"') >= 50);
  assert.ok(metric(afterText, 'switchyard_connections_accepted_total', 'listener="web"') >= 1);
  const services = JSON.parse((await get(`${admin}/api/services`)).text) as { services: { name: string; rps: number; backends: { key: string; state: string }[] }[] };
  assert.equal(services.services[0].name, 'app');
  assert.ok(services.services[0].rps > 0);
  assert.deepEqual(services.services[0].backends.map((b) => b.state), ['healthy', 'healthy']);
});

test('drain and undrain through the API: the backend stops and resumes taking requests; both are audited', { timeout: 30_000 }, async () => {
  const target = backends[0].address;
  const d = await post(`${admin}/api/backends/app/${encodeURIComponent(target)}/drain`);
  assert.equal(d.status, 200);
  assert.equal(d.body.draining, true);
  await sleep(100);
  const during = await traffic(20);
  assert.equal(during.get('b0') ?? 0, 0);
  assert.equal(during.get('b1'), 20);
  // The view shows the drain from the next collection of the workers' stats on (once a second).
  await pollUntil(`${target} to show draining`, async () => {
    const view = JSON.parse((await get(`${admin}/api/services`)).text) as { services: { backends: { key: string; state: string }[] }[] };
    return view.services[0].backends.find((b) => b.key === target)?.state;
  }, (state) => state === 'draining');
  assert.equal((await post(`${admin}/api/backends/app/${encodeURIComponent(target)}/undrain`)).status, 200);
  await sleep(100);
  // Back in rotation through slow start (10% of its share at first): 60 requests, 30 per worker,
  // give it a few whatever the rotation's phase; 20 sometimes gave it none.
  assert.ok(((await traffic(60)).get('b0') ?? 0) > 0);
  assert.equal((await post(`${admin}/api/backends/app/10.9.9.9:1/drain`)).status, 404);
  const audit = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.ok(audit.some((e) => e.action === 'drain' && e.target === `app/${target}` && e.result === 'ok'));
  assert.ok(audit.some((e) => e.action === 'undrain' && e.result === 'ok'));
  assert.ok(audit.some((e) => e.action === 'drain' && e.result === 'failed'));
});

test('a drain set through the API outlives a config reload', { timeout: 30_000 }, async () => {
  const target = backends[1].address;
  assert.equal((await post(`${admin}/api/backends/app/${encodeURIComponent(target)}/drain`)).status, 200);
  // A real change (a new timeout), so every worker builds a new snapshot.
  const mark = sy.output().length;
  sy.writeConfig(baseConfig(sy.port, { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })), timeouts: { connect: '4s' } } }, undefined, {
    workers: 2, admin: { address: admin.slice(7), token: TOKEN, auditLog: { path: join(dir, 'audit.log') } },
  }));
  const r = await post(`${admin}/api/reload`);
  assert.equal(r.status, 200);
  assert.match(String(r.body.result), /applied|unchanged/);
  await sy.waitForLog(/"msg":"config applied"/, 10_000, mark);
  await sleep(200);
  assert.equal((await traffic(10)).get('b1') ?? 0, 0);
  await post(`${admin}/api/backends/app/${encodeURIComponent(target)}/undrain`);
  assert.match(readFileSync(join(dir, 'audit.log'), 'utf8'), /"action":"reload".*"result":"ok"/);
});

test('the config is shown with secrets redacted', async () => {
  const c = JSON.parse((await get(`${admin}/api/config`)).text) as { admin: { token: string } };
  assert.equal(c.admin.token, '***');
});
