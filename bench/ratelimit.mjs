#!/usr/bin/env node
// Rate-limit cost (issue 18): requests per proxy CPU-second on the L7 path with
//   sy-none    Switchyard, no limit
//   sy-local   Switchyard, one local limit per client address that never trips
//   sy-fleet   Switchyard, one fleet-wide limit per client address that never trips
//              (leases settled with a real redis-server every 100 ms)
//   nginx      nginx, no limit (anchor)
//   nginx-limit  nginx with limit_req per $binary_remote_addr that never trips (anchor)
// side by side in one run: every proxy alone on core 1 (workers: 1 / worker_processes 1),
// wrk, the two backends and Redis on core 0, peers interleaved and rotated across runs,
// medians reported. Redis's own CPU is reported beside sy-fleet (it is not the proxy's).
//
//   node bench/ratelimit.mjs                        # 5 runs x 10 s
//   node bench/ratelimit.mjs --runs 3 --duration 3s --warmup 1s   # quick look
//   node bench/ratelimit.mjs --help
//
// Needs a build (dist/src/cli/main.js), wrk, nginx, redis-server. Only talks to 127.0.0.1;
// every process it starts is killed on exit, error or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installCleanupHandlers, killAllSync, pinned, start, stop } from './lib/procs.mjs';
import { waitForHttp, waitForTcp } from './lib/ready.mjs';
import { runWrk, parseDurationMs } from './lib/wrk.mjs';
import { sampleTree, treeCpuSeconds } from './lib/cpu.mjs';
import { median, spread } from './lib/stats.mjs';
import { nginxConf, has, PROXY_CORE, GEN_CORE } from './lib/peers.mjs';
import { switchyardYaml } from './lib/switchyard-yaml.mjs';
import { CLI, repoRoot, startBackend } from './lib/open-loop.mjs';
import { parseSpec, specUsage } from './lib/args.mjs';

// Ports apart from the other benches'.
const BACKEND_PORTS = [19141, 19142];
const REDIS_PORT = 19149;
const backends = BACKEND_PORTS.map((p) => `127.0.0.1:${p}`);

const SPEC = {
  duration: { env: 'BENCH_DURATION', def: '10s', help: 'wrk measurement window per peer per run' },
  warmup: { env: 'BENCH_WARMUP', def: '2s', help: 'wrk warm-up before each window (not measured)' },
  runs: { env: 'BENCH_RUNS', def: '5', help: 'interleaved rounds; medians are reported' },
  connections: { env: 'BENCH_CONNECTIONS', def: '64', help: 'wrk keep-alive connections' },
  threads: { env: 'BENCH_THREADS', def: '2', help: 'wrk threads (on the generator core)' },
  only: { env: 'BENCH_ONLY', def: '', help: 'comma-separated peers (sy-none, sy-local, sy-fleet, nginx, nginx-limit)' },
  'keep-tmp': { env: 'BENCH_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};

// A limit that never trips: far above what one core can serve, per client address.
const NEVER = 'rate: 1000000, burst: 1000000';
const syPeer = (name, port, limit) => ({
  name, port, note: limit === undefined ? 'no limit' : limit,
  start(ctx) {
    const yaml = switchyardYaml({ port, workers: 1, logLevel: 'warn', algorithm: 'p2c', backends,
      top: limit?.includes('fleet') ? [`rateLimiting: { redis: "redis://127.0.0.1:${REDIS_PORT}" }`] : [] })
      .replace('    service: app\n', `    service: app\n${limit === undefined ? '' : `    rateLimits: [${limit}]\n`}`);
    const file = path.join(ctx.tmp, `${name}.yaml`);
    fs.writeFileSync(file, yaml);
    return start({ ...pinned(PROXY_CORE, process.execPath, [CLI, 'start', '-c', file]), cwd: repoRoot, logFile: path.join(ctx.tmp, `${name}.log`) });
  },
});
const nginxPeer = (name, port, limited) => ({
  name, port, note: limited ? 'limit_req zone per $binary_remote_addr, 1000000r/s, burst 1000000 nodelay' : 'no limit',
  start(ctx) {
    const { dir, file } = nginxConf(ctx, port, 1, limited ? { name, location: ['limit_req zone=perip burst=1000000 nodelay;'] } : { name });
    if (limited) fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('http {\n', 'http {\n  limit_req_zone $binary_remote_addr zone=perip:10m rate=1000000r/s;\n'));
    return start({ ...pinned(PROXY_CORE, 'nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']), cwd: repoRoot, logFile: path.join(ctx.tmp, `${name}.log`) });
  },
});
const PEERS = [
  syPeer('sy-none', 18380),
  syPeer('sy-local', 18381, `{ name: never, ${NEVER} }`),
  syPeer('sy-fleet', 18382, `{ name: never, ${NEVER}, scope: fleet }`),
  nginxPeer('nginx', 18383, false),
  nginxPeer('nginx-limit', 18384, true),
];

const log = (m) => console.error(`ratelimit-bench: ${m}`);

