#!/usr/bin/env node
// Big transfers through Switchyard: a download and a chunked upload over an
// HTTP listener and a half-closed stream over a tcp (L4) listener, 1 GiB each
// by default, on each engine. Reports per transfer: bytes, sha1 equal or not,
// seconds, MiB/s, and the workers' peak RSS (sampled every 100 ms). The
// integration tests prove the behaviour with 64-128 MiB and a stalled reader
// (test/integration/streaming.test.ts, tcp.test.ts); this moves the volume.
//
//   node bench/big-transfer.mjs                       # 1 GiB, engines fast and node
//   node bench/big-transfer.mjs --mib 256 --engines fast
//
// Needs a build (dist/src/cli/main.js). Only talks to 127.0.0.1. Switchyard runs
// in its own process group and is killed on exit, error or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { installCleanupHandlers, start, stop } from './lib/procs.mjs';
import { waitForHttp } from './lib/ready.mjs';
import { CLI } from './lib/open-loop.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(`--${name}`); return i === -1 ? def : argv[i + 1]; };
if (argv.includes('--help')) { process.stdout.write('node bench/big-transfer.mjs [--mib 1024] [--engines fast,node]\n'); process.exit(0); }
const TOTAL = Number(opt('mib', '1024')) * 2 ** 20;
const ENGINES = opt('engines', 'fast,node').split(',');
const CHUNK = 64 * 1024;

/** Yields TOTAL bytes of a varying pattern into `write` (respecting its backpressure); resolves with their sha1. */
async function produce(write, end) {
  const block = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) block[i] = (i * 31 + 7) & 0xff;
  const hash = createHash('sha1');
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    block[0] = (block[0] + 1) & 0xff;
    hash.update(block);
    if (!write(Buffer.from(block))) await new Promise((r) => write.drain(r));
  }
  end();
  return hash.digest('hex');
}

const writerOf = (stream) => Object.assign((b) => stream.write(b), { drain: (r) => stream.once('drain', r) });

/** Reads a stream to its end: { bytes, sha1 }. */
function consume(stream) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1');
    let bytes = 0;
    stream.on('data', (d) => { bytes += d.length; hash.update(d); });
    stream.on('end', () => resolve({ bytes, sha1: hash.digest('hex') }));
    stream.on('error', reject);
  });
}

function rssOfChildren(ppid) {
  let total = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== ppid) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch { /* gone */ }
  }
  return total;
}

async function measure(name, pid, work) {
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, rssOfChildren(pid)); }, 100);
  const t0 = process.hrtime.bigint();
  try {
    const { bytes, equal } = await work();
    peak = Math.max(peak, rssOfChildren(pid));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { name, bytes, equal, seconds: s.toFixed(2), mibPerS: (bytes / 2 ** 20 / s).toFixed(0), peakRssMiB: (peak / 2 ** 20).toFixed(0) };
  } finally { clearInterval(timer); }
}

const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
const freePort = async () => { const s = net.createServer(); const p = await listen(s); await new Promise((r) => s.close(r)); return p; };

installCleanupHandlers();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swy-big-'));
const downloads = new Map();
const uploads = new Map();
const httpBackend = http.createServer((req, res) => {
  if (req.url === '/probe') { res.end('ok'); return; }
  if (req.method === 'POST') { void consume(req).then((r) => { uploads.set(req.url, r); res.end(String(r.bytes)); }); return; }
  res.writeHead(200, { 'content-length': String(TOTAL) });
  void produce(writerOf(res), () => res.end()).then((sha1) => downloads.set(req.url, sha1));
});
const tcpBackend = net.createServer({ allowHalfOpen: true }, (s) => { void consume(s).then((r) => s.end(`${r.bytes} ${r.sha1}`)); });
const httpPort = await listen(httpBackend);
const tcpPort = await listen(tcpBackend);
const rows = [];
try {
  for (const engine of ENGINES) {
    const ports = { web: await freePort(), l4: await freePort() };
    const cfg = path.join(dir, `${engine}.yaml`);
    fs.writeFileSync(cfg, `workers: 1
logLevel: warn
accessLog: false
shutdown: { drainTimeout: 1s }
listeners:
  - { name: web, address: 127.0.0.1:${ports.web}, engine: ${engine} }
  - { name: l4, address: 127.0.0.1:${ports.l4}, protocol: tcp, service: l4, engine: ${engine} }
routes:
  - { match: { path: { prefix: / } }, service: app }
services:
  app: { backends: [{ address: 127.0.0.1:${httpPort} }], timeouts: { request: 10m } }
  l4: { backends: [{ address: 127.0.0.1:${tcpPort} }] }
`);
    const sy = start({ cmd: process.execPath, args: [CLI, 'start', '-c', cfg], logFile: path.join(dir, `${engine}.log`) });
    try {
      await waitForHttp(ports.web, { child: sy, path: '/probe' });
      rows.push({ engine, ...await measure('download', sy.pid, () => new Promise((resolve, reject) => {
        http.get(`http://127.0.0.1:${ports.web}/down-${engine}`, (res) => consume(res).then((r) => resolve({ bytes: r.bytes, equal: r.sha1 === downloads.get(`/down-${engine}`) }), reject)).on('error', reject);
      })) });
      rows.push({ engine, ...await measure('upload', sy.pid, async () => {
        let status;
        const req = http.request(`http://127.0.0.1:${ports.web}/up-${engine}`, { method: 'POST' });
        const answered = new Promise((resolve, reject) => { req.on('response', (res) => { status = res.statusCode; res.resume(); res.on('end', resolve); }); req.on('error', reject); });
        const sha1 = await produce(writerOf(req), () => req.end());
        await answered;
        const got = uploads.get(`/up-${engine}`);
        return { bytes: got?.bytes ?? 0, equal: status === 200 && got?.sha1 === sha1 };
      }) });
      rows.push({ engine, ...await measure('l4 half-close', sy.pid, () => new Promise((resolve, reject) => {
        const s = net.connect({ port: ports.l4, host: '127.0.0.1', allowHalfOpen: true });
        let answer = '';
        let sha1;
        s.on('connect', () => { void produce(writerOf(s), () => s.end()).then((h) => { sha1 = h; }); });
        s.on('data', (d) => { answer += d; });
        s.on('end', () => { const [n, h] = answer.split(' '); resolve({ bytes: Number(n), equal: h === sha1 }); });
        s.on('error', reject);
      })) });
    } finally {
      await stop(sy);
    }
  }
} finally {
  httpBackend.closeAllConnections();
  httpBackend.close();
  tcpBackend.close();
}
process.stdout.write(`| engine | transfer | MiB | checksum equal | s | MiB/s | worker peak RSS MiB |\n|---|---|---|---|---|---|---|\n`);
for (const r of rows) process.stdout.write(`| ${r.engine} | ${r.name} | ${(r.bytes / 2 ** 20).toFixed(0)} | ${r.equal} | ${r.seconds} | ${r.mibPerS} | ${r.peakRssMiB} |\n`);
process.exit(rows.every((r) => r.equal && r.bytes === TOTAL) ? 0 : 1);
