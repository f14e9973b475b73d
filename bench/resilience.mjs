#!/usr/bin/env node
// Resilience scenario: three backends behind Switchyard under a constant,
// open-loop GET load; backend 2 is SIGKILLed mid-run and started again on the
// same port later. Run twice, side by side:
//   A  defaults: passive outlier detection + circuit breaker + retries, plus an
//      active health check (design defaults, path /, every 5 s);
//   B  active health check only (outlier detection, breaker and retries off).
// Reports client-visible errors, how long backend 2 kept receiving requests
// after the kill (Switchyard's log and the client's view), how long until it
// answers again after the restart, and latency before / during / after.
//
//   node bench/resilience.mjs                                  # 2000 req/s, 30 s, kill 10 s, restart 20 s
//   node bench/resilience.mjs --rate 500 --duration 12s --kill-at 4s --restart-at 8s   # quick look
//   node bench/resilience.mjs --help
//
// Needs a build (dist/src/cli/main.js). Only talks to 127.0.0.1. Every process
// it starts has its own process group and is killed on exit, error or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { installCleanupHandlers, killAllSync, start, stop } from './lib/procs.mjs';
import { portFree, waitForHttp } from './lib/ready.mjs';
import { parseDurationMs } from './lib/wrk.mjs';
import { sampleCores, sampleTree, treeCpuSeconds, machineLoad } from './lib/cpu.mjs';
import { analyze, renderMarkdown } from './lib/resilience-report.mjs';
import { switchyardYaml } from './lib/switchyard-yaml.mjs';
import { CLI, repoRoot, startBackend as startBackendOn, startLoad } from './lib/open-loop.mjs';

// Ports apart from bench/run.mjs's (19001-19003, 18080-18089).
const BACKEND_PORTS = [19101, 19102, 19103];
const PROXY_PORT = 18180;
const VICTIM = 2; // backend-2 is killed and restarted

// ------------------------------------------------------------------- flags

const SPEC = {
  rate: { def: '2000', help: 'requests per second (open loop, constant)' },
  duration: { def: '30s', help: 'load duration per scenario' },
  'kill-at': { def: '10s', help: 'SIGKILL backend 2 this long after the load starts' },
  'restart-at': { def: '20s', help: 'start backend 2 again (same port); >= duration: never' },
  warmup: { def: '2s', help: 'load at the same rate before the measured window (not recorded)' },
  connections: { def: '128', help: 'client connections to Switchyard (undici Pool)' },
  timeout: { def: '5s', help: 'client timeout per request (headers and body)' },
  engine: { def: 'fast', help: 'Switchyard listener engine: fast or node' },
  only: { def: 'A,B', help: 'scenarios to run: A, B or A,B' },
  'slow-ms': { def: '100', help: 'count responses at least this slow (retry backoff shows up here)' },
  'keep-tmp': { def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};

function usage() {
  const lines = Object.entries(SPEC).map(([k, s]) => `  --${k}${s.flag ? '' : ' VALUE'}`.padEnd(22) + `${s.help}${s.flag ? '' : ` [${s.def}]`}`);
  return `usage: node bench/resilience.mjs [options]\n${lines.join('\n')}\ndurations take a unit: 500ms, 12s, 1m`;
}

function parseArgs(argv) {
  const o = Object.fromEntries(Object.entries(SPEC).map(([k, s]) => [k, s.def]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usage());
      process.exit(0);
    }
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m || !SPEC[m[1]]) throw new Error(`unknown argument ${a}\n${usage()}`);
    o[m[1]] = SPEC[m[1]].flag ? true : (m[2] ?? argv[++i]);
    if (o[m[1]] === undefined) throw new Error(`--${m[1]} needs a value`);
  }
  const p = {
    rate: Number(o.rate),
    durationMs: parseDurationMs(o.duration),
    warmupMs: parseDurationMs(o.warmup),
    killAtMs: parseDurationMs(o['kill-at']),
    restartAtMs: parseDurationMs(o['restart-at']),
    connections: Number(o.connections),
    timeoutMs: parseDurationMs(o.timeout),
    engine: o.engine,
    only: o.only.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean),
    slowMs: Number(o['slow-ms']),
    keepTmp: o['keep-tmp'],
  };
  if (!(p.rate >= 1 && p.rate <= 20_000)) throw new Error('--rate must be between 1 and 20000');
  if (!(p.durationMs >= 1000 && p.durationMs <= 600_000)) throw new Error('--duration must be between 1s and 10m');
  if (!(p.warmupMs >= 0 && p.warmupMs <= 60_000)) throw new Error('--warmup must be between 0s and 1m');
  if (!(p.killAtMs > 0 && p.killAtMs < p.durationMs)) throw new Error('--kill-at must be within the duration');
  if (!(p.restartAtMs > p.killAtMs)) throw new Error('--restart-at must be after --kill-at');
  if (p.restartAtMs >= p.durationMs) p.restartAtMs = Infinity; // no restart
  if (!(Number.isInteger(p.connections) && p.connections >= 1 && p.connections <= 4096)) throw new Error('--connections must be 1..4096');
  if (!(p.timeoutMs >= 100 && p.timeoutMs <= 60_000)) throw new Error('--timeout must be between 100ms and 60s');
  if (!['fast', 'node'].includes(p.engine)) throw new Error('--engine must be fast or node');
  if (!p.only.length || p.only.some((s) => !['A', 'B'].includes(s))) throw new Error('--only takes A, B or A,B');
  if (!(p.slowMs > 0)) throw new Error('--slow-ms must be positive');
  return p;
}

