// Regional failover lab on one machine, side by side: Switchyard's GeoDNS (region health from
// etcd: membership + a probe quorum, flap damping) and PowerDNS 4.7 LUA records (`ifurlup`,
// one prober per server, 5 s check interval). Three regions on loopback addresses (eu
// 127.0.10.1, us 127.0.20.1, ap 127.0.30.1), one Switchyard fleet node each (HTTP listener =
// the region's VIP, plus a dns listener), one backend, real etcd. The same dig polling harness
// asks the surviving Switchyard nodes and PowerDNS, every `--poll` ms, what an eu client
// (ECS 10.1.0.0/24) gets; `--clients` eu clients per system resolve with real `dig +subnet`,
// keep the answer for its TTL (first resolutions spread over one TTL, like real caches) and
// send GETs to the address every 100 ms.
//
// Per run: SIGKILL the eu node (its primary and workers) and measure
//   detection  — kill → the first surviving node logs "region eu is down" (PowerDNS: no signal)
//   DNS change — kill → every polled server answers us for eu clients
//   moved      — kill → every client got a 200 from the us VIP
// then start eu again and measure `back` (node ready → every server answers eu again:
// Switchyard's hold-down vs PowerDNS's next check).
//
//   npm run build && node bench/geodns-failover.mjs [--runs 3] [--ttl 30] [--clients 4] [--poll 200]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseSpec, specUsage } from './lib/args.mjs';
import { start, stop, killAllSync } from './lib/procs.mjs';
import { processTree } from './lib/cpu.mjs';
import { median } from './lib/stats.mjs';
import { powerdnsZone } from './lib/powerdns.mjs';

