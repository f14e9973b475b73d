#!/usr/bin/env node
// ECMP flow remapping: how many of a fixed set of TCP flows a router moves to another node when the
// anycast membership changes, with Linux's plain multipath route (what BIRD installs) vs the
// `switchyard route-agent` resilient nexthop group. Needs root, bird2 and a built tree (npm run build).
//
// Modes: plain (BIRD's route, no agent); resilient (agent, idle_timer 0: buckets move at once);
// resilient-idle (agent, --idle-timer 30: only buckets idle for 30 s move to a new node; the flow map
// itself keeps every bucket busy, like steady traffic would).
// Each run builds a fresh lab (src/lab/ecmp-lab.ts: client, router BIRD with BFD 100 ms x 3, 5 node
// BIRDs announcing the VIP), per mode:
//   scale-out 3→5   nodes 1-3 announce; flow map; nodes 4,5 start; flow map
//   withdrawal 5→4  node 2's BIRD is killed (SIGKILL); flow map
// The flow map asks the router's kernel (`ip route get ... sport X`) where each of --tuples flows goes.
// Timings on the withdrawal come from `ip -ts monitor` in the router: kill → BIRD's route change, and
// BIRD's route change → the agent's group change (the latency the agent adds).
//
// Besides the flow map, --conns real TCP connections (client namespace → VIP:80, a greeting/echo
// server on each node) stay open across both changes; a connection the router moves is reset by the
// node it lands on, so the broken count is measured, not inferred.
//
//   node bench/ecmp-flows.mjs [--runs 3] [--tuples 1000] [--conns 300] [--json FILE]
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EcmpLab, VIP, CLIENT_ADDR, ROUTER_IIF, waitFor } from '../dist/src/lab/ecmp-lab.js';
import { flowMap, makeTuples, compareMaps, shares } from '../dist/src/lab/flow-map.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 3));
const TUPLES = Number(arg('tuples', 1000));
const JSON_OUT = arg('json', undefined);
const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const GROUP_ID = 10000;
const CONNS = Number(arg('conns', 300));
const CONN_CLIENT = fileURLToPath(new URL('./lib/ecmp-conns-client.mjs', import.meta.url));
// each node: a TCP server on VIP:80 that greets with the node's name, then echoes
const SERVER = "const n=process.argv[1];require('net').createServer(s=>{s.on('error',()=>{});s.write(n+'\\n');s.pipe(s)}).listen(80,process.argv[2])";

/** Line reader over a child's stdout: next() resolves with the next line (rejects after 30 s). */
function lineReader(proc) {
  const queue = []; const waiting = [];
  readline.createInterface({ input: proc.stdout }).on('line', (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  return { next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => {
    waiting.push(resolve);
    setTimeout(() => reject(new Error('no line from the connection client in 30 s')), 30000).unref();
  })) };
}

if (process.getuid?.() !== 0) { console.error('ecmp-flows: needs root (network namespaces)'); process.exit(1); }

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** `ip -ts monitor route nexthop` in the router, lines with their wall-clock time (ms since epoch). */
function monitor(lab) {
  const p = spawn('ip', ['-n', lab.router, '-ts', 'monitor', 'route', 'nexthop'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } });
  const events = [];
  let buf = '';
  p.stdout.on('data', (d) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop();
    for (const l of lines) {
      const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] (.*)$/.exec(l);
      if (m) events.push({ t: Date.parse(`${m[1].slice(0, 23)}Z`) + Number(`0.${m[1].slice(23) || '0'}`), line: m[2] });
    }
  });
  return { events, stop: () => p.kill() };
}

const MODES = { plain: undefined, resilient: ['--idle-timer', '0'], 'resilient-idle': ['--idle-timer', '30'] };

/** Starts a connection client in the lab's client namespace; resolves with its probe function once all connections are open. */
async function connClient(lab, name) {
  const client = lab.spawnIn(lab.client, name, ['node', CONN_CLIENT, VIP, '80', String(CONNS)]);
  client.stderr.pipe(process.stderr);
  const out = lineReader(client);
  if (await out.next() !== 'ready') throw new Error('connection client did not start');
  return async () => { client.stdin.write('probe\n'); return JSON.parse(await out.next()); };
}

