// engine-independent: the config store's reachability metric is the primary's, so the suite runs it once (package.json "test").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { startBackends, freePort, baseConfig, withTestEngine, launchSwitchyard, sleep, CLI, type Switchyard } from './harness.js';
import { startEtcd } from '../support/etcd.js';

/*
 * switchyard_config_store_up on a fleet node with a real etcd: 1 while etcd answers, 0 once it is
 * killed (the node keeps serving its config), 1 again after a restart — what the shipped
 * SwitchyardConfigStoreUnreachable alert fires on.
 */

test('switchyard_config_store_up follows the config store: 1, 0 while etcd is down, 1 again', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-store-up-'));
  const etcd = await startEtcd();
  const backends = await startBackends(1);
  let node: Switchyard | undefined;
  try {
    const file = join(dir, 'push.yaml');
    writeFileSync(file, stringify(withTestEngine(baseConfig(9, { app: { backends: [{ address: backends[0].address }] } }, undefined,
      { admin: { address: '127.0.0.1:9901', publicMetrics: true, auditLog: { path: join(dir, 'audit.log') } } }))));
    const push = spawnSync(process.execPath, [CLI, 'config', 'push', file, '--store', etcd.url('/swy-up'), '-m', 'test'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(push.status, 0, push.stderr);
    const port = await freePort();
    const admin = `127.0.0.1:${await freePort()}`;
    node = await launchSwitchyard(['start', '--store', etcd.url('/swy-up'), '--cache', join(dir, 'cache.json'), '--node-id', 'n1',
      '--lease-ttl', '3', '--listen', `web=127.0.0.1:${port}`, '--admin', admin], port, join(dir, 'cache.json'));
    const up = async () => /^switchyard_config_store_up (\d)$/m.exec(await (await request(`http://${admin}/metrics`)).body.text())?.[1];
    const until = async (want: string, ms: number) => {
      const end = Date.now() + ms;
      while (await up() !== want) {
        if (Date.now() > end) throw new Error(`switchyard_config_store_up is ${await up()}, not ${want}, after ${ms} ms`);
        await sleep(250);
      }
    };
    await until('1', 10_000);
    await etcd.kill();
    await until('0', 20_000);
    assert.equal((await request(`${node.url}/`)).statusCode, 200, 'the node keeps serving its config');
    await etcd.restart();
    await until('1', 30_000);
  } finally {
    await node?.stop();
    await backends[0].close();
    await etcd.stop();
  }
});
