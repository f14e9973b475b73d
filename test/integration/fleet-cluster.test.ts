// engine-independent: etcd cluster failures are the primary's concern; the request path is the same on both engines, so the suite runs it once (package.json "test").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { Etcd3 } from 'etcd3';
import { stringify } from 'yaml';
import { startBackends, freePort, baseConfig, withTestEngine, launchSwitchyard, sleep, CLI, type Backend, type Switchyard } from './harness.js';
import { startEtcdCluster, type EtcdHandle } from '../support/etcd.js';

/*
 * A 3-member etcd cluster behind two Switchyard nodes: the leader dies under load and no request
 * fails; a push after re-election lands; backup and restore of the config history.
 */

const PREFIX = '/swy-cluster';
const dir = mkdtempSync(join(tmpdir(), 'swy-cluster-'));
let etcd: EtcdHandle;
let backends: Backend[];
const nodes: Switchyard[] = [];
const agent = new Agent({ connections: 8 });

const config = (to: 'a' | 'b') => withTestEngine(baseConfig(9, {
  a: { backends: [{ address: backends[0].address }] },
  b: { backends: [{ address: backends[1].address }] },
}, [{ match: { path: { prefix: '/' } }, service: to }]));

let n = 0;
function push(cfg: Record<string, unknown>): { code: number; out: string } {
  const file = join(dir, `c${++n}.yaml`);
  writeFileSync(file, stringify(cfg));
  const r = spawnSync(process.execPath, [CLI, 'config', 'push', file, '--store', etcd.url(PREFIX)], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

before(async () => {
  etcd = await startEtcdCluster(3);
  backends = await startBackends(2);
  assert.equal(push(config('a')).code, 0);
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    nodes.push(await launchSwitchyard(['start', '--store', etcd.url(PREFIX), '--cache', join(dir, `cache-${i}.json`), '--node-id', `n${i}`,
      '--listen', `web=127.0.0.1:${port}`], port, join(dir, `cache-${i}.json`)));
  }
});

after(async () => {
  for (const s of nodes) await s.stop().catch(() => undefined);
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
  await etcd?.stop();
});

test('the etcd leader is killed under load: zero failed requests; a push after re-election reaches every node', { timeout: 60_000 }, async () => {
  let running = true;
  const stats = { ok: 0, failed: 0, errors: [] as string[] };
  const deadline = Date.now() + 30_000;
  const loops = nodes.flatMap((s) => [0, 1].map(async () => {
    while (running && Date.now() < deadline) {
      try {
        const r = await request(`${s.url}/`, { dispatcher: agent, headersTimeout: 3000, bodyTimeout: 3000 });
        await r.body.dump();
        if (r.statusCode === 200) stats.ok++; else { stats.failed++; stats.errors.push(String(r.statusCode)); }
      } catch (e) { stats.failed++; stats.errors.push((e as Error).message); }
    }
  }));
  await sleep(500);
  const leader = await etcd.leader();
  await etcd.kill(leader);
  const t0 = Date.now();
  let r = push(config('b'));
  while (r.code !== 0 && Date.now() - t0 < 20_000) { await sleep(200); r = push(config('b')); }
  assert.equal(r.code, 0, r.out);
  console.log(`# etcd leader killed: a push landed ${Date.now() - t0} ms later`);
  for (const s of nodes) {
    for (let i = 0; i < 100; i++) {
      const res = await request(`${s.url}/`, { dispatcher: agent });
      if ((JSON.parse(await res.body.text()) as { backend: string }).backend === 'b1') break;
      assert.ok(i < 99, `${s.url} still on the old config`);
      await sleep(100);
    }
  }
  await sleep(500);
  running = false;
  await Promise.all(loops);
  assert.ok(stats.ok > 100, `only ${stats.ok} requests`);
  assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join('\n'));
});

test('config backup writes a snapshot and the history; restore brings the history back into an empty store', { timeout: 60_000 }, async () => {
  const backup = join(dir, 'backup');
  const b = spawnSync(process.execPath, [CLI, 'config', 'backup', backup, '--store', etcd.url(PREFIX)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(b.status, 0, `${b.stdout}${b.stderr}`);
  assert.ok(existsSync(join(backup, 'etcd-snapshot.db')));
  assert.ok(existsSync(join(backup, 'config-history.json')));
  const history = () => spawnSync(process.execPath, [CLI, 'config', 'history', '--store', etcd.url(PREFIX)], { encoding: 'utf8' }).stdout;
  const before = history();
  const client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
  try {
    await client.delete().prefix(`${PREFIX}/config/`);
  } finally {
    client.close();
  }
  assert.equal(history().trim().split('\n').length, 1, 'only the header is left');
  const r = spawnSync(process.execPath, [CLI, 'config', 'restore', backup, '--store', etcd.url(PREFIX)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const versions = (text: string) => text.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(versions(history()), versions(before));
});
