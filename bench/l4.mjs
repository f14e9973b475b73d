#!/usr/bin/env node
// L4 benchmark: Switchyard's `protocol: tcp` and `protocol: https` listeners
// against HAProxy (`mode tcp`, `bind … ssl`), nginx's `stream` module and a
// naive Node socket.pipe proxy, per proxy CPU-second, in one run:
//   bulk           N long connections streaming data through the proxy (Gbit/s)
//   conn           short connections: connect, send a small request, read the
//                  reply, close (wrk with "Connection: close") (connections/s)
//   tls12-full     TLS 1.2 full handshakes (openssl s_time -new)
//   tls12-resumed  TLS 1.2 resumed handshakes (openssl s_time -reuse)
//   tls13-full     TLS 1.3 full handshakes
//   tls13-resumed  TLS 1.3 resumed handshakes (s_time -reuse -www /: TLS 1.3
//                  tickets arrive after the handshake, so each connection also
//                  carries one HTTP/1.0 GET to read them)
// For each of R interleaved runs every peer is started once, measured on each
// scenario it supports (warm-up, then a window during which its CPU is sampled
// from /proc) and stopped. Medians over runs; Markdown on stdout;
// bench/results/l4-latest.{json,md}.
//
//   npm run bench:l4                                   # build, 3 runs × 5 s
//   node bench/l4.mjs --runs 1 --duration 3s           # quick look
//   node bench/l4.mjs --only switchyard,haproxy --scenarios bulk,conn
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';
import { L4_PEERS, BACKEND_PORTS, PROXY_CORE, GEN_CORE, startBackendNginx, startSource } from './lib/l4-peers.mjs';
import { has } from './lib/peers.mjs';
import { installCleanupHandlers, pinned, stop, track } from './lib/procs.mjs';
import { waitForTcp, waitForHttp, portFree } from './lib/ready.mjs';
import { runWrk, parseDurationMs } from './lib/wrk.mjs';
import { snapshot, usage, waitForQuiet, QUIET_CORES } from './lib/cpu.mjs';
import { startStime } from './lib/stime.mjs';
import { median, spread, isSaturated } from './lib/stats.mjs';
import { machineInfo, writeResults } from './lib/report.mjs';
import { renderL4Markdown } from './lib/l4-report.mjs';
import { makeCert } from './lib/cert.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);

// ------------------------------------------------------------------ scenarios

const SCENARIOS = [
  { id: 'bulk', kind: 'bulk', port: 'bulk', title: 'L4 bulk throughput', unit: 'Gbit/s', perCpu: 'Gbit per CPU-s' },
  { id: 'conn', kind: 'conn', port: 'conn', title: 'L4 new connections', unit: 'conn/s', perCpu: 'conn per CPU-s' },
  { id: 'tls12-full', kind: 'tls', port: 'tls', mode: 'new', version: 'tls1_2', title: 'TLS 1.2 full handshakes', unit: 'hs/s', perCpu: 'hs per CPU-s' },
  { id: 'tls12-resumed', kind: 'tls', port: 'tls', mode: 'reuse', version: 'tls1_2', title: 'TLS 1.2 resumed handshakes', unit: 'hs/s', perCpu: 'hs per CPU-s' },
  { id: 'tls13-full', kind: 'tls', port: 'tls', mode: 'new', version: 'tls1_3', title: 'TLS 1.3 full handshakes', unit: 'hs/s', perCpu: 'hs per CPU-s' },
  { id: 'tls13-resumed', kind: 'tls', port: 'tls', mode: 'reuse', version: 'tls1_3', www: '/', title: 'TLS 1.3 resumed handshakes (+1 GET each)', unit: 'hs/s', perCpu: 'hs per CPU-s' },
];

// ---------------------------------------------------------------------- flags

