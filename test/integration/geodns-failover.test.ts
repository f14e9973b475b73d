// engine-independent: region health is judged in the primary; dns.test covers the dns listener on both engines, so the suite runs it once (package.json "test").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBackends, freePort, launchSwitchyard, sleep, withTestEngine, CLI, type Backend, type Switchyard } from './harness.js';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';
import { dig } from '../support/dig.js';

/*
 * Regional failover end to end: three regions on loopback addresses (eu 127.0.10.1, us
 * 127.0.20.1, ap 127.0.30.1), one fleet node each (HTTP listener = the region's VIP, plus a dns
 * listener), real etcd. The eu node is killed (SIGKILL: its membership lease outlives the test's
 * wait, so only the probe quorum of us and ap can move the answers); eu clients' answers move to
 * us; after the node is back they return once the hold-down has passed.
 */

const PREFIX = '/geo';
const Z = 'geo.example.test';
const REGIONS = { eu: '127.0.10.1', us: '127.0.20.1', ap: '127.0.30.1' } as const;
type Region = keyof typeof REGIONS;
let etcd: EtcdHandle;
let backends: Backend[];
let dir: string;
let webPort: number;
let dnsPort: number;
const nodes = new Map<Region, Switchyard>();

function config(): Record<string, unknown> {
  return {
    workers: 1,
    listeners: [{ name: 'web', address: '127.0.0.1:1' }, { name: 'dns', address: '127.0.0.1:2', protocol: 'dns' }],
    routes: [{ match: { path: { prefix: '/' } }, service: 'app' }],
    services: { app: { backends: [{ address: backends[0].address }] } },
    dns: {
      zone: Z, names: ['www'],
      nameservers: Object.values(REGIONS).map((a, i) => ({ name: `ns${i + 1}.${Z}`, addresses: [a] })),
      regions: {
        eu: { vips: [REGIONS.eu], zones: ['eu-a'], fallback: ['us', 'ap'], probe: { port: webPort, path: '/' } },
        us: { vips: [REGIONS.us], zones: ['us-a'], fallback: ['eu', 'ap'], probe: { port: webPort, path: '/' } },
        ap: { vips: [REGIONS.ap], zones: ['ap-a'], fallback: ['us', 'eu'], probe: { port: webPort, path: '/' } },
      },
      defaultRegion: 'eu',
      clientSubnets: [{ cidr: '10.1.0.0/16', region: 'eu' }, { cidr: '10.2.0.0/16', region: 'us' }, { cidr: '10.3.0.0/16', region: 'ap' }],
      health: { quorum: 2, holdDown: '3s' },
    },
  };
}

async function startNode(r: Region): Promise<Switchyard> {
  const a = REGIONS[r];
  const args = ['start', '--store', etcd.url(PREFIX), '--cache', join(dir, `cache-${r}.json`), '--node-id', `node-${r}`, '--zone', `${r}-a`,
    '--lease-ttl', '30', '--listen', `web=${a}:${webPort}`, '--listen', `dns=${a}:${dnsPort}`];
  const n = await launchSwitchyard(args, webPort, join(dir, `cache-${r}.json`));
  nodes.set(r, n);
  return n;
}

/** The address the node of `server` answers for an eu client (ECS 10.1.0.0/24). */
async function euAnswer(server: Region): Promise<string | undefined> {
  const r = await dig(dnsPort, ['-b', '127.0.0.1', `@${REGIONS[server]}`, `www.${Z}`, 'A', '+subnet=10.1.0.0/24']).catch(() => undefined);
  return r?.answers[0]?.data;
}

/** Polls `server` every 50 ms until it answers `want` for eu clients; the milliseconds it took. */
async function until(server: Region, want: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await euAnswer(server) === want) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${server} still does not answer ${want} for eu after ${timeoutMs} ms (answers ${await euAnswer(server)})`);
    await sleep(50);
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'swy-geo-'));
  etcd = await startEtcd();
  backends = await startBackends(1);
  [webPort, dnsPort] = [await freePort(), await freePort()];
  const file = join(dir, 'push.yaml');
  writeFileSync(file, stringify(withTestEngine(config())));
  const push = spawnSync(process.execPath, [CLI, 'config', 'push', file, '--store', etcd.url(PREFIX), '-m', 'geo'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(push.status, 0, `${push.stdout}${push.stderr}`);
  for (const r of Object.keys(REGIONS) as Region[]) await startNode(r);
});

after(async () => {
  for (const n of nodes.values()) await n.stop().catch(() => undefined);
  await Promise.all(backends.map((b) => b.close()));
  await etcd?.stop();
});

test('every region\'s node answers eu clients with eu while it is healthy', { timeout: 30_000 }, async () => {
  for (const r of Object.keys(REGIONS) as Region[]) await until(r, REGIONS.eu, 10_000);
  const us = await dig(dnsPort, [`@${REGIONS.us}`, `www.${Z}`, 'A', '+subnet=10.2.0.0/24']);
  assert.deepEqual(us.answers.map((a) => a.data), [REGIONS.us]);
});

test('eu fails: answers move to its first fallback (probe quorum); back after recovery and the hold-down', { timeout: 90_000 }, async () => {
  const eu = nodes.get('eu')!;
  const pids = [eu.proc.pid!, ...eu.workerPids()];
  const killedAt = Date.now();
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  const moved = await Promise.all([until('us', REGIONS.us, 15_000), until('ap', REGIONS.us, 15_000)]);
  console.log(`# eu killed → answers for eu clients moved to us: ${moved.join(' / ')} ms (us / ap nodes)`);
  // The eu node's lease (30 s) is still alive: the move came from the probes of us and ap.
  assert.ok(Date.now() - killedAt < 25_000);
  nodes.delete('eu');
  await startNode('eu');
  const back = await until('us', REGIONS.eu, 30_000);
  console.log(`# eu node ready again → answers back to eu after ${back} ms (hold-down 3 s)`);
  assert.ok(back >= 2500, `flap damping: eu must stay out for the 3 s hold-down once healthy, came back after ${back} ms`);
  await until('ap', REGIONS.eu, 5_000);
});