async function runMode(mode, seed) {
  const agentArgs = MODES[mode];
  const lab = await EcmpLab.create(5);
  try {
    const tuples = makeTuples(TUPLES, CLIENT_ADDR, VIP, 80, seed);
    const map = () => flowMap(lab.router, ROUTER_IIF, tuples);
    const devs = (n) => Array.from({ length: n }, (_, i) => `rl${i + 1}`);
    const settle = async (want) => {
      await waitFor(`BIRD route via ${want}`, async () => same(await lab.routeDevs('bird'), want), 20000);
      if (agentArgs) await waitFor(`agent group via ${want}`, async () => same(await lab.routeDevs('250'), want), 5000);
    };
    for (let i = 1; i <= 5; i++) lab.spawnIn(lab.node(i), `srv${i}`, ['node', '-e', SERVER, `n${i}`, VIP]).stdout.resume();
    for (const i of [1, 2, 3]) lab.startNode(i);
    if (agentArgs) {
      const agent = lab.spawnInRouter('agent', ['node', CLI, 'route-agent', '--prefix', `${VIP}/32`, '--group-id', String(GROUP_ID), '--log-level', 'warn', ...agentArgs], { ...process.env, SWITCHYARD_LOG_PRETTY: '0' });
      agent.stdout.pipe(process.stderr);
      agent.stderr.pipe(process.stderr);
    }
    await settle(devs(3));
    const m3 = await map();
    const probe3 = await connClient(lab, 'conns3');
    const c3 = await probe3();
    lab.startNode(4); lab.startNode(5);
    await settle(devs(5));
    const m5 = await map();
    const c5 = await probe3();
    const probe5 = await connClient(lab, 'conns5'); // opened across 5 nodes, for the withdrawal
    const d5 = await probe5();
    const scaleOut = compareMaps(m3, m5, new Set(), new Set(['rl4', 'rl5']));

    const mon = monitor(lab);
    await new Promise((r) => setTimeout(r, 200));
    const killedAt = Date.now();
    await lab.stopNode(2);
    await settle(['rl1', 'rl3', 'rl4', 'rl5']);
    await new Promise((r) => setTimeout(r, 100));
    mon.stop();
    const m4 = await map();
    const d4 = await probe5();
    const withdrawal = compareMaps(m5, m4, new Set(['rl2']), new Set());
    // established connections: broken by the scale-out; broken by the withdrawal among those not on n2
    const up3 = c3.filter((c) => c.alive).length;
    const broke35 = c3.filter((c, i) => c.alive && !c5[i].alive).length;
    const others = d5.map((c, i) => ({ ...c, after: d4[i].alive })).filter((c) => c.alive && c.node !== 'n2');
    const conns = {
      open: c3.length, up3,
      broken35Pct: (100 * broke35) / up3,
      brokenOthers54Pct: (100 * others.filter((c) => !c.after).length) / others.length,
      brokenN2: d5.filter((c, i) => c.alive && c.node === 'n2' && !d4[i].alive).length,
    };
    const birdEv = mon.events.find((e) => / proto bird /.test(`${e.line} `) || /^Deleted .*proto bird/.test(e.line));
    const groupEv = mon.events.find((e) => e.line.startsWith(`id ${GROUP_ID} group`));
    return {
      scaleOut, withdrawal, conns, split3: shares(m3), split5: shares(m5),
      killToBirdMs: birdEv ? birdEv.t - killedAt : undefined,
      birdToAgentMs: birdEv && groupEv ? groupEv.t - birdEv.t : undefined,
    };
  } finally {
    await lab.destroy();
  }
}

const stats = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const r = (x) => Math.round(x * 10) / 10;
  return `${r(v[0])} / ${r(v[Math.floor(v.length / 2)])} / ${r(v[v.length - 1])}`;
};

const results = Object.fromEntries(Object.keys(MODES).map((m) => [m, []]));
for (let run = 1; run <= RUNS; run++) {
  for (const mode of Object.keys(MODES)) {
    const r = await runMode(mode, run);
    results[mode].push(r);
    console.error(`run ${run} ${mode}: conns ${JSON.stringify(r.conns)}`);
    console.error(`run ${run} ${mode}: 3→5 moved ${r.scaleOut.movedPct}% (needless ${r.scaleOut.needlessPct}%), 5→4 moved ${r.withdrawal.movedPct}% (other nodes' flows moved ${r.withdrawal.needlessPct}%), kill→BIRD ${r.killToBirdMs?.toFixed(1)} ms, BIRD→agent ${r.birdToAgentMs?.toFixed(1) ?? '-'} ms, split5 ${JSON.stringify(r.split5)}`);
  }
}

console.log(`\n${TUPLES} TCP flows, ${RUNS} runs, min / median / max\n`);
console.log('| | plain multipath (BIRD) | resilient group, idle_timer 0 | resilient group, idle_timer 30 | ideal |');
console.log('|---|---|---|---|---|');
const row = (label, f, ideal) => console.log(`| ${label} | ${Object.keys(MODES).map((m) => stats(results[m].map(f))).join(' | ')} | ${ideal} |`);
row('3→5: flows moved %', (r) => r.scaleOut.movedPct, '40 (to the new nodes only)');
row('3→5: flows moved between the 3 old nodes % (needless)', (r) => r.scaleOut.needlessPct, '0');
row('3→5: flows moved to the 2 new nodes %', (r) => (100 * r.scaleOut.toAdded) / r.scaleOut.total, '40');
row('5→4: flows moved %', (r) => r.withdrawal.movedPct, '= share of the node that left (~20)');
row('5→4: flows of the 4 other nodes moved % (needless)', (r) => r.withdrawal.needlessPct, '0');
row(`3→5: established TCP connections broken % (${CONNS} open)`, (r) => r.conns.broken35Pct, '40 (reset by the new nodes)');
row('5→4: established connections of the 4 other nodes broken %', (r) => r.conns.brokenOthers54Pct, '0');
row('5→4: kill → BIRD route change, ms', (r) => r.killToBirdMs, '');
row('5→4: BIRD route change → agent group change, ms', (r) => r.birdToAgentMs, '');
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