const SPEC = {
  duration: { env: 'L4_DURATION', def: '5s', help: 'measurement window per peer per scenario per run' },
  warmup: { env: 'L4_WARMUP', def: '1s', help: 'load before each window (not measured)' },
  runs: { env: 'L4_RUNS', def: '3', help: 'interleaved rounds; medians are reported' },
  only: { env: 'L4_ONLY', def: '', help: 'comma-separated peers to run (default: all)' },
  scenarios: { env: 'L4_SCENARIOS', def: '', help: 'comma-separated scenarios (default: all)' },
  'bulk-connections': { env: 'L4_BULK_CONNECTIONS', def: '4', help: 'bulk: long connections streaming at once' },
  'conn-connections': { env: 'L4_CONN_CONNECTIONS', def: '64', help: 'conn: concurrent wrk connections (each request on a new one)' },
  'tls-clients': { env: 'L4_TLS_CLIENTS', def: '4', help: 'tls: parallel openssl s_time processes' },
  'quiet-wait': { env: 'L4_QUIET_WAIT', def: '5s', help: 'before each measurement, wait up to this long for other load < 0.2 cores (0s: off)' },
  'no-install': { env: 'L4_NO_INSTALL', def: false, flag: true, help: 'skip bench/install.sh' },
  'keep-tmp': { env: 'L4_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs, cert)' },
};

function parseOpts(argv) {
  const peerNames = L4_PEERS.map((p) => p.name);
  const scenarioIds = SCENARIOS.map((s) => s.id);
  const text = specUsage('bench/l4.mjs', SPEC, `peers: ${peerNames.join(', ')}\nscenarios: ${scenarioIds.join(', ')}`);
  const o = parseSpec(argv, SPEC, text);
  const list = (v, known, what) => {
    const l = v ? String(v).split(',').map((s) => s.trim()).filter(Boolean) : [];
    const bad = l.filter((x) => !known.includes(x));
    if (bad.length) throw new Error(`unknown ${what} ${bad.join(', ')}; known: ${known.join(', ')}`);
    return l;
  };
  const int = (k, min) => {
    const n = Number(o[k]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k} must be an integer >= ${min}`);
    return n;
  };
  const opts = {
    durationMs: parseDurationMs(o.duration),
    warmupMs: parseDurationMs(o.warmup),
    quietWaitMs: parseDurationMs(o['quiet-wait']),
    runs: int('runs', 1),
    only: list(o.only, peerNames, 'peer(s)'),
    scenarios: list(o.scenarios, scenarioIds, 'scenario(s)'),
    bulkConnections: int('bulk-connections', 1),
    connConnections: int('conn-connections', 2),
    tlsClients: int('tls-clients', 1),
    noInstall: o['no-install'],
    keepTmp: o['keep-tmp'],
    raw: o,
  };
  if (opts.durationMs < 1000) throw new Error('--duration must be at least 1s');
  return opts;
}

const opts = parseOpts(process.argv.slice(2));
installCleanupHandlers();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const secs = (ms) => `${+(ms / 1000).toFixed(3)}s`;
const wrkSecs = (ms) => `${Math.max(1, Math.round(ms / 1000))}s`; // wrk takes whole seconds only

// ---------------------------------------------------------------- tools, cpus

if (!opts.noInstall) {
  const r = spawnSync('bash', [path.join(benchDir, 'install.sh')], { stdio: 'inherit', timeout: 15 * 60_000 });
  if (r.status !== 0) console.error('l4: install.sh failed; peers whose binary is missing will be skipped');
}
for (const bin of ['taskset', 'nginx', 'openssl', 'wrk']) {
  if (!has(bin)) {
    console.error(`l4: ${bin} is required (run bench/install.sh)`);
    process.exit(1);
  }
}
if (os.availableParallelism() < 2) {
  console.error('l4: needs at least 2 cores (generator core + proxy core)');
  process.exit(1);
}
const machine = machineInfo(); // with the openssl version (s_time)
spawnSync('taskset', ['-pc', GEN_CORE, String(process.pid)], { stdio: 'ignore' }); // keep the orchestrator off the proxy core

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-l4-'));
const ctx = { tmp, repoRoot, benchDir, tls: makeCert(tmp) };

// ------------------------------------------------------------- measurements

let source = null; // l4-source.mjs (bulk backend)
let backendNginx = null; // conn + web backends

// CPU accounting around a window. Generator-side processes alive at the
// snapshot (sink, s_time) are counted with the backends, not as "other" load.
function cpuSnap(proxy, genPids = []) {
  return snapshot({ proxyPid: proxy?.pid, backendsPid: source?.pid, extraPids: [backendNginx?.pid, ...genPids] });
}

function cpuFigures(before, after, proxy, count, seconds) {
  const u = usage(before, after);
  if (proxy && after.proxy.size === 0) throw new Error('proxy died during the window');
  const cpu = proxy ? u.proxy.seconds : NaN;
  // Share of the proxy's CPU spent in its root process (nginx master,
  // Switchyard's cluster primary) when it has more than one.
  const rootTicks = proxy ? (after.proxy.get(proxy.pid) ?? 0) - (before.proxy.get(proxy.pid) ?? 0) : 0;
  const allTicks = proxy ? [...after.proxy].reduce((a, [pid, t]) => a + t - (before.proxy.get(pid) ?? 0), 0) : 0;
  return {
    rootCpuShare: proxy && after.proxy.size > 1 && allTicks > 0 ? rootTicks / allTicks : undefined,
    count,
    seconds,
    value: count / seconds,
    proxyCpuSeconds: cpu,
    proxyProcesses: proxy ? u.proxy.processes : 0,
    proxyCores: cpu / seconds,
    perCpuSec: cpu > 0 ? count / cpu : NaN,
    generatorCores: (u.backendsSeconds + u.selfAndWrkSeconds) / seconds,
    coreBusy: u.coreBusy,
    otherCores: u.otherCores,
  };
}

// Lines from a child's stdout, awaited one at a time, each with a time limit.
function lineReader(child) {
  const queue = [];
  const waiters = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => (waiters.length ? waiters.shift()(l) : queue.push(l)));
  return (timeoutMs) =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no answer from the generator within ${timeoutMs} ms`)), timeoutMs);
          waiters.push((l) => {
            clearTimeout(t);
            resolve(l);
          });
        });
}

