#!/usr/bin/env node
// Benchmark orchestrator: installs the tools, starts the backends, then for
// each of R interleaved runs starts every peer in turn, warms it up, measures
// it with wrk while sampling its CPU from /proc, and stops it. Prints medians
// as Markdown and writes bench/results/latest.{json,md}.
//
//   npm run bench                         # build, then all peers, 5 × 10 s
//   node bench/run.mjs --duration 3s --runs 3 --only switchyard-1,nginx
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.mjs';
import { PEERS, PROXY_CORE, GEN_CORE, ALL_CORES, has, nginxBackendsConf } from './lib/peers.mjs';
import { installCleanupHandlers, pinned, start, stop } from './lib/procs.mjs';
import { waitForHttp, portFree } from './lib/ready.mjs';
import { runWrk } from './lib/wrk.mjs';
import { snapshot, usage, waitForQuiet, QUIET_CORES } from './lib/cpu.mjs';
import { summarize, ratios, SATURATED } from './lib/stats.mjs';
import { machineInfo, renderMarkdown, writeResults } from './lib/report.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const BACKEND_PORTS = [19001, 19002, 19003];

const opts = parseArgs(process.argv.slice(2), PEERS.map((p) => p.name));
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
const ctx = { tmp, repoRoot, benchDir, backends: BACKEND_PORTS.map((p) => `127.0.0.1:${p}`) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pinLabel = (cores) => (cores === null ? 'no proxy' : cores === ALL_CORES ? `unpinned (${cores})` : `core ${cores}`);

// One measurement of one peer: start, wait until it proxies, warm up,
// measure, stop. Always stops what it started.
async function measure(peer) {
  let child = null;
  try {
    const loadBefore = opts.quietWaitMs > 0 ? await waitForQuiet(opts.quietWaitMs) : NaN;
    if (!peer.direct) {
      if (!(await portFree(peer.port))) throw new Error(`port ${peer.port} already in use`);
      child = peer.start(ctx);
      await waitForHttp(peer.port, { child });
    }
    const wrkOpts = { port: peer.port, connections: opts.connections, threads: opts.threads, cores: GEN_CORE };
    await runWrk({ ...wrkOpts, duration: opts.warmup });

    const pids = { proxyPid: child?.pid, backendsPid: backends.pid };
    const before = snapshot(pids);
    const w = await runWrk({ ...wrkOpts, duration: opts.duration });
    const after = snapshot(pids);
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
      backendsCores: u.backendsSeconds / w.seconds,
      wrkCores: u.selfAndWrkSeconds / w.seconds,
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

const fmt = (s) =>
  s.error
    ? `ERROR ${s.error}`
    : `${Math.round(s.rps).toString().padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  ` +
      `cpu ${Number.isFinite(s.proxyCores) ? s.proxyCores.toFixed(2) : ' n/a'} (${s.proxyProcesses} procs)  ` +
      `req/cpu-s ${Number.isFinite(s.reqPerCpuSec) ? Math.round(s.reqPerCpuSec) : 'n/a'} (${Number.isFinite(s.reqPerCpuSec) ? (1e6 / s.reqPerCpuSec).toFixed(1) : 'n/a'} µs)  ` +
      `core0 ${Math.round(s.coreBusy[0] * 100)}%  ` +
      `other ${s.otherCores.toFixed(2)}${s.otherCores > QUIET_CORES ? ' (noisy)' : ''}` +
      (s.pinned && s.proxyCores < SATURATED ? `  UNSATURATED${s.coreBusy[0] >= 0.95 ? ' (generator-bound)' : ''}` : '') +
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

  // 3. Peers: selection and availability.
  const selected = PEERS.filter((p) => !opts.only.length || opts.only.includes(p.name)).map((p) => ({ ...p, pinning: pinLabel(p.cores) }));
  const skipped = new Map();
  for (const p of selected) {
    const why = p.check(ctx);
    if (why) skipped.set(p.name, why);
  }
  const active = selected.filter((p) => !skipped.has(p.name));
  for (const [name, why] of skipped) console.error(`bench: skipping ${name}: ${why}`);

  const wrkCmd = `taskset -c ${GEN_CORE} wrk -t${opts.threads} -c${opts.connections} -d${opts.duration} --latency --timeout 2s`;
  console.error(`bench: ${active.length} peers × ${opts.runs} runs × (${opts.warmup} warm-up + ${opts.duration}); ${wrkCmd}; tmp ${tmp}`);

  // 4. Interleaved runs; the order rotates each run so that no peer always
  //    comes first (or right after the same neighbour) on a noisy machine.
  const samples = new Map(active.map((p) => [p.name, []]));
  for (let run = 0; run < opts.runs; run++) {
    const order = active.map((_, i) => active[(i + run) % active.length]);
    for (const peer of order) {
      let s;
      try {
        s = await measure(peer);
      } catch (err) {
        s = { error: `${String(err.message ?? err).split('\n')[0]}${logTail(peer.name)}` };
        failed = true;
      }
      samples.get(peer.name).push(s);
      console.error(`[run ${run + 1}/${opts.runs}] ${peer.name.padEnd(16)} ${pinLabel(peer.cores).padEnd(16)} ${fmt(s)}`);
      await sleep(300); // let sockets/timers of the previous peer settle
    }
  }

  // 5. Report.
  const rows = selected.map((p) => (skipped.has(p.name) ? { ...summarize(p, []), skipped: skipped.get(p.name) } : summarize(p, samples.get(p.name))));
  const ratioTable = { 'switchyard-1': ratios(rows, 'switchyard-1'), 'switchyard-auto': ratios(rows, 'switchyard-auto') };
  const auto = rows.find((r) => r.name === 'switchyard-auto');
  const nginx2 = rows.find((r) => r.name === 'nginx-2w');
  const target =
    auto?.okRuns && nginx2?.okRuns
      ? { rpsRatio: auto.rps / nginx2.rps, p99Ratio: auto.p99 / nginx2.p99, rpsOk: auto.rps >= 0.6 * nginx2.rps, p99Ok: auto.p99 <= 2 * nginx2.p99 }
      : null;
  const result = {
    meta: {
      date: new Date().toISOString(),
      command: (process.env.npm_lifecycle_event === 'bench' ? `npm run bench -- ${process.argv.slice(2).join(' ')}` : `node bench/run.mjs ${process.argv.slice(2).join(' ')}`).replace(/( --)? $/, ''),
      machine,
      wrk: `${wrkCmd} http://127.0.0.1:PORT/`,
      duration: opts.duration,
      warmup: opts.warmup,
      runs: opts.runs,
      connections: opts.connections,
      threads: opts.threads,
      backends: opts.backends,
      genCore: GEN_CORE,
      proxyCore: PROXY_CORE,
      allCores: ALL_CORES,
    },
    rows,
    ratios: ratioTable,
    target,
    samples: Object.fromEntries(samples),
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
