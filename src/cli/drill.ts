import { hostname } from 'node:os';
import { EtcdConfigStore } from '../store/config-store.js';
import { latestConfigBackup } from '../store/backup-dir.js';
import { parseStoreUrl } from '../store/store-url.js';
import { listNodes } from '../fleet/membership.js';
import { SwitchyardError } from '../util/errors.js';
import { lazyModule } from '../util/lazy-module.js';

const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');

/*
 * The disaster-recovery drill (`switchyard config drill`): the design's RTO (< 5 minutes) measured
 * on a live fleet. It wipes the config store (every key under PREFIX/config/: current, history,
 * restore note; membership, elections and published health belong to running processes and stay),
 * restores the newest backup, then waits until every node that was registered before the wipe
 * has written a member record *after* the restore saying it serves the restored version.
 */

export interface DrillResult {
  version: number;
  backup: string;
  nodes: string[];
  /** Wipe start → restore done; restore done → last node confirmed; the sum. */
  restoreMs: number;
  convergeMs: number;
  totalMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the drill against `url` from the backups in `from`; rejects (SWY_DRILL_TIMEOUT) when a node has not confirmed within `timeoutMs`. */
export async function runDrill(url: string, from: string, timeoutMs: number, say: (line: string) => void): Promise<DrillResult> {
  const backup = await latestConfigBackup(from);
  if (backup === undefined) throw new SwitchyardError('SWY_DRILL_NO_BACKUP', `no config backup in ${from} (expected ${from}/config/<time>-v<version>/ or a \`config backup\` directory)`);
  const u = parseStoreUrl(url);
  const client = new (etcd3().Etcd3)({ hosts: u.hosts.map((h) => `http://${h}`), dialTimeout: 2000 });
  const store = EtcdConfigStore.fromUrl(url);
  try {
    const nodes = (await listNodes(client, u.prefix)).map((n) => n.id);
    say(`drill: ${nodes.length} node(s) registered: ${nodes.join(', ') || '(none)'}; backup ${backup}`);
    const t0 = Date.now();
    await client.delete().prefix(`${u.prefix}/config/`);
    say(`drill: wiped ${u.prefix}/config/`);
    const { version, restored } = await store.restore(backup, { author: `drill@${hostname()}`, host: hostname() });
    const t1 = Date.now();
    say(`drill: restored ${restored} versions, version ${version} current, in ${t1 - t0} ms; waiting for every node`);
    const pending = new Set(nodes);
    while (pending.size > 0) {
      if (Date.now() - t0 > timeoutMs) {
        throw new SwitchyardError('SWY_DRILL_TIMEOUT', `after ${timeoutMs / 1000} s, not serving version ${version}: ${[...pending].join(', ')} (RTO target missed)`);
      }
      for (const n of await listNodes(client, u.prefix)) {
        if (pending.has(n.id) && n.configVersion === version && Date.parse(n.updatedAt) > t1) {
          pending.delete(n.id);
          say(`drill: ${n.id} serves version ${version} (+${Date.now() - t0} ms)`);
        }
      }
      if (pending.size > 0) await sleep(200);
    }
    const t2 = Date.now();
    return { version, backup, nodes, restoreMs: t1 - t0, convergeMs: t2 - t1, totalMs: t2 - t0 };
  } finally {
    client.close();
    await store.close();
  }
}
