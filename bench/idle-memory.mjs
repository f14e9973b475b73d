#!/usr/bin/env node
// Memory per idle keep-alive client connection (issue 20, item 5): Switchyard
// (`workers: 1`, fast engine), nginx (1 worker) and HAProxy (1 thread) in front
// of the same 3 backends. For each peer: start it, read its RSS (VmRSS summed
// over its process tree), warm it up with a few connections, read again, open
// --connections keep-alive connections from a child process, send one GET on
// each and read the response, wait --settle, read RSS again. Reports the base
// RSS and (after - before) / N per connection, as Markdown, and writes
// bench/results/idle-memory-latest.{json,md}.
//
//   npm run build && node bench/idle-memory.mjs [--connections 10000] [--only switchyard,nginx]   (--help for the flags)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';
import { has, haproxyConf, nginxConf } from './lib/peers.mjs';
import { installCleanupHandlers, start, stop, track } from './lib/procs.mjs';
import { portFree, waitForHttp } from './lib/ready.mjs';
import { parseDurationMs } from './lib/wrk.mjs';
import { machineInfo, writeResults } from './lib/report.mjs';
import { switchyardYaml } from './lib/switchyard-yaml.mjs';
import { treeRss } from './lib/rss.mjs';

const SPEC = {
  connections: { env: 'IDLE_CONNECTIONS', def: '10000', help: 'idle keep-alive client connections per peer' },
  warmup: { env: 'IDLE_WARMUP', def: '200', help: 'connections used and closed before the "before" reading (JIT, pools, first allocations)' },
  settle: { env: 'IDLE_SETTLE', def: '2s', help: 'wait before each RSS reading' },
  only: { env: 'IDLE_ONLY', def: '', help: 'comma-separated peers (switchyard, switchyard-node, nginx, haproxy; default: switchyard, nginx, haproxy)' },
  'keep-tmp': { env: 'IDLE_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/idle-memory.mjs', SPEC));
const N = Number(opts.connections);
const WARMUP = Number(opts.warmup);
const settleMs = parseDurationMs(opts.settle);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(WARMUP) || WARMUP < 0) throw new Error('bad --connections/--warmup');
installCleanupHandlers();

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const BACKEND_PORTS = [19031, 19032, 19033];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-idle-'));
const ctx = { tmp, repoRoot, backends: BACKEND_PORTS.map((p) => `127.0.0.1:${p}`) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// One descriptor per connection: as many as the hard limit allows (65536 if it may).
const NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"';
const withNofile = (cmd, args) => ({ cmd: 'sh', args: ['-c', `${NOFILE}; exec "$0" "$@"`, cmd, ...args] });
const KEEP_ALIVE = '600s'; // every peer keeps an idle client far longer than the measurement
const maxConns = N + WARMUP + 1000;
const nofile = Number(execFileSync('sh', ['-c', `${NOFILE}; ulimit -n`], { encoding: 'utf8' }).trim());

function switchyard(name, engine) {
  return {
    name,
    note: `Switchyard, workers: 1, engine: ${engine}, listener keepAlive ${KEEP_ALIVE}`,
    check: () => (fs.existsSync(path.join(repoRoot, 'dist/src/cli/main.js')) ? null : 'dist/src/cli/main.js missing (npm run build)'),
    start(port) {
      const yaml = switchyardYaml({
        port, engine, workers: 1, logLevel: 'warn', algorithm: 'p2c', backends: ctx.backends,
        listener: [`maxConnections: ${maxConns}`, `timeouts: { keepAlive: ${KEEP_ALIVE} }`],
      });
      const file = path.join(tmp, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return withNofile(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'start', '-c', file]);
    },
  };
}

const PEERS = [
  { ...switchyard('switchyard', 'fast'), port: 18380, workerRss: true },
  { ...switchyard('switchyard-node', 'node'), port: 18383, workerRss: true, optional: true },
  {
    name: 'nginx', port: 18381,
    note: `nginx, worker_processes 1, keepalive_timeout ${KEEP_ALIVE}`,
    check: () => (has('nginx') ? null : 'nginx not installed'),
    start(port) {
      const { dir, file } = nginxConf(ctx, port, 1, { workerConnections: maxConns, location: [`keepalive_timeout ${KEEP_ALIVE};`] });
      return withNofile('nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']);
    },
  },
  {
    name: 'haproxy', port: 18382,
    note: `HAProxy, nbthread 1, timeout http-keep-alive ${KEEP_ALIVE}`,
    check: () => (has('haproxy') ? null : 'haproxy not installed'),
    start(port) {
      const file = haproxyConf(ctx, port, 1, { maxconn: maxConns, lenientLimits: true, clientTimeout: KEEP_ALIVE, keepAliveTimeout: KEEP_ALIVE });
      return withNofile('haproxy', ['-f', file, '-db']);
    },
  },
];
const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : PEERS.filter((p) => !p.optional).map((p) => p.name);
const unknown = only.filter((n) => !PEERS.some((p) => p.name === n));
if (unknown.length) throw new Error(`unknown peer(s) ${unknown.join(', ')}`);

