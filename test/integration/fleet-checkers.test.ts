// engine-independent: checker election and published health run in the primary, so the suite runs it once (package.json "test").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { freePort, baseConfig, withTestEngine, launchSwitchyard, sleep, pollUntil, CLI, type Switchyard } from './harness.js';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';
import { startControlBackend, type ControlBackend } from '../support/control-backend.js';

/*
 * Health checkers as their own role: two checkers in a zone elect a primary through etcd, the
 * primary publishes backend health, an LB node that checks nothing itself follows it. The primary
 * dies → the secondary takes over; all checkers die → the LB node keeps the last states.
 */

const PREFIX = '/swy-checkers';
const dir = mkdtempSync(join(tmpdir(), 'swy-checkers-'));
let etcd: EtcdHandle;
let backends: ControlBackend[];
const procs: Switchyard[] = [];
let lb: Switchyard;
let checkers: Switchyard[];
const agent = new Agent({ connections: 4 });

function node(id: string, role: string, port = 0): Promise<Switchyard> {
  const args = ['start', '--store', etcd.url(PREFIX), '--cache', join(dir, `${id}.json`), '--node-id', id, '--role', role, '--zone', 'z1', '--lease-ttl', '2'];
  if (port !== 0) args.push('--listen', `web=127.0.0.1:${port}`);
  return launchSwitchyard(args, port, join(dir, `${id}.json`)).then((s) => { procs.push(s); return s; });
}

/** Requests to the LB node; how many reached backend 0. */
async function shareOfFirst(n = 40): Promise<number> {
  const before = backends[0].requests;
  for (let i = 0; i < n; i++) {
    const r = await request(`${lb.url}/x`, { dispatcher: agent, headersTimeout: 3000 });
    await r.body.dump();
    assert.equal(r.statusCode, 200);
  }
  return backends[0].requests - before;
}

/**
 * Sends rounds of 10 requests until one round's count on backend 0 satisfies `ok`: the state a
 * checker published reaches the LB node's worker through etcd and its primary, with no log line
 * on the LB node to wait for.
 */
const untilShare = (what: string, ok: (ofTen: number) => boolean) => pollUntil(what, () => shareOfFirst(10), ok, 10_000);

before(async () => {
  etcd = await startEtcd();
  backends = [await startControlBackend('b0'), await startControlBackend('b1')];
  const cfg = withTestEngine(baseConfig(9, {
    app: {
      balancer: { algorithm: 'round-robin' },
      backends: backends.map((b) => ({ address: b.address })),
      healthCheck: { path: '/health', interval: '100ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 2 },
      outlierDetection: { enabled: false },
    },
  }));
  const file = join(dir, 'fleet.yaml');
  writeFileSync(file, stringify(cfg));
  const r = spawnSync(process.execPath, [CLI, 'config', 'push', file, '--store', etcd.url(PREFIX)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  checkers = [await node('checker-a', 'checker')];
  await checkers[0].waitForLog(/elected primary/, 10_000);
  checkers.push(await node('checker-b', 'checker'));
  lb = await node('lb-1', 'lb', await freePort());
});

after(async () => {
  for (const p of procs) await p.stop().catch(() => undefined);
  await agent.close();
  for (const b of backends) await b.close();
  await etcd?.stop();
});

test('the LB node follows the primary checker: an unhealthy backend gets no traffic, a healthy one comes back', { timeout: 30_000 }, async () => {
  await lb.waitForLog(/following checker checker-a/, 10_000);
  assert.ok(await shareOfFirst() > 0);
  let from = checkers[0].output().length;
  backends[0].set({ kind: 'status', status: 500 }, 'health');
  const mark = lb.output().length;
  await checkers[0].waitForLog(new RegExp(`health: app/${backends[0].address.replace(/\./g, '\\.')} → unhealthy`), 10_000, from);
  await untilShare('the LB node to stop sending to backend 0', (n) => n === 0);
  assert.equal(await shareOfFirst(), 0, 'no traffic to the backend the checker marked unhealthy');
  assert.equal(lb.output().slice(mark).includes('health: app'), false, 'the LB node ran no checks of its own');
  from = checkers[0].output().length;
  backends[0].set({ kind: 'ok' }, 'health');
  await checkers[0].waitForLog(/→ healthy/, 10_000, from);
  await untilShare('backend 0 to get traffic again', (n) => n > 0);
});

test('the primary checker dies: the secondary takes over within the lease TTL', { timeout: 30_000 }, async () => {
  const mark = lb.output().length;
  const t0 = Date.now();
  checkers[0].proc.kill('SIGKILL');
  await lb.waitForLog(/following checker checker-b/, 15_000, mark);
  console.log(`# checker failover: the LB node followed the secondary after ${Date.now() - t0} ms (election lease TTL 2 s)`);
  // The new primary's own checks now drive the LB node.
  // Checker-b checked while standby, so its log already holds backend 0's changes of the test before: read only what follows.
  let from = checkers[1].output().length;
  backends[1].set({ kind: 'status', status: 500 }, 'health');
  await checkers[1].waitForLog(new RegExp(`health: app/${backends[1].address.replace(/\./g, '\\.')} → unhealthy`), 10_000, from);
  await untilShare('the LB node to send everything to backend 0', (n) => n === 10);
  assert.equal(await shareOfFirst(20), 20, 'all traffic on the backend still healthy');
  from = checkers[1].output().length;
  backends[1].set({ kind: 'ok' }, 'health');
  await checkers[1].waitForLog(/→ healthy/, 10_000, from);
  await untilShare('backend 1 to get traffic again', (n) => n < 10);
});

test('all checkers gone: the LB node keeps the last published states and says so', { timeout: 30_000 }, async () => {
  const mark = lb.output().length;
  checkers[1].proc.kill('SIGKILL');
  await lb.waitForLog(/no checker has published recently; keeping the last published states/, 15_000, mark);
  // Nobody checks any more: a backend failing its health check now still gets traffic (last state: healthy).
  backends[0].set({ kind: 'status', status: 500 }, 'health');
  await sleep(500);
  const share = await shareOfFirst(20);
  assert.ok(share > 0, 'last known states stay in force');
  backends[0].set({ kind: 'ok' }, 'health');
});
