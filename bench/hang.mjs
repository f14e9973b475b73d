#!/usr/bin/env node
// Hung backend (issue 15 §3): three backends behind each contender under a
// constant open-loop GET load; backend-2 is frozen (SIGSTOP: its kernel still
// accepts connections, nothing answers) — or with --mode kill, SIGKILLed — and
// stays so until the end. Contenders (bench/lib/hang-peers.mjs): Switchyard
// with a 1 s per-try timeout, Switchyard with hedging and default timeouts,
// both together, HAProxy (timeout server 1s + retries/redispatch/retry-on) and
// nginx (proxy_read_timeout 1s + proxy_next_upstream timeout). Reports, side by
// side, client-visible errors and p99 per second around the freeze, and for
// Switchyard its retries, hedges and retry-budget refusals (from /metrics).
//
//   node bench/hang.mjs                                    # 2000 req/s, 20 s, freeze at 5 s, all contenders
//   node bench/hang.mjs --only switchyard,haproxy --duration 10s --freeze-at 3s
//   node bench/hang.mjs --engine node --mode kill --out /tmp/hang.json
//
// Needs a build (npm run build). Only talks to 127.0.0.1. Every process it
// starts has its own process group and is killed on exit, error or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installCleanupHandlers, killAllSync, start, stop } from './lib/procs.mjs';
import { portFree, waitForHttp } from './lib/ready.mjs';
import { parseDurationMs } from './lib/wrk.mjs';
import { parseSpec, specUsage } from './lib/args.mjs';
import { machineLoad } from './lib/cpu.mjs';
import { HANG_PEERS } from './lib/hang-peers.mjs';
import { perSecond, renderHang } from './lib/hang-report.mjs';
import { CLI, repoRoot, startBackend, startLoad } from './lib/open-loop.mjs';

// Apart from bench/run.mjs's and bench/resilience.mjs's ports.
const BACKEND_PORTS = [19111, 19112, 19113];
const PROXY_PORT = 18190;
const VICTIM = 2;

