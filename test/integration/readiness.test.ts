import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, baseConfig, freePort, sleep, startBackends, startSwitchyard } from './harness.js';

/*
 * Readiness on one node, without BIRD (its control socket is absent: the announcer reports it and
 * keeps retrying): /readyz and /healthz answer probes without the admin token, /readyz follows the
 * anycast policy's healthy share and the drain, `switchyard drain` drains and waits for the exit.
 */

const TOKEN = 'readiness-test-token-0123456789';

async function get(admin: string, path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await request(`http://${admin}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('/readyz follows the policy and the drain; probes need no token; switchyard drain waits for the exit', { timeout: 60_000 }, async () => {
  const backends = await startBackends(2);
  const admin = `127.0.0.1:${await freePort()}`;
  const dir = mkdtempSync(join(tmpdir(), 'swy-readiness-'));
  const sy = await startSwitchyard(baseConfig(await freePort(), {
    app: { backends: backends.map((b) => ({ address: b.address })), healthCheck: { type: 'tcp', interval: '100ms', timeout: '100ms', unhealthyThreshold: 2, healthyThreshold: 2 } },
  }, undefined, {
    admin: { address: admin, token: TOKEN, auditLog: { path: join(dir, 'audit.log') } },
    shutdown: { drainTimeout: '5s' },
    anycast: {
      vips: ['198.51.100.10/32'], bird: { socket: join(dir, 'no-bird.ctl'), timeout: '200ms' }, policy: [{ service: 'app', minHealthy: 0.5 }],
      holdDown: '0ms', goAwayBeforeWithdraw: '1s', withdrawWait: '500ms', pollInterval: '200ms',
    },
  }));
  try {
    await sy.waitForLog(/admin listening/, 10_000);
    assert.deepEqual(await get(admin, '/healthz'), { status: 200, body: { status: 'alive' } });
    assert.deepEqual(await get(admin, '/readyz'), { status: 200, body: { ready: true, code: 'ready' } }, 'no token: the verdict only');
    assert.deepEqual(await get(admin, '/readyz', TOKEN), { status: 200, body: { ready: true, code: 'ready', reason: 'ready' } });
    assert.equal((await get(admin, '/api/anycast')).status, 401, 'the details need the token');
    const details = await get(admin, '/api/anycast', TOKEN);
    assert.equal((details.body.readiness as { services: unknown[] }).services.length, 1);
    const anycast = details.body.anycast as { state: string; reason: string; bird: { reachable: boolean } };
    assert.equal(anycast.bird.reachable, false, 'no BIRD at the socket: reported, not hidden');
    assert.match(anycast.reason, /BIRD: .*ENOENT/);
    const metrics = async () => (await request(`http://${admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.text();
    assert.match(await metrics(), /^switchyard_ready 1$/m);
    assert.match(await metrics(), /^switchyard_anycast_announced\{vip="198\.51\.100\.10\/32"\} 0$/m, 'not announced: no BIRD took it');

    // One of two backends down is still 50 %: ready. Both down: not ready, and why.
    await backends[0].close();
    await sleep(500);
    assert.equal((await get(admin, '/readyz')).status, 200);
    await backends[1].close();
    await until('/readyz 503', async () => (await get(admin, '/readyz')).status === 503);
    const down = await get(admin, '/readyz', TOKEN);
    assert.equal(down.body.code, 'unhealthy-backends');
    assert.match(String(down.body.reason), /app 0\/2 healthy \(needs 50%\)/);
    assert.equal((await get(admin, '/readyz')).body.reason, undefined, 'without the token no service names or counts');
    assert.match(await metrics(), /^switchyard_ready 0$/m);

    // Spawned, not spawnSync: this process must keep running to reap the node when it exits.
    const drain = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'drain', '--pid', String(sy.proc.pid), '--wait', '20']);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(drain.status, 0, drain.stderr);
    assert.match(drain.stdout, new RegExp(`sent SIGTERM to ${sy.proc.pid}: draining\\n${sy.proc.pid} exited`));
    assert.match(sy.output(), /"reason":"SIGTERM"/);
    assert.match(sy.output(), /anycast: drain: clients told to go/);
  } finally {
    await sy.stop();
  }
});

test('switchyard drain: a usage error without a PID, a clear error for a process that is not there', () => {
  const none = spawnSync(process.execPath, [CLI, 'drain'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /give --pid-file or --pid/);
  const gone = spawnSync(process.execPath, [CLI, 'drain', '--pid', '999999999'], { encoding: 'utf8' });
  assert.notEqual(gone.status, 0);
  assert.match(gone.stderr, /cannot signal process 999999999/);
});
