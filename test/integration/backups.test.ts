// engine-independent: config-store backups and the RTO drill run in the primary, so the suite runs it once (package.json "test").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { startBackends, freePort, withTestEngine, launchSwitchyard, sleep, CLI, type Backend, type Switchyard } from './harness.js';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';
import { makeCert } from '../support/certs.js';
import { EtcdConfigStore } from '../../src/store/config-store.js';

/*
 * Issue 21, disaster recovery: the elected checker snapshots the store after every change
 * (debounced), prunes daily to 30 days and backs the certificates up encrypted; the drill wipes
 * the store, restores the newest backup and times until every node serves it. Real etcd, real nodes.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-backups-'));
let etcd: EtcdHandle;
let backends: Backend[];
const agent = new Agent({ connections: 4 });
const started: Switchyard[] = [];
const keyFile = join(dir, 'backup.key');
writeFileSync(keyFile, 'a passphrase for the certificate backups\n');
const tls = makeCert(['www.backup.test']);

function cli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0' } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

/** A fleet config routing to backend `to`, with automatic backups into `backupDir`. */
function fleetConfig(to: 0 | 1, backupDir: string): Record<string, unknown> {
  return withTestEngine({
    workers: 1,
    listeners: [{ name: 'web', address: '127.0.0.1:9' }, { name: 'tls', address: '127.0.0.1:10', protocol: 'https', tls: { certificates: [tls] } }],
    routes: [{ service: `s${to}` }],
    services: { s0: { backends: [{ address: backends[0].address }] }, s1: { backends: [{ address: backends[1].address }] } },
    backup: { dir: backupDir, debounce: '1s', certificates: { key: `\${file:${keyFile}}` } },
  });
}

let pushes = 0;
async function push(prefix: string, config: Record<string, unknown>): Promise<void> {
  const file = join(dir, `push-${++pushes}.yaml`);
  writeFileSync(file, stringify(config));
  const r = await cli(['config', 'push', file, '--store', etcd.url(prefix)]);
  assert.equal(r.code, 0, r.out);
}

async function startNode(prefix: string, id: string, role = 'both'): Promise<Switchyard> {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const cache = join(dir, `cache-${prefix.slice(1)}-${id}.json`);
  const node = await launchSwitchyard(['start', '--store', etcd.url(prefix), '--cache', cache, '--node-id', id, '--role', role, '--zone', 'z1',
    '--lease-ttl', '3', '--listen', `web=127.0.0.1:${port}`, '--listen', `tls=127.0.0.1:${tlsPort}`], port, cache);
  started.push(node);
  return node;
}

