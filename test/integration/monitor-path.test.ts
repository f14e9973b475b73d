import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { baseConfig, freePort, rawRequest, sleep, startBackends, startSwitchyard } from './harness.js';

/*
 * A listener's monitorPath (HAProxy's monitor-uri) on a real node, on the engine under test: the
 * listener answers it itself with the node's readiness, never forwards it, follows the readiness
 * policy as the primary computes it, and on SIGTERM answers 503 while the listener still serves
 * (shutdown.readinessDelay) — readiness fails before the drain starts.
 */

async function get(url: string): Promise<{ status: number; text: string }> {
  const r = await request(url, { headers: { connection: 'close' } });
  return { status: r.statusCode, text: await r.body.text() };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('monitorPath answers readiness on the traffic listener, is never forwarded, and fails first on drain', { timeout: 60_000 }, async () => {
  const backends = await startBackends(2);
  const port = await freePort();
  const admin = `127.0.0.1:${await freePort()}`;
  const dir = mkdtempSync(join(tmpdir(), 'swy-monitor-'));
  const config = baseConfig(port, {
    app: { backends: backends.map((b) => ({ address: b.address })), healthCheck: { type: 'tcp', interval: '100ms', timeout: '100ms', unhealthyThreshold: 2, healthyThreshold: 2 } },
  }, undefined, {
    workers: 2,
    admin: { address: admin, auditLog: { path: join(dir, 'audit.log') } },
    shutdown: { drainTimeout: '5s', readinessDelay: '5s' },
    // The readiness policy (no BIRD at the socket: the announcer only reports it).
    anycast: {
      vips: ['198.51.100.11/32'], bird: { socket: join(dir, 'no-bird.ctl'), timeout: '200ms' }, policy: [{ service: 'app', minHealthy: 1 }],
      holdDown: '0ms', goAwayBeforeWithdraw: '0ms', withdrawWait: '0ms', pollInterval: '200ms',
    },
  });
  (config.listeners as Record<string, unknown>[])[0].monitorPath = '/lb-health';
  let sy: Awaited<ReturnType<typeof startSwitchyard>> | undefined;
  let exited = false;
  try {
    sy = await startSwitchyard(config);
    const url = `http://127.0.0.1:${port}`;
    await until('the monitor path to say ready', async () => (await get(`${url}/lb-health`)).status === 200);
    // Every worker answers it (two workers, fresh connections).
    for (let i = 0; i < 6; i++) {
      const r = await get(`${url}/lb-health?from=lb`);
      assert.equal(r.status, 200);
      assert.match(r.text, /^200 OK: ready \(SWY_MONITOR_READY/);
    }
    // A HEAD probe gets the head only: a body would be read as the answer to the next request.
    const raw = await rawRequest(port, 'HEAD /lb-health HTTP/1.1\r\nHost: x\r\n\r\nGET /lb-health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, raw);
    assert.match(answers[0], /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n$/, 'no body after the HEAD answer');
    assert.match(answers[1], /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n200 OK: ready/);
    assert.equal((await get(`${url}/lb-health/deeper`)).status, 200, 'only the exact path is the monitor; the rest is routed');
    assert.ok(backends.every((b) => b.seen.every((s) => !s.url.startsWith('/lb-health?'))), 'the monitor path never reaches a backend');
    assert.equal(backends.flatMap((b) => b.seen).filter((s) => s.url === '/lb-health/deeper').length, 1);

    // The policy wants every backend healthy: one down makes the node not ready, on the listener too.
    await backends[1].close();
    await until('the monitor path to say not ready', async () => (await get(`${url}/lb-health`)).status === 503);
    assert.match((await get(`${url}/lb-health`)).text, /not ready: unhealthy-backends \(SWY_MONITOR_NOT_READY/);
    assert.equal((await get(`${url}/`)).status, 200, 'traffic is still served by the healthy backend');
    await backends[1].server.listen(backends[1].port, '127.0.0.1');
    await until('ready again', async () => (await get(`${url}/lb-health`)).status === 200);

    // SIGTERM: not ready at once, while the listener keeps serving for readinessDelay.
    const exit = new Promise<void>((resolve) => sy!.proc.once('exit', () => { exited = true; resolve(); }));
    sy.proc.kill('SIGTERM');
    await until('the monitor path to say draining', async () => (await get(`${url}/lb-health`)).status === 503, 3000);
    assert.match((await get(`${url}/lb-health`)).text, /not ready: draining/);
    const served = await get(`${url}/app`);
    assert.equal(served.status, 200, 'the listener still serves during the readiness delay');
    const readyz = await request(`http://${admin}/readyz`);
    assert.equal(readyz.statusCode, 503);
    assert.equal(((await readyz.body.json()) as { code: string }).code, 'draining');
    assert.ok(!exited, 'the node is still up during the readiness delay');
    await exit;
  } finally {
    if (!exited) await sy?.stop();
    for (const b of backends) b.server.close();
  }
});

test('monitorPath is refused on a tcp listener (path: reason)', async () => {
  const backends = await startBackends(1);
  try {
    const config = {
      listeners: [{ name: 'l4', address: `127.0.0.1:${await freePort()}`, protocol: 'tcp', service: 'app', monitorPath: '/health' }],
      services: { app: { backends: [{ address: backends[0].address }] } },
    };
    const sy = await startSwitchyard(config, { expectFail: true });
    const code = sy.proc.exitCode ?? await new Promise<number | null>((resolve) => sy.proc.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(sy.output(), /listeners\[0\]\.monitorPath: only http and https listeners answer a monitor path/);
  } finally {
    for (const b of backends) await b.close();
  }
});
