/*
 * The route agent on a real router: network namespaces, real BIRD (eBGP + BFD) on the router and on
 * each node, `switchyard route-agent` as a real process in the router's namespace. The kernel's own
 * forwarding decision (`ip route get ... sport X`) for 200 fixed TCP flows shows which flows moved.
 * The second test is the control: without the agent, BIRD's plain multipath route moves flows of
 * nodes that did not change — so the first test's "0 moved" can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI } from './harness.js';
import { EcmpLab, VIP, CLIENT_ADDR, ROUTER_IIF, waitFor } from '../../src/lab/ecmp-lab.js';
import { compareMaps, flowMap, makeTuples, type MoveReport } from '../../src/lab/flow-map.js';

const GROUP_ID = 20000;
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)'
  : !existsSync('/usr/sbin/bird') ? 'needs BIRD 2 (apt-get install bird2)' : false;

const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface Outcome { withdrawal: MoveReport; scaleOut: MoveReport; withdrawMs: number; restartMoved: number }

/** Starts `switchyard route-agent` in the router namespace; resolves once its first pass is done. */
async function startAgent(lab: EcmpLab, extra: string[]): Promise<void> {
  const p = lab.spawnInRouter('agent', ['node', CLI, 'route-agent', '--prefix', `${VIP}/32`, '--group-id', String(GROUP_ID), '--buckets', '64', '--resync', '60000', ...extra], { ...process.env, SWITCHYARD_LOG_PRETTY: '0' });
  let out = '';
  p.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('route agent running')) resolve(); });
    p.once('exit', (code) => reject(new Error(`route agent exited (${code}) before running: ${out}`)));
  });
}

/**
 * Nodes 1-4 announce; node 1's BIRD is killed (4→3); node 5 starts (3→4); with the agent, it is
 * restarted (--keep-on-exit) and stopped. `check` sees the lab once the first route is up. Flow maps
 * of 200 tuples before and after each change.
 */
async function scenario(withAgent: boolean, check: (lab: EcmpLab) => Promise<void>): Promise<Outcome> {
  const lab = await EcmpLab.create(5);
  try {
    const proto = withAgent ? '250' : 'bird';
    const settled = async (want: string[], timeoutMs = 20000): Promise<number> => {
      const ms = await waitFor(`route via ${want.join(',')}`, async () => same(await lab.routeDevs(proto), want), timeoutMs);
      if (withAgent) await waitFor('BIRD route too', async () => same(await lab.routeDevs('bird'), want), 5000);
      return ms;
    };
    for (const i of [1, 2, 3, 4]) lab.startNode(i);
    if (withAgent) await startAgent(lab, ['--keep-on-exit']);
    await settled(['rl1', 'rl2', 'rl3', 'rl4']);
    await check(lab);
    const tuples = makeTuples(200, CLIENT_ADDR, VIP, 80, 42);
    const m4 = await flowMap(lab.router, ROUTER_IIF, tuples);
    await lab.stopNode(1);
    // BIRD withdraws on the session reset within milliseconds; the agent follows on the netlink event
    // (its resync is set to 60 s, so only the event can make this bound, ~100x the usual ~20-70 ms)
    const withdrawMs = await settled(['rl2', 'rl3', 'rl4'], 3000);
    const m3 = await flowMap(lab.router, ROUTER_IIF, tuples);
    lab.startNode(5);
    await settled(['rl2', 'rl3', 'rl4', 'rl5']);
    const m4b = await flowMap(lab.router, ROUTER_IIF, tuples);
    let restartMoved = 0;
    if (withAgent) {
      // --keep-on-exit: the group stays; a new agent takes it over without moving a flow
      await lab.stopProc('agent');
      assert.deepEqual(await lab.routeDevs('250'), ['rl2', 'rl3', 'rl4', 'rl5']);
      await startAgent(lab, []);
      restartMoved = compareMaps(m4b, await flowMap(lab.router, ROUTER_IIF, tuples), new Set(), new Set()).moved;
      // a clean stop (without --keep-on-exit) removes the agent's route and group; BIRD's multipath route carries on
      await lab.stopProc('agent');
      assert.deepEqual(await lab.routeDevs('250'), []);
      assert.deepEqual(await lab.routeDevs('bird'), ['rl2', 'rl3', 'rl4', 'rl5']);
      assert.equal(execFileSync('ip', ['-n', lab.router, 'nexthop', 'show']).toString().trim(), '');
    }
    return {
      withdrawal: compareMaps(m4, m3, new Set(['rl1']), new Set()),
      scaleOut: compareMaps(m3, m4b, new Set(), new Set(['rl5'])),
      withdrawMs,
      restartMoved,
    };
  } finally {
    await lab.destroy();
  }
}

test('route agent: resilient group with every announced nexthop; a withdrawal, an addition and an agent restart move no flow of the other nodes', { skip, timeout: 90_000 }, async (t) => {
  const r = await scenario(true, async (lab) => {
    const [group] = JSON.parse(execFileSync('ip', ['-n', lab.router, '-json', 'nexthop', 'show', 'id', String(GROUP_ID)]).toString()) as
      { type: string; group: { id: number }[]; resilient_args: { buckets: number } }[];
    assert.equal(group.type, 'resilient');
    assert.equal(group.resilient_args.buckets, 64);
    assert.equal(group.group.length, 4);
  });
  t.diagnostic(`withdrawal reached the agent's group ${r.withdrawMs.toFixed(0)} ms after the kill; ${JSON.stringify(r)}`);
  assert.ok(r.withdrawal.fromRemoved > 0, 'some flows were on the withdrawn node');
  assert.equal(r.withdrawal.moved, r.withdrawal.fromRemoved, 'only the withdrawn node\'s flows moved');
  assert.equal(r.withdrawal.needless, 0);
  assert.equal(r.scaleOut.needless, 0, 'on the addition, flows moved only to the new node');
  assert.ok(r.scaleOut.toAdded > 0, 'the new node got flows');
  assert.equal(r.restartMoved, 0, 'an agent restarted over a kept group moved no flow');
});

test('control, no agent: BIRD\'s plain multipath route moves flows of nodes that did not change', { skip, timeout: 90_000 }, async (t) => {
  const r = await scenario(false, async () => undefined);
  t.diagnostic(JSON.stringify(r));
  assert.ok(r.withdrawal.needless > 0, `plain multipath moved ${r.withdrawal.needless} flows of the other nodes`);
  assert.ok(r.scaleOut.needless > 0);
});