const SPEC = {
  rate: { env: 'HANG_RATE', def: '2000', help: 'requests per second (open loop)' },
  duration: { env: 'HANG_DURATION', def: '20s', help: 'measured load per contender' },
  'freeze-at': { env: 'HANG_FREEZE_AT', def: '5s', help: 'freeze (or kill) backend-2 this long into the measured load' },
  warmup: { env: 'HANG_WARMUP', def: '10s', help: 'load before the measured window (JIT, connections; the hedge delay is learned over 10 s, so start-up latencies must leave that window)' },
  mode: { env: 'HANG_MODE', def: 'freeze', help: 'freeze (SIGSTOP) or kill (SIGKILL)' },
  engine: { env: 'HANG_ENGINE', def: 'fast', help: 'Switchyard listener engine: fast or node' },
  connections: { env: 'HANG_CONNECTIONS', def: '2000', help: 'client connections (must exceed the requests in flight while a backend hangs)' },
  timeout: { env: 'HANG_TIMEOUT', def: '30s', help: 'client timeout per request' },
  only: { env: 'HANG_ONLY', def: '', help: `contenders, comma-separated (default all: ${HANG_PEERS.map((p) => p.name).join(', ')})` },
  out: { env: 'HANG_OUT', def: '', help: 'also write the results as JSON to this file' },
  'keep-tmp': { env: 'HANG_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};

function options(argv) {
  const o = parseSpec(argv, SPEC, specUsage('bench/hang.mjs', SPEC, 'durations take a unit: 500ms, 12s, 1m'));
  const p = {
    rate: Number(o.rate), durationMs: parseDurationMs(o.duration), freezeAtMs: parseDurationMs(o['freeze-at']),
    warmupMs: parseDurationMs(o.warmup), mode: o.mode, engine: o.engine, connections: Number(o.connections),
    timeoutMs: parseDurationMs(o.timeout), out: o.out, keepTmp: o['keep-tmp'],
    only: o.only ? o.only.split(',').map((s) => s.trim()).filter(Boolean) : HANG_PEERS.map((x) => x.name),
  };
  if (!(p.rate >= 1 && p.rate <= 20_000)) throw new Error('--rate must be 1..20000');
  if (!(p.durationMs >= 2000 && p.durationMs <= 600_000)) throw new Error('--duration must be 2s..10m');
  if (!(p.freezeAtMs > 0 && p.freezeAtMs < p.durationMs)) throw new Error('--freeze-at must be within the duration');
  if (!['freeze', 'kill'].includes(p.mode)) throw new Error('--mode must be freeze or kill');
  if (!['fast', 'node'].includes(p.engine)) throw new Error('--engine must be fast or node');
  if (!(Number.isInteger(p.connections) && p.connections >= 1 && p.connections <= 10_000)) throw new Error('--connections must be 1..10000');
  const unknown = p.only.filter((n) => !HANG_PEERS.some((x) => x.name === n));
  if (unknown.length) throw new Error(`unknown contender ${unknown.join(', ')}`);
  return p;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.error(`hang: ${msg}`);

/** Switchyard's retry and hedge counters from its /metrics. */
async function switchyardCounters(port) {
  const text = await (await fetch(`http://127.0.0.1:${port + 1000}/metrics`)).text();
  const get = (re) => Number(re.exec(text)?.[1] ?? 0);
  return {
    retries: get(/^switchyard_retries_total\{service="app"\} (\d+)/m),
    budgetExhausted: get(/^switchyard_retry_budget_exhausted_total\{service="app"\} (\d+)/m),
    hedgesSent: get(/^switchyard_hedges_total\{service="app",result="sent"\} (\d+)/m),
    hedgesWon: get(/^switchyard_hedges_total\{service="app",result="won"\} (\d+)/m),
  };
}

async function runOne(peer, p, tmp) {
  const dir = path.join(tmp, peer.name);
  fs.mkdirSync(dir, { recursive: true });
  for (const port of [...BACKEND_PORTS, PROXY_PORT]) if (!(await portFree(port))) throw new Error(`port ${port} already in use`);
  const backends = [];
  let proxy = null;
  let worker = null;
  let timer = null;
  try {
    for (let k = 1; k <= 3; k++) backends[k] = await startBackend(dir, BACKEND_PORTS[k - 1], `backend-${k}`);
    const { cmd, args, env } = peer.config({ cli: CLI, engine: p.engine }, dir, PROXY_PORT, BACKEND_PORTS.map((x) => `127.0.0.1:${x}`));
    proxy = start({ cmd, args, env, cwd: repoRoot, logFile: path.join(dir, `${peer.name}.log`) });
    await waitForHttp(PROXY_PORT, { child: proxy, timeoutMs: 20_000 });
    const t0 = Date.now() + 300 + p.warmupMs;
    const gen = startLoad({ port: PROXY_PORT, rate: p.rate, durationMs: p.durationMs, warmupMs: p.warmupMs, t0, connections: p.connections, timeoutMs: p.timeoutMs });
    worker = gen.worker;
    timer = setTimeout(() => {
      process.kill(-backends[VICTIM].pid, p.mode === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      log(`${peer.name}: backend-${VICTIM} ${p.mode === 'kill' ? 'killed' : 'frozen'} at ${((Date.now() - t0) / 1000).toFixed(3)} s`);
    }, t0 + p.freezeAtMs - Date.now());
    log(`${peer.name}: ${p.rate} req/s, ${p.warmupMs / 1000} s warm-up + ${p.durationMs / 1000} s, logs in ${dir}`);
    const bound = sleep(p.warmupMs + p.durationMs + p.timeoutMs + 20_000).then(() => { throw new Error('load generator overran its bound'); });
    const load = await Promise.race([gen.done, bound]);
    const counters = peer.switchyard ? await switchyardCounters(PROXY_PORT).catch(() => null) : null;
    return { note: peer.note, view: perSecond(load, p.freezeAtMs), counters };
  } finally {
    clearTimeout(timer);
    if (worker) await worker.terminate().catch(() => {});
    try { process.kill(-backends[VICTIM]?.pid, 'SIGCONT'); } catch { /* gone */ }
    if (proxy) await stop(proxy);
    for (const b of backends) if (b) await stop(b, 2000);
  }
}

async function main() {
  const p = options(process.argv.slice(2));
  installCleanupHandlers();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-hang-'));
  const load = await machineLoad(1000);
  p.note = `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), other load before the run ${load.toFixed(2)} cores; nothing pinned.`;
  const results = {};
  const failed = {};
  try {
    for (const peer of HANG_PEERS.filter((x) => p.only.includes(x.name))) {
      const why = peer.check({ cli: CLI });
      if (why) { log(`${peer.name}: skipped (${why})`); continue; }
      try {
        results[peer.name] = await runOne(peer, p, tmp);
      } catch (e) {
        log(`${peer.name}: failed: ${e?.message ?? e}`);
        failed[peer.name] = String(e?.message ?? e);
      }
    }
  } finally {
    if (!p.keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }
  console.log(renderHang(p, results));
  for (const [n, why] of Object.entries(failed)) console.log(`\n${n}: not measured (${why})`);
  if (p.out) fs.writeFileSync(p.out, JSON.stringify({ options: p, results }, null, 2));
}

main().catch((e) => {
  console.error(e?.stack ?? String(e));
  killAllSync();
  process.exit(1);
});
