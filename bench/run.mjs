#!/usr/bin/env node
// Benchmark orchestrator: installs the tools, starts the backends, then for
// each of R interleaved runs and each protocol (lib/scenarios.mjs: HTTP/1.1
// cleartext, HTTPS HTTP/1.1, HTTP/2 over TLS) starts every peer in turn, warms
// it up, measures it with wrk or h2load while sampling its CPU from /proc, and
// stops it. Prints medians as Markdown, one table per protocol, and writes
// bench/results/latest.{json,md}.
//
//   npm run bench                         # build, then all peers and protocols, 5 × 10 s
//   node bench/run.mjs --duration 3s --runs 3 --only switchyard-1,nginx
//   node bench/run.mjs --protocols https,h2 --only nginx,haproxy,switchyard-1
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.mjs';
import { PEERS, PROXY_CORE, GEN_CORE, ALL_CORES, has, nginxBackendsConf } from './lib/peers.mjs';
import { installCleanupHandlers, pinned, start, stop } from './lib/procs.mjs';
import { waitForHttp, portFree } from './lib/ready.mjs';
import { snapshot, usage, waitForQuiet, QUIET_CORES } from './lib/cpu.mjs';
import { summarize, ratios, perCpuTarget, multiCoreTarget, isSaturated } from './lib/stats.mjs';
import { machineInfo, renderMarkdown, writeResults } from './lib/report.mjs';
import { SCENARIOS, SCENARIO_IDS } from './lib/scenarios.mjs';
import { makeCert } from './lib/cert.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const BACKEND_PORTS = [19001, 19002, 19003];

const opts = parseArgs(process.argv.slice(2), PEERS.map((p) => p.name), SCENARIO_IDS);
installCleanupHandlers();

const sh = (cmd, args, timeout = 10_000) => spawnSync(cmd, args, { stdio: 'inherit', timeout });

// 1. Tools. install.sh is a no-op when wrk/haproxy/nginx are present.
if (!opts['no-install']) {
  const r = sh('bash', [path.join(benchDir, 'install.sh')], 15 * 60_000);
  if (r.status !== 0) console.error('bench: install.sh failed; peers whose binary is missing will be skipped');
}
for (const bin of ['wrk', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
    console.error(`bench: ${bin} is required (run bench/install.sh)`);
    process.exit(1);
  }
}
if (os.availableParallelism() < 2) {
  console.error('bench: needs at least 2 cores (generator core + proxy core)');
  process.exit(1);
}
const machine = machineInfo(); // before pinning: nproc honours this process's affinity
// Keep this orchestrator off the proxy core too (it only samples /proc).
spawnSync('taskset', ['-pc', GEN_CORE, String(process.pid)], { stdio: 'ignore' });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
const ctx = { tmp, repoRoot, benchDir, backends: BACKEND_PORTS.map((p) => `127.0.0.1:${p}`), tls: null };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pinLabel = (cores) => (cores === null ? 'no proxy' : cores === ALL_CORES ? `unpinned (${cores})` : `core ${cores}`);