async function measureBulk(peer, proxy) {
  const maxSeconds = Math.ceil((opts.warmupMs + opts.durationMs) / 1000) + 20;
  const { cmd, args } = pinned(GEN_CORE, process.execPath, [path.join(benchDir, 'lib', 'l4-sink.mjs'), String(peer.ports.bulk), String(opts.bulkConnections), String(maxSeconds)]);
  const sink = track(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true }));
  sink.once('error', () => {});
  try {
    const next = lineReader(sink);
    const mark = async () => {
      sink.stdin.write('mark\n');
      return JSON.parse(await next(5000));
    };
    const ready = await next(10_000);
    if (ready !== 'ready') throw new Error(`sink: unexpected ${ready}`);
    await sleep(opts.warmupMs);
    const before = cpuSnap(proxy, [sink.pid]);
    const m0 = await mark();
    await sleep(opts.durationMs);
    const after = cpuSnap(proxy, [sink.pid]);
    const m1 = await mark();
    const gbit = ((m1.bytes - m0.bytes) * 8) / 1e9;
    const s = cpuFigures(before, after, proxy, gbit, (m1.t - m0.t) / 1000);
    const errors = m1.closed + (m1.open < opts.bulkConnections ? opts.bulkConnections - m1.open - m1.closed : 0);
    return { ...s, errors, errorDetail: m1.errors, connectionsOpen: m1.open, command: args.join(' ') };
  } finally {
    await stop(sink, 2000);
  }
}

async function measureConn(peer, proxy) {
  const wrkOpts = { port: peer.ports.conn, connections: opts.connConnections, threads: 2, cores: GEN_CORE, headers: ['Connection: close'] };
  await runWrk({ ...wrkOpts, duration: wrkSecs(opts.warmupMs) });
  const before = cpuSnap(proxy);
  const w = await runWrk({ ...wrkOpts, duration: wrkSecs(opts.durationMs) });
  const after = cpuSnap(proxy);
  return { ...cpuFigures(before, after, proxy, w.requests, w.seconds), errors: w.socketErrors + w.non2xx, p50: w.p50, p99: w.p99, command: w.command };
}

