import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBackends, freePort, baseConfig, withTestEngine, launchSwitchyard, sleep, CLI, type Backend, type Switchyard } from './harness.js';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';

/*
 * N+1 per zone on a real fleet: Switchyard nodes in zones a and b registered in a real etcd;
 * `switchyard fleet --check` fails while a zone has a single LB node and passes once it has two,
 * and fails again when a node of the other zone leaves.
 */

const PREFIX = '/swy-zones';
const dir = mkdtempSync(join(tmpdir(), 'swy-fleet-zones-'));
let etcd: EtcdHandle;
let backends: Backend[];
const nodes = new Map<number, Switchyard>();

function cli(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

async function startNode(i: number, zone: string): Promise<void> {
  const port = await freePort();
  const args = ['start', '--store', etcd.url(PREFIX), '--cache', join(dir, `cache-${i}.json`), '--node-id', `node-${i}`,
    '--role', 'lb', '--zone', zone, '--lease-ttl', '3', '--listen', `web=127.0.0.1:${port}`];
  nodes.set(i, await launchSwitchyard(args, port, join(dir, `cache-${i}.json`)));
}

/** Polls `fleet --check` until the member list holds `count` nodes; returns the last answer. */
async function checkWith(count: number): Promise<{ code: number; out: string }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = cli(['fleet', '--store', etcd.url(PREFIX), '--json']);
    if (r.code === 0 && (JSON.parse(r.out) as unknown[]).length === count) return cli(['fleet', '--store', etcd.url(PREFIX), '--check']);
    if (Date.now() > deadline) throw new Error(`the member list did not reach ${count} nodes: ${r.out}`);
    await sleep(200);
  }
}

before(async () => {
  etcd = await startEtcd();
  backends = await startBackends(1);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(withTestEngine(baseConfig(9, { app: { backends: [{ address: backends[0].address, zone: 'a' }] } }, undefined, { workers: 1 }))));
  const pushed = cli(['config', 'push', file, '--store', etcd.url(PREFIX), '-m', 'zones']);
  assert.equal(pushed.code, 0, pushed.out);
});

after(async () => {
  for (const n of nodes.values()) await n.stop().catch(() => undefined);
  await Promise.all(backends.map((b) => b.close()));
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('fleet --check: a zone with one LB node is below N+1; a second node fixes it; losing one breaks it again', { timeout: 120_000 }, async () => {
  await Promise.all([startNode(0, 'a'), startNode(1, 'a'), startNode(2, 'b')]);
  let r = await checkWith(3);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^a +2 /m);
  assert.match(r.out, /warning: zone b: 1 LB node, below N\+1/);
  assert.doesNotMatch(r.out, /warning: zone a/);

  await startNode(3, 'b');
  r = await checkWith(4);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /N\+1 per zone: ok/);
  assert.match(cli(['fleet', '--store', etcd.url(PREFIX)]).out, /4 node\(s\)\n\nZONE .*\n(a|b) +2 [\s\S]*N\+1 per zone: ok/);

  await nodes.get(0)!.stop();
  nodes.delete(0);
  r = await checkWith(3);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /warning: zone a: 1 LB node, below N\+1/);
});
