import { SwitchyardLab, type LoadResult } from './switchyard-lab.js';

/*
 * The scenarios of `switchyard lab anycast demo`, one lab per run: the split over 3 and 5 nodes
 * (from the nodes' own /metrics), silent failure, kill -9, unhealthy backends, drain under load and
 * scale-out 3→5 under load, the last two with BIRD's plain multipath route and with the route
 * agent's resilient group. Every load is bounded (30 s at most, stopped by the scenario).
 */

/** One run's figures; counts are requests as the clients saw them. */
export interface DemoFigures {
  split3: number[];
  split5: number[];
  silentMs: number; silentFailed: number;
  killMs: number; killFailed: number;
  unhealthyMs: number; unhealthyFailed: number; unhealthyOthersOk: number;
  drainPlainFailed: number; drainPlainOk: number;
  drainResilientFailed: number; drainResilientOk: number;
  scalePlainBroken: number; scaleResilientBroken: number;
  /** Changes of the forwarding route during each scale-out (2 when nodes 4 and 5 join one after the other). */
  scalePlainChanges: number; scaleResilientChanges: number;
}

/** Clients of the load scenarios. */
export const DEMO_LOAD = { newConns: 4, keepAlive: 24, keepAlivePauseMs: 100, scaleOutConns: 48 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
interface Outcome { ok: number; failed: number; errors: string; routeChanges?: number }

/** The loads' counts added up; errors as "load error ×n" (which client kind failed, and how). */
const sum = (r: LoadResult[], names: string[]): Outcome => ({
  ok: r.reduce((a, x) => a + x.ok, 0),
  failed: r.reduce((a, x) => a + x.failed, 0),
  errors: r.flatMap((x, i) => Object.entries(x.errors).map(([e, n]) => `${names[i]} ${e} ×${n}`)).join(', ') || 'none',
});

/** A new-connection load for `ms`. */
async function loadFor(s: SwitchyardLab, name: string, ms: number): Promise<LoadResult> {
  const l = s.load(name, DEMO_LOAD.newConns, 'new');
  await sleep(ms);
  return s.stopLoad(l);
}

/** Per-node share (%) of the requests `nodes` counted in their /metrics during a 3 s new-connection load. */
async function split(s: SwitchyardLab, nodes: number[]): Promise<number[]> {
  const before = await Promise.all(nodes.map((i) => s.requests(i)));
  await loadFor(s, 'split', 3000);
  const after = await Promise.all(nodes.map((i) => s.requests(i)));
  const d = nodes.map((_, k) => after[k] - before[k]);
  const total = d.reduce((a, b) => a + b, 0);
  return d.map((x) => (total === 0 ? 0 : Math.round((1000 * x) / total) / 10));
}

/** Runs `event` 1 s into a load (new connections plus, when `keepAlive`, kept-alive clients); `settle` waits for its effect; the load ends 1 s after. */
async function underLoad(s: SwitchyardLab, keepAlive: boolean, event: () => Promise<void>, settle: () => Promise<unknown>): Promise<Outcome> {
  const loads = [s.load('new', DEMO_LOAD.newConns, 'new')];
  if (keepAlive) loads.push(s.load('ka', DEMO_LOAD.keepAlive, 'keepalive', DEMO_LOAD.keepAlivePauseMs));
  let results: LoadResult[] = [];
  try {
    await sleep(1000);
    await event();
    await settle();
    await sleep(1000);
  } finally {
    results = await Promise.all(loads.map((l) => s.stopLoad(l)));
  }
  return sum(results, ['new-connection', 'kept-alive']);
}

/** Scale-out 3→5 under kept-alive load: nodes 4 and 5 start Switchyard; the kept-alive requests that failed (≈ connections broken). */
async function scaleOut(s: SwitchyardLab): Promise<Outcome & { routeChanges: number }> {
  const ka = s.load('scale', DEMO_LOAD.scaleOutConns, 'keepalive', DEMO_LOAD.keepAlivePauseMs);
  let r: LoadResult[] = [];
  const changes = watchRoute(s);
  try {
    await sleep(1000);
    s.startSwitchyard(4); s.startSwitchyard(5);
    await s.waitRoute(5, 30_000);
    await sleep(1000);
  } finally {
    r = [await s.stopLoad(ka)];
  }
  return { ...sum(r, ['kept-alive']), routeChanges: await changes.stop() };
}

/** Counts the forwarding route's changes until stop() (each one rehashes flows: nodes 4 and 5 rarely join in the same instant). */
function watchRoute(s: SwitchyardLab): { stop: () => Promise<number> } {
  let running = true;
  let changes = -1;
  const done = (async () => {
    let last = '';
    while (running) {
      const now = (await s.route()).join();
      if (now !== last) { changes++; last = now; }
      await sleep(10);
    }
  })();
  return { stop: async () => { running = false; await done; return changes; } };
}

/** Drains node 5 (SIGTERM) under load; waits for its exit. */
async function drain(s: SwitchyardLab): Promise<Outcome> {
  const p = s.sy.get(5)!;
  return underLoad(s, true, async () => { p.proc.kill('SIGTERM'); }, () => p.exited);
}

/** One run of every scenario on a fresh lab (5 node namespaces, Switchyard on 3 of them). */
export async function demoRun(log: (line: string) => void): Promise<DemoFigures> {
  const s = await SwitchyardLab.build({ nodes: 3, standby: 2 });
  try {
    const f = {} as DemoFigures;
    f.split3 = await split(s, [1, 2, 3]);
    log(`split over 3 nodes: ${f.split3.join(' / ')} %`);

    let t0 = 0;
    let r = await underLoad(s, false, async () => { t0 = performance.now(); await s.lab.blackhole(s.ac.node(3).ns); },
      async () => { await s.waitNode(3, false, 10_000); f.silentMs = Math.round(performance.now() - t0); });
    f.silentFailed = r.failed;
    log(`silent failure of n3: out of the route after ${f.silentMs} ms, ${r.failed} requests failed`);
    await s.lab.unblackhole(s.ac.node(3).ns);
    await s.waitNode(3, true);

    r = await underLoad(s, false, async () => { t0 = performance.now(); await s.backends.get(2)!.stop('SIGKILL'); },
      async () => { await s.waitNode(2, false, 10_000); f.unhealthyMs = Math.round(performance.now() - t0); });
    f.unhealthyFailed = r.failed;
    const others = await loadFor(s, 'others', 1000);
    f.unhealthyOthersOk = others.failed === 0 ? others.ok : -others.failed;
    log(`backends of n2 killed: withdrawn after ${f.unhealthyMs} ms, ${r.failed} requests failed; then ${others.ok} ok / ${others.failed} failed on the others`);
    await s.startBackends(2);
    await s.waitNode(2, true);

    r = await underLoad(s, false, async () => { t0 = performance.now(); s.sy.get(1)!.proc.kill('SIGKILL'); },
      async () => { await s.waitNode(1, false, 10_000); f.killMs = Math.round(performance.now() - t0); });
    f.killFailed = r.failed;
    log(`kill -9 of Switchyard on n1: withdrawn after ${f.killMs} ms, ${r.failed} requests failed`);
    s.startSwitchyard(1);
    await s.waitNode(1, true);

    let so = await scaleOut(s);
    [f.scalePlainBroken, f.scalePlainChanges] = [so.failed, so.routeChanges];
    log(`scale-out 3→5, plain multipath: ${so.failed} of ${DEMO_LOAD.scaleOutConns} kept-alive connections broken (${so.errors}) over ${so.routeChanges} route changes`);
    f.split5 = await split(s, [1, 2, 3, 4, 5]);
    log(`split over 5 nodes: ${f.split5.join(' / ')} %`);
    r = await drain(s);
    [f.drainPlainFailed, f.drainPlainOk] = [r.failed, r.ok];
    log(`drain of n5 under load, plain multipath: ${r.failed} failed of ${r.ok + r.failed} (${r.errors})`);

    s.sy.get(4)!.proc.kill('SIGTERM');
    await s.sy.get(4)!.exited;
    await s.waitRoute(3);
    await s.startAgent();
    so = await scaleOut(s);
    [f.scaleResilientBroken, f.scaleResilientChanges] = [so.failed, so.routeChanges];
    log(`scale-out 3→5, resilient group: ${so.failed} of ${DEMO_LOAD.scaleOutConns} kept-alive connections broken (${so.errors}) over ${so.routeChanges} route changes`);
    r = await drain(s);
    [f.drainResilientFailed, f.drainResilientOk] = [r.failed, r.ok];
    log(`drain of n5 under load, resilient group: ${r.failed} failed of ${r.ok + r.failed} (${r.errors})`);
    return f;
  } finally {
    await s.destroy();
  }
}

/** "min / median / max" of `xs`. */
export function spread(xs: number[]): string {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 1 ? String(v[0]) : `${v[0]} / ${v[Math.floor(v.length / 2)]} / ${v[v.length - 1]}`;
}

/** The figures of all runs as a Markdown table (min / median / max when more than one run). */
export function demoTable(runs: DemoFigures[]): string {
  const col = (f: (r: DemoFigures) => number) => spread(runs.map(f));
  const perNode = (f: (r: DemoFigures) => number[], n: number) => Array.from({ length: n }, (_, i) => `n${i + 1} ${col((r) => f(r)[i])}`).join('; ');
  const rows: [string, string, string][] = [
    ['split, 3 nodes (% of requests, nodes\' /metrics)', perNode((r) => r.split3, 3), '≈ 33 each'],
    ['split, 5 nodes after scale-out (%)', perNode((r) => r.split5, 5), '≈ 20 each'],
    ['silent failure (nft drop-all): until no new traffic, ms', col((r) => r.silentMs), '< 1000'],
    ['silent failure: requests failed', col((r) => r.silentFailed), ''],
    ['kill -9 of Switchyard: route withdrawn (watchdog), ms', col((r) => r.killMs), ''],
    ['kill -9: requests failed', col((r) => r.killFailed), ''],
    ['backends of a node killed: node withdrawn, ms', col((r) => r.unhealthyMs), ''],
    ['backends killed: requests failed', col((r) => r.unhealthyFailed), ''],
    ['backends killed: then served ok by the others (1 s)', col((r) => r.unhealthyOthersOk), 'all ok'],
    ['drain under load, plain multipath: failed requests', col((r) => r.drainPlainFailed), '0'],
    ['drain under load, resilient group: failed requests', col((r) => r.drainResilientFailed), '0'],
    [`drain: requests made (${DEMO_LOAD.keepAlive} kept-alive + ${DEMO_LOAD.newConns} new-connection clients; plain; resilient)`, `${col((r) => r.drainPlainOk + r.drainPlainFailed)}; ${col((r) => r.drainResilientOk + r.drainResilientFailed)}`, ''],
    [`scale-out 3→5, plain multipath: kept-alive connections broken (of ${DEMO_LOAD.scaleOutConns})`, col((r) => r.scalePlainBroken), 'plain multipath rehashes ~73 %'],
    [`scale-out 3→5, resilient group: kept-alive connections broken (of ${DEMO_LOAD.scaleOutConns})`, col((r) => r.scaleResilientBroken), '≤ 40 % (the new nodes\' share)'],
    ['scale-out: route changes seen (plain; resilient)', `${col((r) => r.scalePlainChanges)}; ${col((r) => r.scaleResilientChanges)}`, '2 (n4, n5)'],
  ];
  return ['| scenario | figure | goal |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