// --------------------------------------------------------------- scenarios

const HEALTH = 'healthCheck: { path: /, interval: 5s }';
const SCENARIOS = [
  {
    id: 'A',
    title: 'A: passive + retries + active',
    description: `defaults (outlier detection, circuit breaker and retries on) plus \`${HEALTH}\`.`,
    service: [HEALTH, 'outlierDetection: { enabled: true }', 'circuitBreaker: { enabled: true }', 'retries: { enabled: true }'],
  },
  {
    id: 'B',
    title: 'B: active checks only',
    description: `\`${HEALTH}\`, \`outlierDetection: { enabled: false }\`, \`circuitBreaker: { enabled: false }\`, \`retries: { enabled: false }\`.`,
    service: [HEALTH, 'outlierDetection: { enabled: false }', 'circuitBreaker: { enabled: false }', 'retries: { enabled: false }'],
  },
];

function scenarioYaml(sc, p) {
  return switchyardYaml({ port: PROXY_PORT, engine: p.engine, service: sc.service, backends: BACKEND_PORTS.map((port) => `127.0.0.1:${port}`) });
}

// ----------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => console.error(`resilience: ${msg}`);

// Start backend k (1-based) on its port.
const startBackend = (dir, k) => startBackendOn(dir, BACKEND_PORTS[k - 1], `backend-${k}`);

function getBody(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}

// Switchyard's JSON log lines: resilience events with their time (ms since t0).
function readEvents(logFile, t0) {
  const events = [];
  const messages = {};
  let text = '';
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return { events, messages };
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let o;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    const t = Date.parse(o.time) - t0;
    if (o.event) events.push({ t, kind: o.event.kind, backend: o.event.backend, to: o.event.to, reason: o.event.reason, forMs: o.event.forMs, msg: o.msg });
    else if (o.level >= 40) messages[o.msg] = (messages[o.msg] ?? 0) + 1; // other warnings/errors, counted
  }
  return { events, messages };
}

// --------------------------------------------------------------- one run