async function servedBy(node: Switchyard): Promise<string | undefined> {
  try {
    const r = await request(`${node.url}/`, { dispatcher: agent, headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await r.body.text();
    return r.statusCode === 200 ? (JSON.parse(text) as { backend: string }).backend : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const configBackups = (backupDir: string): string[] => (existsSync(join(backupDir, 'config')) ? readdirSync(join(backupDir, 'config')).filter((n) => !n.endsWith('.part')).sort() : []);

before(async () => {
  etcd = await startEtcd();
  backends = await startBackends(2);
});

after(async () => {
  for (const n of started) await n.stop().catch(() => undefined);
  await Promise.all(backends.map((b) => b.close()));
  await agent.close();
  await etcd.stop();
});

test('certificate backup: encrypted, round-trips with the key, refused with a wrong key', async () => {
  const cfg = join(dir, 'certs.yaml');
  writeFileSync(cfg, stringify({ listeners: [{ name: 'tls', address: '127.0.0.1:9', protocol: 'https', tls: { certificates: [tls] } }] }));
  const out = join(dir, 'manual');
  const b = await cli(['config', 'backup-certs', out, '-c', cfg, '--key-file', keyFile]);
  assert.equal(b.code, 0, b.out);
  const [archive] = readdirSync(join(out, 'certs'));
  assert.match(archive, /^\d{4}-\d\d-\d\dT.*Z\.swycert$/);
  const sealed = readFileSync(join(out, 'certs', archive));
  assert.ok(!sealed.includes(readFileSync(tls.key).subarray(40, 80)), 'the key is not in the archive in clear');
  assert.ok(!sealed.includes(Buffer.from('BEGIN')), 'no PEM in clear');

  const to = join(dir, 'restored');
  const r = await cli(['config', 'restore-certs', out, '--to', to, '--key-file', keyFile]);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(readFileSync(join(to, tls.cert)), readFileSync(tls.cert));
  assert.deepEqual(readFileSync(join(to, tls.key)), readFileSync(tls.key));

  const wrongKey = join(dir, 'wrong.key');
  writeFileSync(wrongKey, 'not the passphrase used for it');
  const w = await cli(['config', 'restore-certs', out, '--to', join(dir, 'nope'), '--key-file', wrongKey]);
  assert.equal(w.code, 1, w.out);
  assert.match(w.out, /SWY_BACKUP_UNREADABLE: certificate backup: wrong key, or the file was changed or damaged/);
  assert.ok(!existsSync(join(dir, 'nope')), 'nothing written with a wrong key');
});

test('the elected checker snapshots the store after each change (debounced) and backs the certificates up encrypted', { timeout: 120_000 }, async () => {
  const prefix = '/swy-auto';
  const backupDir = join(dir, 'auto');
  await push(prefix, fleetConfig(0, backupDir));
  await startNode(prefix, 'checker-1', 'checker');
  await waitFor('a snapshot of version 1', () => configBackups(backupDir).find((n) => n.endsWith('-v1')));
  await push(prefix, fleetConfig(1, backupDir));
  const v2 = await waitFor('a snapshot of version 2', () => configBackups(backupDir).find((n) => n.endsWith('-v2')));
  const snap = join(backupDir, 'config', v2);
  assert.ok(readFileSync(join(snap, 'etcd-snapshot.db')).length > 0);
  const history = JSON.parse(readFileSync(join(snap, 'config-history.json'), 'utf8')) as { records: { version: number }[] };
  assert.deepEqual(history.records.map((r) => r.version), [1, 2]);

  const archive = await waitFor('a certificate backup', () => (existsSync(join(backupDir, 'certs')) ? readdirSync(join(backupDir, 'certs')).find((n) => n.endsWith('.swycert')) : undefined));
  const to = join(dir, 'auto-restored');
  const r = await cli(['config', 'restore-certs', join(backupDir, 'certs', archive), '--to', to, '--key-file', keyFile]);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(readFileSync(join(to, tls.key)), readFileSync(tls.key));

  // The store's current config, checked and shown as a node would load it: the backup key is a secret.
  const v = await cli(['validate', '--store', etcd.url(prefix)]);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, /v2: ok \(2 listeners, 1 routes, 2 services, 1 certificates\)/);
  const show = await cli(['config', 'show', '--json', '--store', etcd.url(prefix)]);
  assert.equal(show.code, 0, show.out);
  assert.equal((JSON.parse(show.out) as { backup: { certificates: { key: string } } }).backup.certificates.key, '***');
  assert.doesNotMatch(show.out, /a passphrase for the certificate backups/);
});

test('the daily prune: store history and snapshots older than 30 days go, the newest 10 versions and the newest snapshot stay', { timeout: 120_000 }, async () => {
  const prefix = '/swy-prune';
  const backupDir = join(dir, 'prune');
  const DAY = 86_400_000;
  // 12 versions pushed 40 days ago, through the store API with its clock set back.
  const old = EtcdConfigStore.fromUrl(etcd.url(prefix), { now: () => new Date(Date.now() - 40 * DAY) });
  try {
    for (let i = 0; i < 12; i++) await old.push(stringify(fleetConfig(0, backupDir)), { author: 't', host: 'h', validate: () => undefined });
  } finally {
    await old.close();
  }
  for (const name of ['2020-01-01T00-00-00.000Z-v1', '2020-01-02T00-00-00.000Z-v2']) mkdirSync(join(backupDir, 'config', name), { recursive: true });
  await startNode(prefix, 'checker-2', 'checker');
  await waitFor('the prune', () => existsSync(join(backupDir, 'last-prune')));
  const store = EtcdConfigStore.fromUrl(etcd.url(prefix));
  try {
    const versions = (await store.history()).map((h) => h.version);
    assert.deepEqual(versions, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3], 'versions 1 and 2 (40 days old, beyond the newest 10) are pruned');
  } finally {
    await store.close();
  }
  const left = configBackups(backupDir);
  assert.ok(!left.some((n) => n.startsWith('2020-')), `old snapshots deleted: ${left.join(', ')}`);
  assert.ok(left.some((n) => n.endsWith('-v12')), 'the snapshot of the current version is there');
});

test('RTO drill: wipe the store, restore the newest backup, every node serves the restored version well within 5 minutes', { timeout: 180_000 }, async (t) => {
  const prefix = '/swy-drill';
  const autoDir = join(dir, 'drill-auto');
  await push(prefix, fleetConfig(1, autoDir)); // v1: backend 1
  const nodes = [await startNode(prefix, 'node-1'), await startNode(prefix, 'node-2'), await startNode(prefix, 'node-3', 'lb')];
  let seen: (string | undefined)[] = [];
  await waitFor('every node on backend 1', async () => { seen = await Promise.all(nodes.map(servedBy)); return seen.every((b) => b === backends[1].name) || undefined; })
    .catch((e: Error) => { throw new Error(`${e.message}: ${seen.join(', ')}; ${nodes[0].output().slice(-3000)}`); });
  const saved = join(dir, 'drill-saved');
  const b = await cli(['config', 'backup', saved, '--store', etcd.url(prefix)]);
  assert.equal(b.code, 0, b.out);
  await push(prefix, fleetConfig(0, autoDir)); // v2: backend 0, not in the saved backup
  await waitFor('every node on backend 0', async () => (await Promise.all(nodes.map(servedBy))).every((s) => s === backends[0].name) || undefined);

  const d = await cli(['config', 'drill', '--from', saved, '--store', etcd.url(prefix), '--yes']);
  assert.equal(d.code, 0, d.out);
  t.diagnostic(d.out.trim());
  assert.match(d.out, /restored 1 versions, version 1 current/);
  for (const id of ['node-1', 'node-2', 'node-3']) assert.match(d.out, new RegExp(`${id} serves version 1`));
  const rto = Number(/^RTO ([\d.]+) s/m.exec(d.out)?.[1]);
  assert.ok(rto > 0 && rto < 300, `RTO ${rto} s`);
  // Serving the restored version is what the traffic says too.
  assert.deepEqual(await Promise.all(nodes.map(servedBy)), nodes.map(() => backends[1].name));

  const refused = await cli(['config', 'drill', '--from', saved, '--store', etcd.url(prefix)]);
  assert.equal(refused.code, 2, 'without --yes nothing is wiped');
});