async function measureTls(peer, proxy, sc) {
  const seconds = Math.ceil((opts.warmupMs + opts.durationMs) / 1000) + 3;
  const clients = [];
  try {
    for (let i = 0; i < opts.tlsClients; i++) clients.push(startStime({ port: peer.ports.tls, mode: sc.mode, version: sc.version, www: sc.www, seconds, cores: GEN_CORE }));
    const sum = () => clients.reduce((a, c) => ({ full: a.full + c.counts().full, reused: a.reused + c.counts().reused }), { full: 0, reused: 0 });
    await sleep(opts.warmupMs);
    const pids = clients.map((c) => c.child.pid);
    const before = cpuSnap(proxy, pids);
    const c0 = sum();
    const t0 = performance.now();
    await sleep(opts.durationMs);
    const after = cpuSnap(proxy, pids);
    const c1 = sum();
    const t1 = performance.now();
    const full = c1.full - c0.full;
    const reused = c1.reused - c0.reused;
    // A client that exited before the end of the window stopped counting: say so.
    const early = clients.filter((c) => c.exit());
    const s = cpuFigures(before, after, proxy, full + reused, (t1 - t0) / 1000);
    if (full + reused === 0) throw new Error(`no handshake completed${early.length ? `; s_time: ${early[0].stderr().split('\n')[0] || `exit ${JSON.stringify(early[0].exit())}`}` : ''}`);
    return {
      ...s,
      full,
      reused,
      reusedShare: reused / (full + reused),
      errors: early.length,
      errorDetail: early.map((c) => c.stderr().split('\n').slice(0, 2).join(' ')).filter(Boolean).slice(0, 3),
      command: `${opts.tlsClients} × ${clients[0].command}`,
    };
  } finally {
    await Promise.all(clients.map((c) => stop(c.child, 2000)));
  }
}