// One measurement of one peer in one scenario: start (behind TLS if the
// scenario says so), wait until it proxies, warm up, measure, stop. Always
// stops what it started.
async function measure(peer, scenario) {
  let child = null;
  try {
    const loadBefore = opts.quietWaitMs > 0 ? await waitForQuiet(opts.quietWaitMs) : NaN;
    if (!peer.direct) {
      if (!(await portFree(peer.port))) throw new Error(`port ${peer.port} already in use`);
      child = peer.start(ctx, scenario.tls ? ctx.tls : null);
      await waitForHttp(peer.port, { child, tls: scenario.tls });
    }
    // `extraPids`: a load generator still running at the snapshot (h2load), counted on the generator side.
    const snap = (extraPids = []) => snapshot({ proxyPid: child?.pid, backendsPid: backends.pid, extraPids });
    const { result: w, before, after } = await scenario.window({ port: peer.port, tls: scenario.tls, opts, snap });
    if (child && after.proxy.size === 0) throw new Error('proxy died during the window');

    const u = usage(before, after);
    const cpu = child ? u.proxy : null;
    return {
      ...w,
      proxyCpuSeconds: cpu?.seconds ?? NaN,
      proxyProcesses: cpu?.processes ?? 0,
      proxyCores: cpu ? cpu.seconds / w.seconds : NaN,
      pinned: peer.cores === PROXY_CORE,
      reqPerCpuSec: cpu && cpu.seconds > 0 ? w.requests / cpu.seconds : NaN,
      vanishedPids: cpu?.vanished ?? [],
      generatorCores: (u.backendsSeconds + u.selfAndWrkSeconds) / w.seconds, // backends + wrk/h2load + this orchestrator
      coreBusy: u.coreBusy,
      otherCores: u.otherCores,
      loadBefore,
      proxyCommand: child ? child.spawnargs.join(' ') : null,
    };
  } finally {
    if (child) await stop(child);
  }
}

// Last meaningful line of a peer's log, to explain a failure in one line.
function logTail(name) {
  try {
    const lines = fs.readFileSync(path.join(tmp, `${name}.log`), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const line = lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1);
    return line ? ` [log: ${line.slice(0, 160)}]` : '';
  } catch {
    return '';
  }
}

const fmt = (s, [lat1, lat2]) =>
  s.error
    ? `ERROR ${s.error}`
    : `${Math.round(s.rps).toString().padStart(7)} req/s  ${lat1.label} ${s[lat1.key].toFixed(2)}  ${lat2.label} ${s[lat2.key].toFixed(2)}  ` +
      `cpu ${Number.isFinite(s.proxyCores) ? s.proxyCores.toFixed(2) : ' n/a'} (${s.proxyProcesses} procs)  ` +
      `req/cpu-s ${Number.isFinite(s.reqPerCpuSec) ? Math.round(s.reqPerCpuSec) : 'n/a'} (${Number.isFinite(s.reqPerCpuSec) ? (1e6 / s.reqPerCpuSec).toFixed(1) : 'n/a'} µs)  ` +
      `core0 ${Math.round(s.coreBusy[0] * 100)}%  ` +
      `other ${s.otherCores.toFixed(2)}${s.otherCores > QUIET_CORES ? ' (noisy)' : ''}` +
      (s.pinned && !isSaturated(s.proxyCores, s.coreBusy[1]) ? `  UNSATURATED${s.coreBusy[0] >= 0.95 ? ' (generator-bound)' : ''}` : '') +
      (s.non2xx + s.socketErrors ? `  errors ${s.non2xx + s.socketErrors}` : '');

