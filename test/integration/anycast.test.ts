/*
 * Anycast with real daemons: a router namespace running BIRD (dynamic BGP, BFD 100 ms × 3, ECMP
 * merge paths) and three node namespaces, each with its own BIRD, demo backends on its loopback
 * and a real Switchyard process announcing the VIP through its BIRD's control socket. Checks the
 * router's route: every node's nexthop while all are ready; a node whose backends die withdraws;
 * it comes back only after the hold-down; a silently failed node (nftables drop-all) is gone at
 * BFD speed; a killed one is withdrawn by its watchdog; a drained node tells clients to go, then
 * withdraws, then closes its listener. Traffic stays in the lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { NetnsLab, labUnavailable, waitFor, type LabProcess } from '../../src/lab/netns.js';
import { AnycastLab } from '../../src/lab/anycast-lab.js';
import { startLabBackends, startProber, type Prober } from '../../src/lab/probe.js';
import { CLI, withTestEngine } from './harness.js';

const unavailable = labUnavailable(['ip', 'bird', 'nft']);
const HOLD_DOWN_MS = 1500;
const WITHDRAW_WAIT_MS = 1500;
const GO_AWAY_MS = 700;

interface Node { i: number; ns: string; sy: LabProcess; backends: LabProcess; probe: Prober }

/** One node's Switchyard config: readiness needs half of `app`'s two backends healthy (checked every 100 ms). */
function nodeConfig(socket: string): Record<string, unknown> {
  return withTestEngine({
    workers: 1,
    listeners: [{ name: 'web', address: '0.0.0.0:8080' }],
    routes: [{ service: 'app' }],
    services: {
      app: {
        backends: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002' }],
        healthCheck: { type: 'tcp', interval: '100ms', timeout: '100ms', unhealthyThreshold: 2, healthyThreshold: 2 },
      },
    },
    shutdown: { drainTimeout: '5s' },
    admin: { address: '127.0.0.1:9901' },
    anycast: {
      vips: ['198.51.100.10/32'], bird: { socket, protocols: ['vip'] }, policy: [{ service: 'app', minHealthy: 0.5 }],
      holdDown: `${HOLD_DOWN_MS}ms`, goAwayBeforeWithdraw: `${GO_AWAY_MS}ms`, withdrawWait: `${WITHDRAW_WAIT_MS}ms`, pollInterval: '500ms',
    },
  });
}

const without = (all: string[], x: string) => !all.includes(x);