async function runScenario(sc, p, tmp) {
  const dir = path.join(tmp, sc.id);
  fs.mkdirSync(dir, { recursive: true });
  for (const port of [...BACKEND_PORTS, PROXY_PORT]) if (!(await portFree(port))) throw new Error(`port ${port} already in use`);

  const backends = [];
  let sy = null;
  let worker = null;
  const timers = [];
  try {
    for (let k = 1; k <= 3; k++) backends[k] = await startBackend(dir, k);

    const yamlFile = path.join(dir, 'switchyard.yaml');
    const yaml = scenarioYaml(sc, p);
    fs.writeFileSync(yamlFile, yaml);
    const v = spawnSync(process.execPath, [CLI, 'validate', '-c', yamlFile], { encoding: 'utf8', timeout: 20_000 });
    if (v.status !== 0) throw new Error(`config rejected: ${(v.stderr || v.stdout).trim()}`);
    const syLog = path.join(dir, 'switchyard.log');
    sy = start({ cmd: process.execPath, args: [CLI, 'start', '-c', yamlFile], cwd: repoRoot, logFile: syLog, env: { SWITCHYARD_LOG_PRETTY: '0' } });
    await waitForHttp(PROXY_PORT, { child: sy, timeoutMs: 20_000 });
    // Round-robin through all three before loading it.
    const seen = new Set();
    for (let i = 0; i < 9; i++) seen.add((await getBody(PROXY_PORT)).body.trim());
    if (!['backend-1', 'backend-2', 'backend-3'].every((b) => seen.has(b))) throw new Error(`not all backends answer through Switchyard: ${[...seen].join(', ')}`);

    const otherLoadBefore = await machineLoad(500);
    const t0 = Date.now() + 300 + p.warmupMs; // start of the measured window
    const marks = {};
    let cpuBefore = null;
    let cpuAfter = null;

    const gen = startLoad({ port: PROXY_PORT, rate: p.rate, durationMs: p.durationMs, warmupMs: p.warmupMs, t0, connections: p.connections, timeoutMs: p.timeoutMs });
    worker = gen.worker;
    const loadDone = gen.done;

    const at = (ms, fn) =>
      new Promise((resolve, reject) => {
        timers.push(setTimeout(() => Promise.resolve().then(fn).then(resolve, reject), Math.max(0, t0 + ms - Date.now())));
      });
    at(0, () => (cpuBefore = { sy: sampleTree(sy.pid), cores: sampleCores() }));
    const killed = at(p.killAtMs, async () => {
      const victim = backends[VICTIM];
      marks.kill = Date.now() - t0;
      process.kill(-victim.pid, 'SIGKILL'); // its whole process group
      await victim.exited;
      marks.killed = Date.now() - t0;
      log(`${sc.id}: backend-${VICTIM} SIGKILLed at ${(marks.kill / 1000).toFixed(3)} s`);
    });
    const restarted = Number.isFinite(p.restartAtMs)
      ? at(p.restartAtMs, async () => {
          await killed;
          marks.restart = Date.now() - t0;
          backends[VICTIM] = await startBackend(dir, VICTIM);
          marks.restartListening = Date.now() - t0;
          log(`${sc.id}: backend-${VICTIM} restarted at ${(marks.restart / 1000).toFixed(3)} s, listening ${marks.restartListening - marks.restart} ms later`);
        })
      : Promise.resolve();
    killed.catch(() => {}); // awaited below; never an unhandled rejection if the load fails first
    restarted.catch(() => {});

    log(`${sc.id}: ${p.rate} req/s, ${p.warmupMs / 1000} s warm-up + ${p.durationMs / 1000} s (${Math.round((p.rate * p.durationMs) / 1000)} requests), logs in ${dir}`);
    const bound = sleep(p.warmupMs + p.durationMs + p.timeoutMs + 20_000).then(() => {
      throw new Error('load generator overran its bound');
    });
    const load = await Promise.race([loadDone, bound]);
    cpuAfter = { sy: sampleTree(sy.pid), cores: sampleCores() };
    await Promise.race([Promise.all([killed, restarted]), sleep(15_000)]);

    await stop(sy);
    sy = null;
    const { events, messages } = readEvents(syLog, t0);
    const result = analyze({
      load,
      marks,
      events,
      durationMs: p.durationMs,
      victim: VICTIM,
      victimKey: `127.0.0.1:${BACKEND_PORTS[VICTIM - 1]}`,
      slowMs: p.slowMs,
    });
    const clk = wallTicks(cpuBefore.cores, cpuAfter.cores);
    result.cpu = {
      switchyardCores: treeCpuSeconds(cpuBefore.sy, cpuAfter.sy).seconds / clk.seconds,
      machineBusyCores: clk.busy / clk.total * cpuAfter.cores.length,
      otherLoadBeforeCores: otherLoadBefore,
      wallSeconds: clk.seconds,
    };
    result.warmup = load.warmup;
    result.switchyard.otherLogMessages = messages;
    result.switchyard.config = yaml;
    // Raw per-request columns (ms since t0), for any analysis the report lacks.
    result.raw = {
      intervalMs: load.intervalMs,
      sent: [...load.sent].map((x) => Math.round(x * 100) / 100),
      latency: [...load.done].map((d, i) => Math.round((d - i * load.intervalMs) * 100) / 100),
      status: [...load.status],
      backend: [...load.backend],
    };
    return result;
  } finally {
    for (const t of timers) clearTimeout(t);
    if (worker) await worker.terminate().catch(() => {});
    if (sy) await stop(sy);
    for (const b of backends) if (b) await stop(b, 2000);
  }
}

