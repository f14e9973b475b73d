import type { Etcd3, Lease } from 'etcd3';
import { hostname } from 'node:os';
import type { AnycastRecord } from './anycast-record.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/** What a node says about itself under `PREFIX/nodes/<id>` (JSON). */
export interface NodeRecord {
  id: string;
  host: string;
  /** Listener addresses. */
  addresses: string[];
  zone: string;
  roles: string[];
  version: string;
  startedAt: string;
  /** Version of the store config this node serves (0: none yet / file config). */
  configVersion: number;
  /** The anycast announcement and readiness (absent: not an announcing node). */
  anycast?: AnycastRecord;
  /** Small load summary, refreshed every `refreshMs`. */
  load: { rssMiB: number; cpuPercent: number; uptimeS: number } & Partial<NodeLoadSummary>;
  updatedAt: string;
}

/** The node-wide load (all its processes) the auto-scaling evaluator reads across the fleet. */
export interface NodeLoadSummary { cpuPercent: number; memoryPercent: number; connections: number; maxConnections: number; p99Ms: number | undefined }

export const nodesPrefix = (prefix: string) => `${prefix}/nodes/`;

/**
 * Keeps this node's record in etcd under a lease: the key disappears within `ttlS` seconds of
 * the node dying (no keep-alive), so the member list needs no cleanup. The record is
 * re-written every `refreshMs` with a fresh load summary; a lost lease (etcd down longer than
 * the TTL) is re-granted when etcd answers again.
 */
export class Membership {
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastCpu = process.cpuUsage();
  private lastAt = Date.now();
  private readonly startedAt = new Date().toISOString();
  private writing: Promise<void> = Promise.resolve();
  /** Whether the last write of this node's record reached etcd (a heartbeat every refresh): the store's reachability as this node sees it. */
  lastWriteOk = true;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly self: () => Omit<NodeRecord, 'load' | 'updatedAt' | 'startedAt' | 'host'>,
    private readonly onWarn: (msg: string) => void,
    private readonly ttlS = 10,
    private readonly refreshMs = 3000,
    /** Node-wide load when known (the admin collector's view); else this process's own. */
    private readonly loadSummary: () => NodeLoadSummary | undefined = () => undefined,
  ) {}

  get key(): string { return `${nodesPrefix(this.prefix)}${this.self().id}`; }

  start(): void {
    const beat = () => {
      void this.write().finally(() => { if (!this.stopped) { this.timer = setTimeout(beat, this.refreshMs); this.timer.unref(); } });
    };
    beat();
  }

  private record(): NodeRecord {
    const now = Date.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.lastAt)) * 1000) / 10;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    return {
      ...this.self(), host: hostname(), startedAt: this.startedAt, updatedAt: new Date(now).toISOString(),
      load: { rssMiB: Math.round(process.memoryUsage.rss() / 1048576), cpuPercent, uptimeS: Math.round(process.uptime()), ...this.loadSummary() },
    };
  }

  /** Writes are serialized: a change written between two beats must not race the beat for the lease. */
  private write(): Promise<void> {
    this.writing = this.writing.then(() => this.writeNow());
    return this.writing;
  }

  private async writeNow(): Promise<void> {
    try {
      if (this.lease === null) {
        const lease = this.client.lease(this.ttlS, { autoKeepAlive: true });
        lease.on('lost', (err) => {
          if (this.lease === lease) this.lease = null;
          if (!this.stopped) this.onWarn(`membership lease lost (${describeEtcdError(err)}); re-registering when etcd answers`);
        });
        this.lease = lease;
      }
      await this.lease.put(this.key).value(JSON.stringify(this.record()));
      this.lastWriteOk = true;
    } catch (e) {
      this.lastWriteOk = false;
      const lease = this.lease;
      this.lease = null;
      lease?.release();
      this.onWarn(`membership update failed: ${describeEtcdError(e)}`);
    }
  }

  /** Rewrites the record now (something in it changed, e.g. the anycast announcement). */
  changed(): void {
    if (!this.stopped && this.timer !== undefined) void this.write();
  }

  /** Removes the record at once (clean shutdown) instead of waiting for the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    try { await this.lease?.revoke(); } catch { /* expires with its TTL anyway */ }
  }
}

/** Every registered node, sorted by zone then id. */
export async function listNodes(client: Etcd3, prefix: string): Promise<NodeRecord[]> {
  const all = await client.getAll().prefix(nodesPrefix(prefix)).strings();
  const nodes: NodeRecord[] = [];
  for (const v of Object.values(all)) {
    try { nodes.push(JSON.parse(v) as NodeRecord); } catch { /* a foreign key under the prefix */ }
  }
  return nodes.sort((a, b) => a.zone.localeCompare(b.zone) || a.id.localeCompare(b.id));
}