const SPEC = {
  runs: { env: 'GEO_RUNS', def: '3', help: 'failures (and recoveries) of the eu region' },
  ttl: { env: 'GEO_TTL', def: '30', help: 'DNS TTL in seconds (both systems)' },
  clients: { env: 'GEO_CLIENTS', def: '4', help: 'eu clients per system' },
  poll: { env: 'GEO_POLL', def: '200', help: 'ms between two dig polls of each server' },
  'hold-down': { env: 'GEO_HOLD_DOWN', def: '10s', help: 'Switchyard dns.health.holdDown' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/geodns-failover.mjs', SPEC));
const RUNS = Number(opts.runs);
const TTL = Number(opts.ttl);
const POLL = Number(opts.poll);
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { startEtcd, freeLoopbackPorts } = await import(dist('test/support/etcd.js'));
const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const REGIONS = { eu: '127.0.10.1', us: '127.0.20.1', ap: '127.0.30.1' };
const Z = 'geo.example.test';
const dir = mkdtempSync(join(tmpdir(), 'swy-geo-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.on('exit', killAllSync);
process.on('SIGINT', () => process.exit(130));

const [webPort, dnsPort, pdnsPort, backendPort] = await freeLoopbackPorts(4);

/** Real dig, one try: [{ data, ttl }] of the answer section ([] on timeout). */
function dig(server, port, subnet) {
  return new Promise((resolve) => {
    execFile('dig', [`@${server}`, '-p', String(port), `www.${Z}`, 'A', `+subnet=${subnet}`, '+tries=1', '+time=1', '+noall', '+answer'], { timeout: 5000 }, (err, out) => {
      // Answer lines only (dig prints ";; communications error …" for a dead server, even with +noall).
      const rows = (out ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map((l) => l.split(/\s+/));
      resolve(rows.filter((f) => f[3] === 'A' && Number.isFinite(Number(f[1]))).map((f) => ({ ttl: Number(f[1]), data: f[4] })));
    });
  });
}

function get(address) {
  return new Promise((resolve) => {
    const req = request({ host: address, port: webPort, path: '/', agent: false, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('timeout', () => req.destroy()).on('error', () => resolve(false));
    req.end();
  });
}

const backend = createServer((_, res) => res.end('ok')).listen(backendPort, '127.0.0.1');

const config = {
  workers: 1, logLevel: 'info',
  listeners: [{ name: 'web', address: '127.0.0.1:1' }, { name: 'dns', address: '127.0.0.1:2', protocol: 'dns' }],
  routes: [{ service: 'app' }],
  services: { app: { backends: [{ address: `127.0.0.1:${backendPort}` }] } },
  dns: {
    zone: Z, names: ['www'], ttl: `${TTL}s`,
    nameservers: Object.values(REGIONS).map((a, i) => ({ name: `ns${i + 1}.${Z}`, addresses: [a] })),
    regions: Object.fromEntries(Object.entries(REGIONS).map(([r, a]) => [r, {
      vips: [a], zones: [`${r}-a`], fallback: Object.keys(REGIONS).filter((x) => x !== r), probe: { port: webPort, path: '/' },
    }])),
    defaultRegion: 'eu',
    clientSubnets: [{ cidr: '10.1.0.0/16', region: 'eu' }, { cidr: '10.2.0.0/16', region: 'us' }, { cidr: '10.3.0.0/16', region: 'ap' }],
    limits: { queriesPerSecond: 10_000, burst: 10_000 },
    // maxHoldDown = holdDown: every run sees the same hold-down (no doubling across runs).
    health: { holdDown: opts['hold-down'], maxHoldDown: opts['hold-down'] },
  },
};

// PowerDNS: the same VIPs as ifurlup groups in eu's preference order (eu, then us, then ap).
const pdnsArgs = powerdnsZone(dir, {
  zone: Z, port: pdnsPort, ttl: TTL,
  records: [`www IN LUA A "ifurlup('http://www.${Z}:${webPort}/', {{'${REGIONS.eu}'}, {'${REGIONS.us}'}, {'${REGIONS.ap}'}})"`],
});

const etcd = await startEtcd();
process.on('exit', () => { for (const m of etcd.members) { try { if (m.pid) process.kill(m.pid, 'SIGKILL'); } catch { /* gone */ } } });
const file = join(dir, 'fleet.yaml');
writeFileSync(file, stringify(config));
await new Promise((resolve, reject) => execFile(process.execPath, [CLI, 'config', 'push', file, '--store', etcd.url('/geo')], (e) => (e ? reject(e) : resolve())));
const pdns = start({ cmd: 'pdns_server', args: pdnsArgs, logFile: join(dir, 'pdns.log') });

const nodes = {};
async function startNode(r) {
  const logFile = join(dir, `node-${r}.log`);
  const from = (() => { try { return readFileSync(logFile, 'utf8').length; } catch { return 0; } })();
  nodes[r] = start({
    cmd: process.execPath, logFile, env: { SWITCHYARD_LOG_PRETTY: '0' },
    args: [CLI, 'start', '--store', etcd.url('/geo'), '--cache', join(dir, `cache-${r}.json`), '--node-id', `node-${r}`, '--zone', `${r}-a`,
      '--lease-ttl', '10', '--listen', `web=${REGIONS[r]}:${webPort}`, '--listen', `dns=${REGIONS[r]}:${dnsPort}`],
  });
  for (const t0 = Date.now(); Date.now() - t0 < 60_000; await sleep(100)) {
    if (readFileSync(logFile, 'utf8').slice(from).includes('"msg":"ready"')) return;
  }
  throw new Error(`node ${r} not ready: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
}
for (const r of Object.keys(REGIONS)) await startNode(r);

const servers = {
  'switchyard@us': () => dig(REGIONS.us, dnsPort, '10.1.0.0/24'),
  'switchyard@ap': () => dig(REGIONS.ap, dnsPort, '10.1.0.0/24'),
  powerdns: () => dig('127.0.0.1', pdnsPort, '10.1.0.0/24'),
};
const answers = Object.fromEntries(Object.keys(servers).map((s) => [s, undefined]));
let polling = true;
const pollers = Object.entries(servers).map(async ([name, ask]) => {
  while (polling) {
    const t = Date.now();
    answers[name] = (await ask())[0]?.data;
    await sleep(Math.max(0, POLL - (Date.now() - t)));
  }
});

/** One eu client: resolves through `resolvers` (tried in a random order, like a stub with several servers), caches for the TTL, GETs every 100 ms. */
function client(system, i, resolvers) {
  const c = { system, last: undefined, okFrom: undefined, resolves: 0 };
  const subnet = `10.1.${i + 1}.0/24`;
  let until = 0;
  let vip;
  c.done = (async () => {
    await sleep((i * TTL * 1000) / Number(opts.clients)); // caches of different ages
    while (polling) {
      if (Date.now() >= until || vip === undefined) {
        for (const [host, port] of [...resolvers].sort(() => Math.random() - 0.5)) {
          const a = await dig(host, port, subnet);
          if (a.length > 0) { vip = a[0].data; until = Date.now() + a[0].ttl * 1000; c.resolves++; break; }
        }
      }
      if (vip !== undefined && await get(vip)) c.okFrom = { vip, at: Date.now() };
      await sleep(100);
    }
  })();
  return c;
}
const syResolvers = Object.values(REGIONS).map((a) => [a, dnsPort]);
const clients = [
  ...Array.from({ length: Number(opts.clients) }, (_, i) => client('switchyard', i, syResolvers)),
  ...Array.from({ length: Number(opts.clients) }, (_, i) => client('powerdns', i, [['127.0.0.1', pdnsPort]])),
];

async function waitFor(pred, timeoutMs) {
  const t0 = Date.now();
  while (!pred()) { if (Date.now() - t0 > timeoutMs) return undefined; await sleep(20); }
  return Date.now() - t0;
}

console.error(`# warming up: ${TTL} s (every client resolves once, cache ages spread over the TTL)`);
await waitFor(() => Object.values(answers).every((a) => a === REGIONS.eu) && clients.every((c) => c.okFrom?.vip === REGIONS.eu), TTL * 1000 + 30_000);

const rows = [];
for (let run = 1; run <= RUNS; run++) {
  const usLog = join(dir, 'node-us.log');
  const logFrom = readFileSync(usLog, 'utf8').length;
  const killedAt = Date.now();
  for (const p of processTree(nodes.eu.pid).map((s) => s.pid)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  const moved = (system, vip) => clients.filter((c) => c.system === system).every((c) => c.okFrom?.vip === vip && c.okFrom.at > killedAt);
  const [syDns, pdnsDns, syMoved, pdnsMoved] = await Promise.all([
    waitFor(() => answers['switchyard@us'] === REGIONS.us && answers['switchyard@ap'] === REGIONS.us, 60_000),
    waitFor(() => answers.powerdns === REGIONS.us, 60_000),
    waitFor(() => moved('switchyard', REGIONS.us), TTL * 1000 + 60_000),
    waitFor(() => moved('powerdns', REGIONS.us), TTL * 1000 + 60_000),
  ]);
  if (syMoved === undefined || pdnsMoved === undefined) console.error(`# not every client moved: ${JSON.stringify(clients.map((c) => ({ s: c.system, ok: c.okFrom, since: c.okFrom && c.okFrom.at - killedAt })))}`);
  const line = readFileSync(usLog, 'utf8').slice(logFrom).split('\n').find((l) => l.includes('"msg":"region eu is down"'));
  const detection = line === undefined ? undefined : Date.parse(JSON.parse(line).time) - killedAt;
  await startNode('eu');
  const readyAt = Date.now();
  const [syBack, pdnsBack] = await Promise.all([
    waitFor(() => answers['switchyard@us'] === REGIONS.eu && answers['switchyard@ap'] === REGIONS.eu, 60_000),
    waitFor(() => answers.powerdns === REGIONS.eu, 60_000),
  ]);
  const row = { run, switchyard: { detection, dnsChange: syDns, moved: syMoved, back: syBack }, powerdns: { detection: undefined, dnsChange: pdnsDns, moved: pdnsMoved, back: pdnsBack } };
  rows.push(row);
  console.error(`# run ${run}: ${JSON.stringify(row)}`);
  // Let every client's cache come back to eu before the next failure.
  await waitFor(() => clients.every((c) => c.okFrom?.vip === REGIONS.eu && c.okFrom.at > readyAt), TTL * 1000 + 30_000);
}

polling = false;
await Promise.all([...pollers, ...clients.map((c) => c.done)]);
const fmt = (v) => (v === undefined ? '-' : `${(v / 1000).toFixed(2)} s`);
const med = (sys, k) => { const v = rows.map((r) => r[sys][k]).filter((x) => x !== undefined); return v.length === 0 ? undefined : median(v); };
console.log(`\nGeoDNS regional failover, ${RUNS} runs, TTL ${TTL} s, ${opts.clients} eu clients per system, dig poll ${POLL} ms (loaded shared machine)`);
console.log('system      detection   DNS change   clients moved   back after recovery');
for (const sys of ['switchyard', 'powerdns']) {
  console.log(`${sys.padEnd(11)} ${fmt(med(sys, 'detection')).padEnd(11)} ${fmt(med(sys, 'dnsChange')).padEnd(12)} ${fmt(med(sys, 'moved')).padEnd(15)} ${fmt(med(sys, 'back'))}`);
}
console.log(`per run: ${JSON.stringify(rows)}`);

for (const n of Object.values(nodes)) await stop(n);
await stop(pdns);
backend.close();
await etcd.stop();
