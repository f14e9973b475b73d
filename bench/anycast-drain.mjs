// Anycast node side, measured in a network-namespace lab (root, bird2, nftables): a router with
// BIRD (ECMP, L4 hash, BFD 100 ms × 3) and 3 nodes, each with its BIRD, a real Switchyard and demo
// backends. Per run: (1) silent failure of node 3 (nftables drop-all) under new-connection load —
// time until the router's route loses it, failed requests, time until it is back once lifted;
// (2) a drain of node 1 (SIGTERM) under kept-alive load from the client namespace through the VIP —
// failed requests — for each goAwayBeforeWithdraw value (1s: clients told to go before the
// withdrawal, the default; 0ms: withdraw first). Plain Linux multipath (no route agent).
//
//   npm run build && node bench/anycast-drain.mjs [--runs 3] [--conns 8] [--seconds 6] [--pause 200]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseSpec, specUsage } from './lib/args.mjs';

const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const { NetnsLab, labUnavailable, waitFor } = await import(dist('lab/netns.js'));
const { AnycastLab } = await import(dist('lab/anycast-lab.js'));
const { startLabBackends, LAB_AGENT } = await import(dist('lab/probe.js'));
const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

const SPEC = {
  runs: { env: 'ANYCAST_RUNS', def: '3', help: 'labs built per drain order' },
  conns: { env: 'ANYCAST_CONNS', def: '8', help: 'client loops (sequential GETs each)' },
  seconds: { env: 'ANYCAST_SECONDS', def: '6', help: 'load duration; node 1 is drained 2 s in' },
  'go-away': { env: 'ANYCAST_GO_AWAY', def: '1s,0ms', help: 'goAwayBeforeWithdraw values to compare' },
  pause: { env: 'ANYCAST_PAUSE', def: '0', help: 'ms each kept-alive client waits between requests (its connection idle meanwhile)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/anycast-drain.mjs', SPEC));
const why = labUnavailable(['ip', 'bird', 'nft']);
if (why !== undefined) { console.error(`skipped: ${why}`); process.exit(0); }

function config(socket, goAway) {
  return {
    workers: 1, logLevel: 'warn',
    listeners: [{ name: 'web', address: '0.0.0.0:8080' }],
    routes: [{ service: 'app' }],
    services: { app: { backends: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002' }], healthCheck: { type: 'tcp', interval: '200ms', timeout: '100ms' } } },
    shutdown: { drainTimeout: '5s' },
    anycast: { vips: ['198.51.100.10/32'], bird: { socket }, policy: [{ service: 'app' }], holdDown: '500ms', goAwayBeforeWithdraw: goAway, withdrawWait: '1s', pollInterval: '500ms' },
  };
}

async function run(goAway) {
  const lab = NetnsLab.create();
  try {
    const ac = new AnycastLab(lab, { client: true });
    await ac.up();
    const sy = [];
    for (const i of [1, 2, 3]) {
      const n = await ac.addNode(i);
      await startLabBackends(lab, n.ns, `backends-n${i}`, [9001, 9002]);
      const file = join(lab.dir, `n${i}.yaml`);
      writeFileSync(file, stringify(config(n.bird.socket, goAway)));
      sy.push(lab.spawn(n.ns, `switchyard-n${i}`, process.execPath, [CLI, 'start', '-c', file]));
    }
    await waitFor(async () => (await ac.nexthops()).length === 3, 60_000, 50, '3 nexthops').catch(async (e) => {
      const show = async (socket) => (await lab.birdc(socket, 'show protocols')).lines.map((l) => l.text).join('\n');
      console.error(`${e.message}; route: ${await ac.nexthops()}\nrouter:\n${await show(ac.router.bird.socket)}`);
      for (const [i, n] of ac.nodes) console.error(`node ${i}:\n${await show(n.bird.socket)}\n${sy[i - 1].output().slice(-2000)}`);
      throw e;
    });
    const result = {};
    // First a silent failure of node 3 under new-connection load; node 3 is restored, then node 1
    // is drained under kept-alive load.
    for (const mode of ['new', 'keepalive']) {
      const t = performance.now();
      await waitFor(async () => (await ac.nexthops()).length === 3, 60_000, 20, '3 nexthops');
      if (mode === 'keepalive') result.restoreMs = Math.round(performance.now() - t);
      const load = lab.spawn(ac.client, `load-${mode}`, process.execPath, [LAB_AGENT, 'load', `http://${ac.vipAddress}:8080/`, String(opts.conns), String(opts.seconds), mode, mode === 'keepalive' ? opts.pause : '0']);
      await new Promise((r) => setTimeout(r, 2000));
      const gone = mode === 'keepalive' ? 'n1' : 'n3';
      const t0 = performance.now();
      if (mode === 'keepalive') sy[0].proc.kill('SIGTERM');
      else await lab.blackhole(ac.nodes.get(3).ns);
      await waitFor(async () => !(await ac.nexthops()).includes(gone), 10_000, 5, `${gone} withdrawn`);
      const ms = performance.now() - t0;
      await load.exited;
      if (mode === 'new') await lab.unblackhole(ac.nodes.get(3).ns);
      result[mode] = { ...JSON.parse(load.output().trim().split('\n').pop()), routeMs: Math.round(ms) };
    }
    return result;
  } finally {
    await lab.destroy();
  }
}

const stats = (xs) => { const s = [...xs].sort((a, b) => a - b); return `${s[0]} / ${s[Math.floor(s.length / 2)]} / ${s[s.length - 1]}`; };
for (const goAway of opts['go-away'].split(',')) {
  const rows = [];
  for (let i = 0; i < Number(opts.runs); i++) rows.push(await run(goAway));
  const ka = rows.map((r) => r.keepalive);
  const nw = rows.map((r) => r.new);
  console.log(`\ngoAwayBeforeWithdraw ${goAway}: drain of node 1 under ${opts.conns} kept-alive client loops, ${opts.pause} ms between requests (${opts.runs} runs, min / median / max)`);
  console.log(`  requests ok        ${stats(ka.map((r) => r.ok))}`);
  console.log(`  requests failed    ${stats(ka.map((r) => r.failed))}   ${ka.map((r) => JSON.stringify(r.errors)).join(' ')}`);
  console.log(`  SIGTERM → route    ${stats(ka.map((r) => r.routeMs))} ms`);
  console.log(`  (node 3 back in the route ${stats(rows.map((r) => r.restoreMs))} ms after the blackhole was lifted)`);
  console.log(`  (before: silent failure of node 3 under ${opts.conns} new-connection loops: route ${stats(nw.map((r) => r.routeMs))} ms, failed ${stats(nw.map((r) => r.failed))}, ok ${stats(nw.map((r) => r.ok))})`);
}