test('anycast: announce while ready, withdraw on backend loss, hold-down, BFD on silent failure, withdraw before drain', { skip: unavailable, timeout: 120_000 }, async (t) => {
  const lab = NetnsLab.create();
  t.after(async () => {
    await lab.destroy();
    assert.deepEqual(lab.leftovers(), [], 'every namespace of the lab is deleted');
  });
  const ac = new AnycastLab(lab);
  await ac.up();
  const router = startProber(lab, ac.router.ns);
  const nodes: Node[] = [];
  for (const i of [1, 2, 3]) {
    const n = await ac.addNode(i);
    const backends = await startLabBackends(lab, n.ns, `backends-n${i}`, [9001, 9002]);
    const config = join(lab.dir, `switchyard-n${i}.yaml`);
    writeFileSync(config, stringify(nodeConfig(n.bird.socket)));
    const sy = lab.spawn(n.ns, `switchyard-n${i}`, process.execPath, [CLI, 'start', '-c', config], { ...process.env, SWITCHYARD_LOG_LEVEL: 'info' });
    nodes.push({ i, ns: n.ns, sy, backends, probe: startProber(lab, n.ns) });
  }
  const readyz = async (n: Node) => (await n.probe.get('http://127.0.0.1:9901/readyz')).status;

  await t.test('every ready node is a nexthop of the VIP route; the VIP answers', async () => {
    await waitFor(async () => (await ac.nexthops()).length === 3, 30_000, 50, `3 nexthops (have ${await ac.nexthops()})`);
    assert.deepEqual(await ac.nexthops(), ['n1', 'n2', 'n3']);
    const answers = await Promise.all(Array.from({ length: 12 }, () => router.get('http://198.51.100.10:8080/')));
    assert.deepEqual(answers.map((a) => a.status), Array(12).fill(200));
    for (const n of nodes) {
      assert.equal(await readyz(n), 200);
      assert.match((await n.probe.get('http://127.0.0.1:9901/metrics')).body ?? '', /^switchyard_anycast_announced\{vip="198\.51\.100\.10\/32"\} 1$/m);
    }
  });

  await t.test('a node whose backends go down withdraws itself; the others stay', async () => {
    const n2 = nodes[1];
    await n2.backends.stop('SIGKILL');
    const ms = await waitFor(async () => without(await ac.nexthops(), 'n2'), 10_000, 20, 'n2 to be withdrawn');
    t.diagnostic(`backends killed → n2 withdrawn: ${ms.toFixed(0)} ms (health: 2 × 100 ms checks)`);
    assert.deepEqual(await ac.nexthops(), ['n1', 'n3']);
    const r = await n2.probe.get('http://127.0.0.1:9901/readyz');
    assert.equal(r.status, 503);
  });

  await t.test('it comes back after the hold-down, not on the first good check', async () => {
    const n2 = nodes[1];
    n2.backends = await startLabBackends(lab, n2.ns, 'backends-n2-again', [9001, 9002]);
    await waitFor(async () => (await readyz(n2)) === 200, 10_000, 20, 'n2 ready again');
    const readyAt = performance.now();
    assert.ok(without(await ac.nexthops(), 'n2'), 'not re-announced the moment it is ready');
    await waitFor(async () => (await ac.nexthops()).includes('n2'), 10_000, 20, 'n2 re-announced');
    const held = performance.now() - readyAt;
    t.diagnostic(`ready → re-announced: ${held.toFixed(0)} ms (hold-down ${HOLD_DOWN_MS} ms)`);
    // Readiness was seen up to one poll after it began: allow that much of the hold-down to have passed.
    assert.ok(held >= HOLD_DOWN_MS - 300, `re-announced ${held.toFixed(0)} ms after becoming ready`);
  });

  await t.test('a silent failure (every packet dropped in the node) is withdrawn at BFD speed', async () => {
    const n3 = nodes[2];
    await waitFor(async () => (await ac.nexthops()).length === 3, 10_000, 20, '3 nexthops');
    const t0 = performance.now();
    await lab.blackhole(n3.ns);
    await waitFor(async () => without(await ac.nexthops(), 'n3'), 10_000, 5, 'n3 to be withdrawn by BFD');
    const ms = performance.now() - t0;
    t.diagnostic(`silent failure → n3 out of the route: ${ms.toFixed(0)} ms (BFD 100 ms × 3; BGP hold timer alone: 90-240 s)`);
    assert.ok(ms < 3000, `withdrawn after ${ms.toFixed(0)} ms`);
    await lab.unblackhole(n3.ns);
  });

  await t.test('process death (kill -9 of Switchyard, its BIRD alive): the watchdog withdraws the VIP', async () => {
    const n2 = nodes[1];
    assert.ok((await ac.nexthops()).includes('n2'));
    const t0 = performance.now();
    n2.sy.proc.kill('SIGKILL');
    await waitFor(async () => without(await ac.nexthops(), 'n2'), 5000, 5, 'n2 withdrawn after kill -9');
    t.diagnostic(`kill -9 → n2 out of the route: ${(performance.now() - t0).toFixed(0)} ms`);
    const protocols = await lab.birdc(ac.nodes.get(2)!.bird.socket, 'show protocols');
    assert.match(protocols.lines.map((l) => l.text).join('\n'), /^vip\s+Static\s+\S+\s+down/m, 'the VIP protocol is disabled in the node\'s BIRD');
  });

  await t.test('drain (SIGTERM): clients told to go while announced, then the VIP withdrawn, the listener open until routers moved, exit 0', async () => {
    const n1 = nodes[0];
    assert.ok((await ac.nexthops()).includes('n1'));
    const direct = 'http://10.20.1.2:8080/';
    const before = await router.get(direct, 1000, true);
    assert.equal(before.status, 200);
    assert.notEqual(before.connection, 'close', 'a kept-alive connection before the drain');
    const t0 = performance.now();
    n1.sy.proc.kill('SIGTERM');
    // A kept-alive client is told to go (Connection: close) while the VIP is still announced.
    let goAwayMs = 0;
    await waitFor(async () => {
      const a = await router.get(direct, 1000, true);
      if (a.connection !== 'close') return false;
      goAwayMs = performance.now() - t0;
      assert.equal(a.status, 200);
      return true;
    }, 5000, 20, 'Connection: close from n1');
    assert.ok((await ac.nexthops()).includes('n1'), 'still announced while clients are told to go');
    await waitFor(async () => without(await ac.nexthops(), 'n1'), 5000, 5, 'n1 withdrawn on drain');
    const withdrawnMs = performance.now() - t0;
    assert.ok(withdrawnMs >= GO_AWAY_MS - 50, `withdrawn ${withdrawnMs.toFixed(0)} ms after SIGTERM, after the go-away wait`);
    const after = await router.get(direct);
    assert.equal(after.status, 200, `the listener still serves after the withdrawal (${JSON.stringify(after)})`);
    let closedMs = 0;
    await waitFor(async () => {
      const a = await router.get(direct, 500);
      if (a.error === undefined) return false;
      closedMs = performance.now() - t0;
      return true;
    }, 15_000, 20, 'n1 listener to close');
    t.diagnostic(`SIGTERM → Connection: close ${goAwayMs.toFixed(0)} ms, withdrawn ${withdrawnMs.toFixed(0)} ms, listener closed ${closedMs.toFixed(0)} ms (goAwayBeforeWithdraw ${GO_AWAY_MS} ms, withdrawWait ${WITHDRAW_WAIT_MS} ms)`);
    assert.ok(withdrawnMs < closedMs, 'withdrawn before the listener closed');
    assert.equal(await n1.sy.exited, 0);
    assert.deepEqual((await ac.nexthops()).includes('n1'), false);
  });
});
