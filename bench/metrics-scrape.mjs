// /metrics with many backends: size, series and scrape time of one node's Prometheus endpoint
// when a service has thousands of backends (issue 15: 10,000 backends made /metrics 25 MB and
// ~1 s per scrape). Starts Switchyard (`workers: 1`) with one service of --backends backends, of
// which --real are node:http servers that take nearly all the traffic (weight 10000 against 1;
// the others are unused loopback addresses), sends --requests GETs, then scrapes --scrapes times.
//
//   npm run build && node bench/metrics-scrape.mjs [--backends 10000] [--scrapes 10]   (--help for the flags)
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';
import { start, stop, installCleanupHandlers } from './lib/procs.mjs';
import { waitForHttp } from './lib/ready.mjs';

const SPEC = {
  backends: { env: 'METRICS_BACKENDS', def: '10000', help: 'backends in the service' },
  real: { env: 'METRICS_REAL', def: '20', help: 'of which node:http servers taking the traffic' },
  requests: { env: 'METRICS_REQUESTS', def: '2000', help: 'GETs sent before scraping (sequential, keep-alive)' },
  scrapes: { env: 'METRICS_SCRAPES', def: '10', help: 'scrapes measured (after one warm-up scrape)' },
  'max-series': { env: 'METRICS_MAX_SERIES', def: '', help: 'metrics.maxBackendSeries in the config (default: the schema default; not set on builds without it)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/metrics-scrape.mjs', SPEC));
const [nBackends, nReal, nRequests, nScrapes] = ['backends', 'real', 'requests', 'scrapes'].map((k) => Number(opts[k]));
if (![nBackends, nReal, nRequests, nScrapes].every((n) => Number.isInteger(n) && n >= 1) || nReal > nBackends) throw new Error('bad flags (positive integers, --real <= --backends)');
installCleanupHandlers();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swy-metrics-'));
const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const freePort = async () => { const s = http.createServer(); const p = await listen(s); await new Promise((r) => s.close(r)); return p; };

const servers = [];
const backends = [];
for (let i = 0; i < nReal; i++) {
  const s = http.createServer((req, res) => { req.resume(); res.end('ok'); });
  servers.push(s);
  backends.push({ address: `127.0.0.1:${await listen(s)}`, weight: 10_000 });
}
// Unused loopback addresses (127.1.x.y:9): never picked in practice against weight 10000.
for (let i = nReal; i < nBackends; i++) backends.push({ address: `127.1.${(i >> 8) & 255}.${i & 255}:${9 + (i >> 16)}`, weight: 1 });
const port = await freePort();
const adminPort = await freePort();
const config = {
  workers: 1, logLevel: 'warn',
  listeners: [{ name: 'web', address: `127.0.0.1:${port}` }],
  admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: path.join(tmp, 'audit.log') } },
  routes: [{ match: { path: { prefix: '/' } }, service: 'many' }],
  services: { many: { balancer: { algorithm: 'weighted-round-robin' }, backends } },
  ...(opts['max-series'] ? { metrics: { maxBackendSeries: Number(opts['max-series']) } } : {}),
};
const configPath = path.join(tmp, 'switchyard.json');
fs.writeFileSync(configPath, JSON.stringify(config));
const t0 = performance.now();
const child = start({ cmd: process.execPath, args: [path.join(root, 'dist/src/cli/main.js'), 'start', '-c', configPath], cwd: root, env: { SWITCHYARD_LOG_PRETTY: '0' }, logFile: path.join(tmp, 'switchyard.log') });
try {
  await waitForHttp(adminPort, { child, path: '/metrics', timeoutMs: 120_000 });
  const startMs = performance.now() - t0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const get = (p, pt = port) => new Promise((resolve, reject) => {
    const t = performance.now();
    http.get({ host: '127.0.0.1', port: pt, path: p, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), ms: performance.now() - t }));
    }).on('error', reject);
  });
  let ok = 0;
  for (let i = 0; i < nRequests; i++) if ((await get(`/r${i}`)).status === 200) ok++;
  // The primary collects worker stats about once a second and leaves out a worker slower than
  // 500 ms to answer (10,000 backends make its answer a few MB): wait for a sample that has them.
  const hasBackends = (body) => body.includes('switchyard_upstream_requests_total{service="many"');
  const waitUntil = performance.now() + 60_000;
  while (!hasBackends((await get('/metrics', adminPort)).body) && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 500));
  const samples = [];
  for (let i = 0; i < nScrapes; i++) samples.push(await get('/metrics', adminPort));
  const complete = samples.filter((s) => hasBackends(s.body));
  if (complete.length === 0) throw new Error('no scrape had the backends\' series (worker stats never arrived in time)');
  const last = complete.at(-1).body.toString();
  const lines = last.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const backendSeries = lines.filter((l) => l.includes('backend="'));
  const perBackend = new Set(backendSeries.map((l) => /backend="([^"]*)"/.exec(l)[1]));
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  console.log('| backends | bytes | series | backend-labelled series | distinct backend labels | scrape ms median (min–max) | scrapes with the backends | start s | GETs 200 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(`| ${nBackends} | ${Buffer.byteLength(last).toLocaleString('en-US')} | ${lines.length.toLocaleString('en-US')} | ${backendSeries.length.toLocaleString('en-US')} | ${perBackend.size.toLocaleString('en-US')} | ${median.toFixed(0)} (${ms[0].toFixed(0)}–${ms.at(-1).toFixed(0)}) | ${complete.length}/${nScrapes} | ${(startMs / 1000).toFixed(1)} | ${ok}/${nRequests} |`);
  agent.destroy();
} finally {
  await stop(child);
  for (const s of servers) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
