// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
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
import { CLI } from './harness.js';
import { NetnsLab, labUnavailable, waitFor, type LabProcess } from '../../src/lab/netns.js';
import { AnycastLab, VIP, CLIENT_ADDR, ROUTER_IIF } from '../../src/lab/anycast-lab.js';
import { compareMaps, flowMap, makeTuples, type MoveReport } from '../../src/lab/flow-map.js';

const GROUP_ID = 20000;
const skip = labUnavailable(['ip', 'bird']) ?? false;

const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface Outcome { withdrawal: MoveReport; scaleOut: MoveReport; withdrawMs: number; restartMoved: number }

/** Starts `switchyard route-agent` in the router namespace; resolves once its first pass is done. */
async function startAgent(ac: AnycastLab, extra: string[]): Promise<LabProcess> {
  const p = ac.lab.spawn(ac.router.ns, 'agent', process.execPath, [CLI, 'route-agent', '--prefix', `${VIP}/32`, '--group-id', String(GROUP_ID), '--buckets', '64', '--resync', '60000', ...extra], { ...process.env, SWITCHYARD_LOG_PRETTY: '0' });
  await Promise.race([
    waitFor(() => p.output().includes('route agent running'), 20_000, 20, 'the route agent to run'),
    p.exited.then((code) => { throw new Error(`route agent exited (${code}) before running: ${p.output()}`); }),
  ]);
  return p;
}

/** Adds node `i` and announces the VIP from its BIRD (no Switchyard here: only the routes matter). */
async function startNode(ac: AnycastLab, i: number): Promise<void> {
  await ac.addNode(i);
  await ac.announce(i);
}

/**
 * Nodes 1-4 announce; node 1's BIRD is killed (4→3); node 5 starts (3→4); with the agent, it is
 * restarted (--keep-on-exit) and stopped. `check` sees the lab once the first route is up. Flow maps
 * of 200 tuples before and after each change.
 */
async function scenario(withAgent: boolean, check: (router: string) => Promise<void>): Promise<Outcome> {
  const lab = NetnsLab.create();
  try {
    const ac = new AnycastLab(lab, { client: true });
    await ac.up();
    const router = ac.router.ns;
    const proto = withAgent ? '250' : 'bird';
    const settled = async (want: string[], timeoutMs = 20000): Promise<number> => {
      const ms = await waitFor(async () => same(await ac.routeDevs(proto), want), timeoutMs, 20, `route via ${want.join(',')}`);
      if (withAgent) await waitFor(async () => same(await ac.routeDevs('bird'), want), 5000, 20, 'BIRD route too');
      return ms;
    };
    for (const i of [1, 2, 3, 4]) await startNode(ac, i);
    let agent = withAgent ? await startAgent(ac, ['--keep-on-exit']) : undefined;
    await settled(['n1', 'n2', 'n3', 'n4']);
    await check(router);
    const tuples = makeTuples(200, CLIENT_ADDR, VIP, 80, 42);
    const m4 = await flowMap(router, ROUTER_IIF, tuples);
    await ac.node(1).bird.process.stop('SIGKILL');
    // BIRD withdraws on the session reset within milliseconds; the agent follows on the netlink event
    // (its resync is set to 60 s, so only the event can make this bound, ~100x the usual ~20-70 ms)
    const withdrawMs = await settled(['n2', 'n3', 'n4'], 3000);
    const m3 = await flowMap(router, ROUTER_IIF, tuples);
    await startNode(ac, 5);
    await settled(['n2', 'n3', 'n4', 'n5']);
    const m4b = await flowMap(router, ROUTER_IIF, tuples);
    let restartMoved = 0;
    if (agent !== undefined) {
      // --keep-on-exit: the group stays; a new agent takes it over without moving a flow
      await agent.stop();
      assert.deepEqual(await ac.routeDevs('250'), ['n2', 'n3', 'n4', 'n5']);
      agent = await startAgent(ac, []);
      restartMoved = compareMaps(m4b, await flowMap(router, ROUTER_IIF, tuples), new Set(), new Set()).moved;
      // a clean stop (without --keep-on-exit) removes the agent's route and group; BIRD's multipath route carries on
      await agent.stop();
      assert.deepEqual(await ac.routeDevs('250'), []);
      assert.deepEqual(await ac.routeDevs('bird'), ['n2', 'n3', 'n4', 'n5']);
      assert.equal(execFileSync('ip', ['-n', router, 'nexthop', 'show']).toString().trim(), '');
    }
    return {
      withdrawal: compareMaps(m4, m3, new Set(['n1']), new Set()),
      scaleOut: compareMaps(m3, m4b, new Set(), new Set(['n5'])),
      withdrawMs,
      restartMoved,
    };
  } finally {
    await lab.destroy();
  }
}

test('route agent: resilient group with every announced nexthop; a withdrawal, an addition and an agent restart move no flow of the other nodes', { skip, timeout: 90_000 }, async (t) => {
  const r = await scenario(true, async (router) => {
    const [group] = JSON.parse(execFileSync('ip', ['-n', router, '-json', 'nexthop', 'show', 'id', String(GROUP_ID)]).toString()) as
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