// What TLS a peer negotiates and how a TLS 1.2 session resumes: a session is
// saved by one `openssl s_client` and offered by a second one.
function probeTls(port) {
  const sess = path.join(tmp, `sess-${port}.pem`);
  const run = (extra) =>
    spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', ...extra], { input: '', encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  const first = run(['-sess_out', sess]);
  const second = run(['-sess_in', sess]);
  const field = (text, name) => new RegExp(`^\\s*${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const ticket = /TLS session ticket lifetime hint/.test(first);
  return {
    protocol: field(first, 'Protocol'),
    cipher: field(first, 'Cipher'),
    sessionTicketIssued: ticket,
    sessionIdIssued: field(first, 'Session-ID').length > 0,
    resumed: /^Reused, /m.test(second),
    mechanism: !/^Reused, /m.test(second) ? 'not resumed' : ticket ? 'session ticket (RFC 5077; the client offers the ticket)' : 'session ID (server-side cache)',
  };
}

// One run of one peer: start it, wait until every listener answers, then each
// scenario in turn. Always stops what it started.
async function runPeer(peer, scenarios, run, tlsProbes) {
  const out = {};
  let proxy = null;
  try {
    const loadBefore = opts.quietWaitMs > 0 ? await waitForQuiet(opts.quietWaitMs) : NaN;
    if (!peer.direct) {
      for (const p of Object.values(peer.ports)) if (!(await portFree(p))) throw new Error(`port ${p} already in use`);
      proxy = peer.start(ctx);
      await waitForTcp(peer.ports.bulk, { child: proxy });
      await waitForTcp(peer.ports.conn, { child: proxy, send: 'GET / HTTP/1.0\r\n\r\n', expect: 'HTTP/1.1 200' });
      if (peer.ports.tls) await waitForHttp(peer.ports.tls, { child: proxy, tls: true });
      if (peer.ports.tls && !tlsProbes[peer.name] && scenarios.some((s) => s.kind === 'tls')) tlsProbes[peer.name] = probeTls(peer.ports.tls);
    }
    for (const sc of scenarios) {
      if (!peer.ports[sc.port]) continue;
      let s;
      try {
        if (opts.quietWaitMs > 0 && sc !== scenarios.find((x) => peer.ports[x.port])) await waitForQuiet(opts.quietWaitMs);
        if (sc.kind === 'bulk') s = await measureBulk(peer, proxy);
        else if (sc.kind === 'conn') s = await measureConn(peer, proxy);
        else s = await measureTls(peer, proxy, sc);
        s.loadBefore = loadBefore;
      } catch (err) {
        s = { error: `${String(err.message ?? err).split('\n')[0]}${logTail(peer.name)}` };
      }
      out[sc.id] = s;
      console.error(`[run ${run + 1}/${opts.runs}] ${peer.name.padEnd(13)} ${sc.id.padEnd(14)} ${fmt(sc, s)}`);
      await sleep(300); // let the previous scenario's sockets settle
    }
  } catch (err) {
    const msg = `${String(err.message ?? err).split('\n')[0]}${logTail(peer.name)}`;
    for (const sc of scenarios) if (peer.ports[sc.port] && !out[sc.id]) out[sc.id] = { error: msg };
    console.error(`[run ${run + 1}/${opts.runs}] ${peer.name}: ERROR ${msg}`);
  } finally {
    if (proxy) await stop(proxy);
  }
  return out;
}

function logTail(name) {
  try {
    const lines = fs.readFileSync(path.join(tmp, `${name}.log`), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const line = lines.findLast((l) => /error|fail/i.test(l)) ?? lines.at(-1);
    return line ? ` [log: ${line.slice(0, 160)}]` : '';
  } catch {
    return '';
  }
}

function fmt(sc, s) {
  if (s.error) return `ERROR ${s.error}`;
  const d = sc.kind === 'bulk' ? 2 : 0;
  return (
    `${s.value.toFixed(d).padStart(8)} ${sc.unit}  cpu ${Number.isFinite(s.proxyCores) ? s.proxyCores.toFixed(2) : ' n/a'}  ` +
    `${sc.perCpu} ${Number.isFinite(s.perCpuSec) ? s.perCpuSec.toFixed(d) : 'n/a'}  core0 ${Math.round(s.coreBusy[0] * 100)}% core1 ${Math.round(s.coreBusy[1] * 100)}%  ` +
    `other ${s.otherCores.toFixed(2)}${s.otherCores > QUIET_CORES ? ' (noisy)' : ''}` +
    (Number.isFinite(s.proxyCores) && !isSaturated(s.proxyCores, s.coreBusy[1]) ? `  UNSATURATED${s.coreBusy[0] >= 0.95 ? ' (generator-bound)' : ''}` : '') +
    (s.reusedShare !== undefined ? `  reused ${Math.round(s.reusedShare * 100)}%` : '') +
    (s.errors ? `  errors ${s.errors}${s.errorDetail?.length ? ` (${s.errorDetail.join('; ')})` : ''}` : '')
  );
}

function summarizeCell(samples) {
  const ok = samples.filter((s) => !s.error);
  const pick = (k) => ok.map((s) => s[k]);
  return {
    runs: samples.length,
    okRuns: ok.length,
    failures: samples.filter((s) => s.error).map((s) => s.error),
    value: median(pick('value')),
    spread: spread(pick('value')),
    proxyCores: median(pick('proxyCores')),
    perCpuSec: median(pick('perCpuSec')),
    core0Busy: median(ok.map((s) => s.coreBusy?.[0])),
    core1Busy: median(ok.map((s) => s.coreBusy?.[1])),
    otherCores: median(pick('otherCores')),
    errors: ok.reduce((a, s) => a + (s.errors ?? 0), 0),
    reusedShare: ok.some((s) => s.reusedShare !== undefined) ? median(pick('reusedShare')) : undefined,
    p99: ok.some((s) => s.p99 !== undefined) ? median(pick('p99')) : undefined,
    rootCpuShare: ok.some((s) => s.rootCpuShare !== undefined) ? median(pick('rootCpuShare')) : undefined,
  };
}

// ------------------------------------------------------------------------ main

let failed = false;
try {
  const scenarios = SCENARIOS.filter((s) => !opts.scenarios.length || opts.scenarios.includes(s.id));
  const selected = L4_PEERS.filter((p) => (!opts.only.length || opts.only.includes(p.name)) && scenarios.some((s) => p.ports[s.port]));
  const skipped = new Map();
  for (const p of selected) {
    const why = p.check(ctx);
    if (why) skipped.set(p.name, why);
  }
  for (const [name, why] of skipped) console.error(`l4: skipping ${name}: ${why}`);
  const active = selected.filter((p) => !skipped.has(p.name));

  // Generator-side backends, pinned to the generator core, shared by every measurement.
  for (const p of Object.values(BACKEND_PORTS)) if (!(await portFree(p))) throw new Error(`backend port ${p} already in use`);
  source = startSource(ctx);
  backendNginx = startBackendNginx(ctx);
  await waitForTcp(BACKEND_PORTS.bulk, { child: source, timeoutMs: 10_000 });
  await waitForTcp(BACKEND_PORTS.conn, { child: backendNginx, send: 'GET / HTTP/1.0\r\n\r\n', expect: 'HTTP/1.1 200', timeoutMs: 10_000 });
  await waitForHttp(BACKEND_PORTS.web, { child: backendNginx, timeoutMs: 10_000 });

  console.error(`l4: ${active.length} peers × ${scenarios.length} scenarios × ${opts.runs} runs × (${secs(opts.warmupMs)} warm-up + ${secs(opts.durationMs)}); tmp ${tmp}`);
  const samples = Object.fromEntries(scenarios.map((s) => [s.id, Object.fromEntries(active.filter((p) => p.ports[s.port]).map((p) => [p.name, []]))]));
  const tlsProbes = {};
  for (let run = 0; run < opts.runs; run++) {
    const order = active.map((_, i) => active[(i + run) % active.length]); // rotated each run
    for (const peer of order) {
      const out = await runPeer(peer, scenarios, run, tlsProbes);
      for (const [id, s] of Object.entries(out)) {
        samples[id][peer.name].push(s);
        if (s.error) failed = true;
      }
      await sleep(300);
    }
  }

  const cells = {};
  for (const sc of scenarios) {
    cells[sc.id] = {};
    for (const p of selected) {
      if (!p.ports[sc.port]) continue;
      cells[sc.id][p.name] = skipped.has(p.name) ? { runs: 0, okRuns: 0, failures: [], skipped: skipped.get(p.name) } : summarizeCell(samples[sc.id][p.name]);
    }
  }
  const command = (process.env.npm_lifecycle_event === 'bench:l4' ? `npm run bench:l4 -- ${process.argv.slice(2).join(' ')}` : `node bench/l4.mjs ${process.argv.slice(2).join(' ')}`).replace(/( --)? $/, '');
  const result = {
    meta: {
      date: new Date().toISOString(),
      command,
      machine,
      duration: secs(opts.durationMs),
      warmup: secs(opts.warmupMs),
      runs: opts.runs,
      bulkConnections: opts.bulkConnections,
      connConnections: opts.connConnections,
      tlsClients: opts.tlsClients,
      genCore: GEN_CORE,
      proxyCore: PROXY_CORE,
    },
    scenarios: scenarios.map(({ id, title, unit, perCpu, kind }) => ({ id, title, unit, perCpu, kind })),
    peers: selected.map((p) => ({ name: p.name, note: p.note, pinning: p.cores ? `core ${p.cores}` : 'no proxy', skipped: skipped.get(p.name) })),
    cells,
    tlsProbes,
    samples,
  };
  const md = renderL4Markdown(result);
  console.log('\n' + md);
  const files = writeResults(path.join(benchDir, 'results'), result, md, 'l4-');
  console.error(`l4: wrote ${files.join(', ')}`);
} catch (err) {
  failed = true;
  console.error(`l4: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await Promise.all([source, backendNginx].filter(Boolean).map((c) => stop(c)));
  if (failed || opts.keepTmp) console.error(`l4: logs and configs kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