// Seconds of wall time and busy/total jiffies over all cores between two sampleCores().
function wallTicks(a, b) {
  let busy = 0;
  let total = 0;
  for (let i = 0; i < b.length; i++) {
    busy += b[i].busy - a[i].busy;
    total += b[i].total - a[i].total;
  }
  const clkTck = 100;
  return { busy, total: total || 1, seconds: (b[0].total - a[0].total) / clkTck || 1 };
}

// ------------------------------------------------------------------- main

let p;
try {
  p = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`resilience: ${err.message}`);
  process.exit(2);
}
installCleanupHandlers();
if (!fs.existsSync(CLI)) {
  console.error('resilience: dist/src/cli/main.js missing: build first (npx tsc -p tsconfig.json)');
  process.exit(1);
}
const selected = SCENARIOS.filter((s) => p.only.includes(s.id));
// Whole-run watchdog: never outlives its scenarios by much, whatever hangs.
const budgetMs = selected.length * (p.warmupMs + p.durationMs + p.timeoutMs + 90_000);
setTimeout(() => {
  console.error(`resilience: watchdog: still running after ${budgetMs / 1000} s, killing everything`);
  killAllSync();
  process.exit(1);
}, budgetMs).unref();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-resilience-'));
const cpuModel = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
const meta = {
  date: new Date().toISOString(),
  command: `node bench/resilience.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { nproc: os.availableParallelism(), model: cpuModel, kernel: `${os.type()} ${os.release()}`, node: process.version },
};
const params = {
  ...p,
  restartAtMs: Number.isFinite(p.restartAtMs) ? p.restartAtMs : null,
  requests: Math.round((p.rate * p.durationMs) / 1000),
  backendPorts: BACKEND_PORTS,
  proxyPort: PROXY_PORT,
  victim: `backend-${VICTIM} (127.0.0.1:${BACKEND_PORTS[VICTIM - 1]})`,
};
const scenarios = [];
let failed = false;
try {
  for (const sc of selected) {
    const entry = { id: sc.id, title: sc.title, description: sc.description };
    try {
      entry.result = await runScenario(sc, p, tmp);
      const r = entry.result;
      log(`${sc.id}: ${r.failures.total} errors; backend 2 out: ${r.switchyard.out.map((e) => `${e.kind}→${e.to} +${e.relKill} ms`).join(', ') || 'no event'}`);
    } catch (err) {
      entry.error = String(err?.message ?? err).split('\n')[0];
      failed = true;
      log(`${sc.id}: FAILED: ${entry.error}`);
    }
    scenarios.push(entry);
    await sleep(500); // let sockets of the previous scenario settle
  }
} finally {
  if (!p.keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}

const result = { meta, params: { ...params, restartAtMs: Number.isFinite(p.restartAtMs) ? p.restartAtMs : Infinity }, scenarios };
const md = renderMarkdown(result);
process.stdout.write(md);
const resultsDir = path.join(repoRoot, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
// Indented, except the raw per-request columns: one line each.
const raws = [];
const json = JSON.stringify({ ...result, params }, (k, v) => (k === 'raw' && v ? `@@RAW${raws.push(v) - 1}@@` : v), 1).replace(
  /"@@RAW(\d+)@@"/g,
  (_, i) => `{\n  ${Object.entries(raws[i]).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n  ')}\n }`,
);
fs.writeFileSync(path.join(resultsDir, 'resilience-latest.json'), json + '\n');
fs.writeFileSync(path.join(resultsDir, 'resilience-latest.md'), md);
log(`wrote bench/results/resilience-latest.{json,md}`);
process.exit(failed ? 1 : 0);