// The client process; resolves with it and its first report ({ ok, failed }).
async function openClients(port, n) {
  const child = track(spawn('sh', ['-c', `${NOFILE}; exec "$0" "$@"`, process.execPath, path.join(benchDir, 'lib/idle-clients.mjs'), String(port), String(n)],
    { detached: true, stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('client exited before reporting');
  const ask = async () => { child.stdin.write('open?\n'); return JSON.parse((await lines.next()).value).open; };
  return { child, ask, ...JSON.parse(first.value) };
}

async function measure(peer) {
  if (!(await portFree(peer.port))) throw new Error(`port ${peer.port} already in use`);
  const proxy = start({ ...peer.start(peer.port), cwd: repoRoot, logFile: path.join(tmp, `${peer.name}.log`) });
  let clients = null;
  try {
    await waitForHttp(peer.port, { child: proxy });
    await sleep(settleMs);
    const base = treeRss(proxy.pid);
    if (WARMUP > 0) {
      const w = await openClients(peer.port, WARMUP);
      await stop(w.child);
      if (w.failed) throw new Error(`${w.failed} of ${WARMUP} warm-up requests failed`);
    }
    await sleep(settleMs);
    const before = treeRss(proxy.pid);
    clients = await openClients(peer.port, N);
    await sleep(settleMs);
    const after = treeRss(proxy.pid);
    const stillOpen = await clients.ask();
    if (clients.failed || stillOpen !== N) throw new Error(`${clients.failed} of ${N} requests failed, ${stillOpen} connections still open after the wait`);
    return {
      name: peer.name, note: peer.note, processes: after.processes,
      baseKiB: base.totalKiB, baseWorkerKiB: peer.workerRss ? base.children : null,
      beforeKiB: before.totalKiB, afterKiB: after.totalKiB,
      perConnKiB: (after.totalKiB - before.totalKiB) / N,
      workerPerConnKiB: peer.workerRss ? (after.children - before.children) / N : null,
    };
  } finally {
    if (clients) await stop(clients.child);
    await stop(proxy);
  }
}

const mib = (kib) => (kib / 1024).toFixed(1);
function markdown(result) {
  const out = [
    `## Idle keep-alive client connections: memory (${result.meta.date})`, '',
    `\`${result.meta.command}\` — ${N.toLocaleString('en')} connections, one GET each, then idle; ${WARMUP} warm-up connections before the "before" reading; ${opts.settle} settle before each reading; nofile ${result.meta.nofile}. Machine: ${result.meta.machine.nproc} × ${result.meta.machine.model}, Node ${result.meta.machine.node}, nginx ${result.meta.machine.nginx}, ${result.meta.machine.haproxy}.`, '',
    '| peer | processes | base RSS (MiB) | worker base (MiB) | RSS before → after (MiB) | KiB per idle connection | worker KiB per connection |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of result.rows) {
    if (r.error) { out.push(`| ${r.name} | ERROR: ${r.error} | | | | | |`); continue; }
    out.push(`| ${r.name} | ${r.processes} | ${mib(r.baseKiB)} | ${r.baseWorkerKiB === null ? '' : mib(r.baseWorkerKiB)} | ${mib(r.beforeKiB)} → ${mib(r.afterKiB)} | **${r.perConnKiB.toFixed(2)}** | ${r.workerPerConnKiB === null ? '' : r.workerPerConnKiB.toFixed(2)} |`);
  }
  out.push('', ...result.rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`));
  // The primary's RSS moves on its own (it collects its start-up garbage a few seconds in).
  out.push('', 'Switchyard holds client connections in its worker only: the worker column is its cost per connection; its total also moves with the primary\'s own garbage collection.');
  return out.join('\n') + '\n';
}

let backends = null;
try {
  for (const p of BACKEND_PORTS) if (!(await portFree(p))) throw new Error(`backend port ${p} already in use`);
  backends = start({ cmd: process.execPath, args: [path.join(benchDir, 'backends.mjs'), ...BACKEND_PORTS.map(String)], logFile: path.join(tmp, 'backends.log') });
  for (const p of BACKEND_PORTS) await waitForHttp(p, { child: backends, timeoutMs: 10_000 });
  const rows = [];
  for (const peer of PEERS.filter((p) => only.includes(p.name))) {
    const why = peer.check();
    if (why) { rows.push({ name: peer.name, error: `skipped: ${why}` }); continue; }
    try {
      rows.push(await measure(peer));
    } catch (err) {
      rows.push({ name: peer.name, error: String(err.message ?? err).split('\n')[0] });
      process.exitCode = 1;
    }
    console.error(`idle-memory: ${JSON.stringify(rows.at(-1))}`);
  }
  const result = { meta: { date: new Date().toISOString(), command: `node bench/idle-memory.mjs ${process.argv.slice(2).join(' ')}`.trim(), machine: machineInfo(), connections: N, warmup: WARMUP, settle: opts.settle, nofile }, rows };
  const md = markdown(result);
  console.log('\n' + md);
  console.error(`idle-memory: wrote ${writeResults(path.join(benchDir, 'results'), result, md, 'idle-memory-').join(', ')}`);
} catch (err) {
  console.error(`idle-memory: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  if (backends) await stop(backends);
  if (process.exitCode || opts['keep-tmp']) console.error(`idle-memory: logs and configs kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