let backends = null; // the backends process, shared by every measurement
let failed = false;
try {
  // 2. Backends, pinned with wrk on the generator core.
  for (const p of BACKEND_PORTS) if (!(await portFree(p))) throw new Error(`backend port ${p} already in use`);
  if (opts.backends === 'nginx' && !has('nginx')) {
    console.error('bench: nginx not installed: node backends instead (heavier: the generator core may saturate first)');
    opts.backends = 'node';
  }
  const backendCmd = opts.backends === 'nginx'
    ? (({ dir, file }) => ['nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']])(nginxBackendsConf(ctx, BACKEND_PORTS))
    : [process.execPath, [path.join(benchDir, 'backends.mjs'), ...BACKEND_PORTS.map(String)]];
  backends = start({ ...pinned(GEN_CORE, ...backendCmd), logFile: path.join(tmp, 'backends.log') });
  for (const p of BACKEND_PORTS) await waitForHttp(p, { child: backends, timeoutMs: 10_000 });

  // 3. Scenarios and peers: selection and availability.
  const scenarios = SCENARIOS.filter((sc) => opts.protocols.includes(sc.id));
  if (scenarios.some((sc) => sc.tls)) ctx.tls = makeCert(tmp); // one certificate for every TLS peer
  const selected = PEERS.filter((p) => !opts.only.length || opts.only.includes(p.name)).map((p) => ({ ...p, pinning: pinLabel(p.cores) }));
  const skipped = new Map();
  for (const p of selected) {
    const why = p.check(ctx);
    if (why) skipped.set(p.name, why);
  }
  for (const [name, why] of skipped) console.error(`bench: skipping ${name}: ${why}`);
  const plan = scenarios.map((sc) => {
    const peers = selected.filter((p) => sc.accepts(p));
    const missing = sc.requires && !has(sc.requires) ? `${sc.requires} not installed (bench/install.sh)` : null;
    if (missing) console.error(`bench: skipping ${sc.id}: ${missing}`);
    return { sc, peers, active: missing ? [] : peers.filter((p) => !skipped.has(p.name)), missing, samples: new Map(peers.map((p) => [p.name, []])) };
  });
  for (const { sc, active } of plan) console.error(`bench: ${sc.id}: ${active.length} peers × ${opts.runs} runs × (${opts.warmup} warm-up + ${opts.duration}); ${sc.command(opts)}`);
  console.error(`bench: tmp ${tmp}`);

  // 4. Interleaved runs; the order rotates each run so that no peer always
  //    comes first (or right after the same neighbour) on a noisy machine.
  for (let run = 0; run < opts.runs; run++) {
    for (const { sc, active, samples } of plan) {
      const order = active.map((_, i) => active[(i + run) % active.length]);
      for (const peer of order) {
        let s;
        try {
          s = await measure(peer, sc);
        } catch (err) {
          s = { error: `${String(err.message ?? err).split('\n')[0]}${logTail(peer.name)}` };
          failed = true;
        }
        samples.get(peer.name).push(s);
        console.error(`[run ${run + 1}/${opts.runs}] ${sc.id.padEnd(5)} ${peer.name.padEnd(16)} ${pinLabel(peer.cores).padEnd(16)} ${fmt(s, sc.latency)}`);
        await sleep(300); // let sockets/timers of the previous peer settle
      }
    }
  }

  // 5. Report: one table per scenario.
  const scenarioResults = plan.map(({ sc, peers, missing, samples }) => {
    const rows = peers.map((p) => (skipped.has(p.name) ? { ...summarize(p, []), skipped: skipped.get(p.name) } : summarize(p, samples.get(p.name))));
    const target = sc.perCpuTarget;
    return {
      id: sc.id,
      title: sc.title,
      tls: sc.tls,
      load: sc.command(opts),
      latency: sc.latency,
      latencyRatio: sc.latencyRatio,
      skipped: missing,
      rows,
      ratios: Object.fromEntries(sc.switchyards.map((name) => [name, ratios(rows, name, sc.latencyRatio.key)])),
      target: multiCoreTarget(rows),
      perCpuTargets: target ? sc.switchyards.map((name) => perCpuTarget(rows, name, target.peer, target.min)).filter(Boolean) : [],
      samples: Object.fromEntries(samples),
    };
  });
  const result = {
    meta: {
      date: new Date().toISOString(),
      command: (process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${process.argv.slice(2).join(' ')}` : `node bench/run.mjs ${process.argv.slice(2).join(' ')}`).replace(/( --)? $/, ''),
      machine,
      protocols: opts.protocols,
      duration: opts.duration,
      warmup: opts.warmup,
      runs: opts.runs,
      connections: opts.connections,
      threads: opts.threads,
      h2Clients: opts.h2Clients,
      h2Streams: opts.h2Streams,
      backends: opts.backends,
      genCore: GEN_CORE,
      proxyCore: PROXY_CORE,
      allCores: ALL_CORES,
    },
    scenarios: scenarioResults,
  };
  const md = renderMarkdown(result);
  console.log('\n' + md);
  const files = writeResults(path.join(benchDir, 'results'), result, md);
  console.error(`bench: wrote ${files.join(', ')}`);
} catch (err) {
  failed = true;
  console.error(`bench: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  if (backends) await stop(backends);
  if (failed || opts['keep-tmp']) console.error(`bench: logs and configs kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