async function main() {
  const o = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/ratelimit.mjs', SPEC));
  const runs = Number(o.runs);
  const only = o.only ? o.only.split(',').map((s) => s.trim()) : PEERS.map((p) => p.name);
  const peers = PEERS.filter((p) => only.includes(p.name));
  for (const bin of ['wrk', 'nginx', 'redis-server']) if (!has(bin)) throw new Error(`${bin} not installed (bench/install.sh)`);
  if (!fs.existsSync(CLI)) throw new Error('dist/src/cli/main.js missing: npm run build');
  if (os.availableParallelism() < 2) throw new Error('needs 2 cores (proxy on core 1, load on core 0)');
  installCleanupHandlers();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swy-bench-rl-'));
  const ctx = { tmp, backends, repoRoot, benchDir: path.dirname(CLI) };
  const started = [];
  try {
    for (const [i, p] of BACKEND_PORTS.entries()) started.push(await startBackend(tmp, p, `backend-${i + 1}`));
    const redis = start({ ...pinned(GEN_CORE, 'redis-server', ['--bind', '127.0.0.1', '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--dir', tmp]), cwd: tmp, logFile: path.join(tmp, 'redis.log') });
    started.push(redis);
    await waitForTcp(REDIS_PORT, { child: redis, send: 'PING\r\n', expect: '+PONG' });
    const samples = new Map(peers.map((p) => [p.name, []]));
    for (let run = 0; run < runs; run++) {
      const order = peers.map((_, i) => peers[(i + run) % peers.length]); // rotate: no peer always first
      for (const p of order) {
        log(`run ${run + 1}/${runs}: ${p.name}`);
        const child = p.start(ctx);
        try {
          await waitForHttp(p.port, { child });
          await runWrk({ port: p.port, duration: o.warmup, connections: Number(o.connections), threads: Number(o.threads), cores: GEN_CORE });
          const [before, rBefore] = [sampleTree(child.pid), sampleTree(redis.pid)];
          const w = await runWrk({ port: p.port, duration: o.duration, connections: Number(o.connections), threads: Number(o.threads), cores: GEN_CORE });
          const cpu = treeCpuSeconds(before, sampleTree(child.pid)).seconds;
          const redisCpu = treeCpuSeconds(rBefore, sampleTree(redis.pid)).seconds;
          samples.get(p.name).push({ rps: w.rps, perCpu: w.requests / cpu, cpuPerS: cpu / w.seconds, redisCpuPerS: redisCpu / w.seconds, p99: w.p99, non2xx: w.non2xx + w.socketErrors });
        } catch (e) {
          samples.get(p.name).push({ error: String(e.message ?? e) });
        } finally {
          await stop(child);
        }
      }
    }
    const rows = peers.map((p) => {
      const ok = samples.get(p.name).filter((s) => !s.error);
      const m = (k) => median(ok.map((s) => s[k]));
      return { name: p.name, note: p.note, runs: ok.length, rps: m('rps'), perCpu: m('perCpu'), spread: spread(ok.map((s) => s.perCpu)), cpuPerS: m('cpuPerS'), redisCpuPerS: m('redisCpuPerS'), p99: m('p99'), non2xx: Math.max(0, ...ok.map((s) => s.non2xx)), failures: samples.get(p.name).filter((s) => s.error).map((s) => s.error) };
    });
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    const cost = (a, b) => (by[a] && by[b] ? `${(((by[b].perCpu - by[a].perCpu) / by[b].perCpu) * 100).toFixed(1)}%` : 'n/a');
    const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
    const md = [
      `## Rate-limit cost (bench/ratelimit.mjs, ${runs} runs × ${o.duration}, wrk -c${o.connections} -t${o.threads}, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| peer | what | req/s | proxy CPU (cores) | req per proxy CPU-s | spread | p99 ms | non-2xx / errors | Redis CPU (cores) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.name} | ${r.note} | ${fmt(r.rps)} | ${fmt(r.cpuPerS, 2)} | ${fmt(r.perCpu)} | ${(r.spread * 100).toFixed(0)}% | ${fmt(r.p99, 2)} | ${r.non2xx} | ${r.name === 'sy-fleet' ? fmt(r.redisCpuPerS, 3) : ''} |`),
      '',
      `Cost per CPU-second against no limit: Switchyard local ${cost('sy-local', 'sy-none')} (target ≤ 5%), fleet ${cost('sy-fleet', 'sy-none')} (target ≤ 15%); nginx limit_req ${cost('nginx-limit', 'nginx')}.`,
      ...rows.filter((r) => r.failures.length > 0).map((r) => `\n${r.name} failures: ${r.failures.join('; ')}`),
    ].join('\n');
    console.log(md);
    const out = path.join(repoRoot, 'bench/results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'ratelimit-latest.md'), `${md}\n`);
    fs.writeFileSync(path.join(out, 'ratelimit-latest.json'), JSON.stringify({ options: o, samples: Object.fromEntries(samples), rows }, null, 2));
  } finally {
    for (const c of started.reverse()) await stop(c);
    if (!o['keep-tmp']) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); killAllSync(); process.exit(1); });
