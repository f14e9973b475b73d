// DNS queries per CPU-second with dnsperf: Switchyard's `dns` listener (one worker; a GeoDNS
// name: subnet lookup, region choice, weighted order) against PowerDNS 4.7 (bind backend: a
// static A record, and an `ifurlup` LUA record) and dnsdist (answering itself with SpoofAction).
// Each server's whole process tree is charged its CPU time (/proc) over the dnsperf window;
// rounds are interleaved and medians reported.
//
//   npm run build && node bench/dns-qps.mjs [--seconds 5] [--rounds 3] [--clients 4] [--outstanding 100]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseSpec, specUsage } from './lib/args.mjs';
import { start, stop, killAllSync } from './lib/procs.mjs';
import { sampleTree, treeCpuSeconds } from './lib/cpu.mjs';
import { median } from './lib/stats.mjs';
import { powerdnsZone } from './lib/powerdns.mjs';

const SPEC = {
  seconds: { env: 'DNSQPS_SECONDS', def: '5', help: 'dnsperf run length per server per round' },
  rounds: { env: 'DNSQPS_ROUNDS', def: '3', help: 'interleaved rounds; medians reported' },
  clients: { env: 'DNSQPS_CLIENTS', def: '4', help: 'dnsperf -c (client sockets)' },
  outstanding: { env: 'DNSQPS_OUTSTANDING', def: '100', help: 'dnsperf -q (queries in flight)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/dns-qps.mjs', SPEC));
const { freeLoopbackPorts } = await import(new URL('../dist/test/support/etcd.js', import.meta.url).href);
const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const Z = 'geo.example.test';
const dir = mkdtempSync(join(tmpdir(), 'swy-dnsqps-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.on('exit', killAllSync);

const [syPort, pdnsPort, distPort, httpPort] = await freeLoopbackPorts(4);
const check = createServer((_, res) => res.end('ok')).listen(httpPort, '127.0.0.1'); // ifurlup's target

writeFileSync(join(dir, 'sy.yaml'), stringify({
  workers: 1, logLevel: 'warn',
  listeners: [{ name: 'dns', address: `127.0.0.1:${syPort}`, protocol: 'dns' }],
  dns: {
    zone: Z, names: ['www', 'lua'], nameservers: [{ name: `ns1.${Z}`, addresses: ['127.0.0.1'] }],
    regions: { eu: { vips: ['10.0.1.1', '10.0.1.2'], fallback: ['us'] }, us: { vips: ['10.0.2.1'], fallback: ['eu'] } },
    defaultRegion: 'eu',
    clientSubnets: [{ cidr: '10.0.0.0/8', region: 'us' }, { cidr: '127.0.0.0/8', region: 'eu' }],
    limits: { queriesPerSecond: 1_000_000, burst: 1_000_000 },
  },
}));
const pdnsArgs = powerdnsZone(dir, {
  zone: Z, port: pdnsPort,
  records: ['www IN A 10.0.1.1', 'www IN A 10.0.1.2', `lua IN LUA A "ifurlup('http://127.0.0.1:${httpPort}/', {{'10.0.1.1', '10.0.1.2'}, {'10.0.2.1'}})"`],
});
writeFileSync(join(dir, 'dnsdist.conf'), `setLocal("127.0.0.1:${distPort}")\nsetSecurityPollSuffix("")\naddAction(AllRule(), SpoofAction({"10.0.1.1", "10.0.1.2"}))\n`);
writeFileSync(join(dir, 'www.txt'), `www.${Z} A\n`);
writeFileSync(join(dir, 'lua.txt'), `lua.${Z} A\n`);

const servers = [
  { name: 'switchyard (geo name)', port: syPort, queries: 'www.txt', proc: start({ cmd: process.execPath, args: [CLI, 'start', '-c', join(dir, 'sy.yaml')], env: { SWITCHYARD_LOG_PRETTY: '0' }, logFile: join(dir, 'sy.log') }) },
  { name: 'powerdns (static A)', port: pdnsPort, queries: 'www.txt', proc: start({ cmd: 'pdns_server', args: pdnsArgs, logFile: join(dir, 'pdns.log') }) },
  { name: 'powerdns (LUA ifurlup)', port: pdnsPort, queries: 'lua.txt' },
  { name: 'dnsdist (SpoofAction)', port: distPort, queries: 'www.txt', proc: start({ cmd: 'dnsdist', args: ['-C', join(dir, 'dnsdist.conf'), '--supervised', '--disable-syslog'], logFile: join(dir, 'dnsdist.log') }) },
];
servers[2].proc = servers[1].proc;

function dnsperf(port, queries, seconds) {
  return new Promise((resolve, reject) => {
    execFile('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', join(dir, queries), '-l', String(seconds), '-c', opts.clients, '-q', opts.outstanding],
      { timeout: (Number(seconds) + 30) * 1000 }, (err, out) => {
        const completed = /Queries completed:\s+(\d+)/.exec(out ?? '');
        if (completed === null) { reject(new Error(`dnsperf failed: ${err?.message}\n${out}`)); return; }
        resolve({ completed: Number(completed[1]), lost: Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0), qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0) });
      });
  });
}

// Ready: each answers a query (Switchyard takes a few seconds to start its worker).
for (const s of servers) {
  for (let i = 0; ; i++) {
    const ok = await dnsperf(s.port, s.queries, 1).then((r) => r.completed > 0, () => false);
    if (ok) break;
    if (i > 60) throw new Error(`${s.name} does not answer: ${readFileSync(join(dir, 'sy.log'), 'utf8').slice(-1000)}`);
    await sleep(500);
  }
}

const results = Object.fromEntries(servers.map((s) => [s.name, []]));
for (let round = 0; round < Number(opts.rounds); round++) {
  for (const s of servers) {
    const before = sampleTree(s.proc.pid);
    const r = await dnsperf(s.port, s.queries, opts.seconds);
    const cpu = treeCpuSeconds(before, sampleTree(s.proc.pid)).seconds;
    results[s.name].push({ ...r, cpu, perCpuS: cpu > 0 ? r.completed / cpu : undefined });
    console.error(`# round ${round + 1} ${s.name}: ${r.completed} answered, ${r.lost} lost, ${r.qps.toFixed(0)} q/s, ${cpu.toFixed(2)} CPU-s`);
  }
}

console.log(`\nDNS queries per CPU-second, dnsperf -c ${opts.clients} -q ${opts.outstanding}, ${opts.seconds} s × ${opts.rounds} rounds (loaded shared machine: 2 cores, other jobs running)`);
console.log('server                     q/s (median)   CPU-s/run   queries per CPU-second   lost');
for (const [name, rs] of Object.entries(results)) {
  console.log(`${name.padEnd(26)} ${median(rs.map((r) => r.qps)).toFixed(0).padStart(12)}   ${median(rs.map((r) => r.cpu)).toFixed(2).padStart(9)}   ${median(rs.map((r) => r.perCpuS ?? 0)).toFixed(0).padStart(22)}   ${median(rs.map((r) => r.lost))}`);
}
for (const s of servers) if (s.proc !== servers[1].proc || s === servers[1]) await stop(s.proc);
check.close();
