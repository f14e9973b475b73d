import { availableParallelism, hostname, totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createLogger } from '../observe/log.js';
import { Primary, type PrimaryOptions } from '../runtime/primary.js';
import type { ConfigLoader } from '../config/source.js';
import { HealthSupervisor } from '../runtime/health-supervisor.js';
import { EtcdConfigStore } from '../store/config-store.js';
import { EtcdConfigSource } from '../store/etcd-source.js';
import { parseStoreUrl } from '../store/store-url.js';
import { Membership, listNodes, type NodeLoadSummary } from '../fleet/membership.js';
import { HealthPublisher } from '../fleet/health-publisher.js';
import { PublishedHealth } from '../fleet/published-health.js';
import { SwitchyardError } from '../util/errors.js';
import { withListenOverrides } from '../config/listen-overrides.js';
import { startAdmin, type AdminHandle } from '../admin/start-admin.js';
import { startAnycast, type AnycastHandle } from '../anycast/start-anycast.js';
import { anycastRecord } from '../fleet/anycast-record.js';
import { RegionProber } from '../fleet/region-prober.js';
import { RegionMonitor } from '../fleet/region-monitor.js';
import type { DnsConfig } from '../config/dns-schema.js';
import { systemClock } from '../util/clock.js';
import { BackupScheduler } from '../store/backup-scheduler.js';
import { checkZones } from '../fleet/zone-check.js';
import { lazyModule } from '../util/lazy-module.js';

const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');

export type Role = 'lb' | 'checker' | 'both';

export interface FleetNodeOptions {
  store: string;
  cache: string;
  role: Role;
  zone: string;
  nodeId?: string;
  workers?: number;
  version: string;
  /** Seconds: membership lease and checker election lease. */
  leaseTtlS: number;
  /** Listener addresses of this node (see listen-overrides.ts). */
  listen: ReadonlyMap<string, string>;
  /** Admin listener address of this node (overrides admin.address). */
  admin?: string;
  /** The outcome of each SIGHUP reload (see reload-outcome.ts). */
  onSignalReload?: PrimaryOptions['onSignalReload'];
}

/**
 * A node of a fleet: config from etcd (cached locally), registered in the member list, and by
 * role an LB node (workers serving traffic), a health checker (elected per zone, publishing
 * backend health), or both (the default, what a single node runs).
 */
export async function startFleetNode(o: FleetNodeOptions): Promise<void> {
  if (!['lb', 'checker', 'both'].includes(o.role)) throw new SwitchyardError('SWY_CLI_USAGE', `--role: expected lb, checker or both, got "${o.role}"`);
  const url = parseStoreUrl(o.store);
  const id = o.nodeId ?? `${hostname()}-${process.pid}`;
  const log = createLogger(process.env.SWITCHYARD_LOG_LEVEL ?? 'info', { role: 'primary', node: id, zone: o.zone });
  const store = EtcdConfigStore.fromUrl(o.store);
  const source = new EtcdConfigSource(store, o.store, o.cache, log);
  const client = new (etcd3().Etcd3)({ hosts: url.hosts.map((h) => `http://${h}`), dialTimeout: 2000 });
  let addresses: string[] = [];
  let appliedVersion = 0;
  const roles = o.role === 'both' ? ['lb', 'checker'] : [o.role];
  let publisher: HealthPublisher | null = null;
  let anycast: AnycastHandle | undefined;
  let primaryRef: Primary | undefined;
  const membership = new Membership(client, url.prefix, () => ({
    id, addresses, zone: o.zone, roles: publisher === null ? roles : roles.map((r) => (r === 'checker' ? `checker:${publisher!.role}` : r)),
    version: o.version, configVersion: appliedVersion,
    anycast: primaryRef === undefined ? undefined : anycastRecord(primaryRef.readiness(), anycast?.state()),
  }), (msg) => log.warn(msg), o.leaseTtlS, 3000, () => nodeLoad?.());
  let nodeLoad: (() => NodeLoadSummary | undefined) | undefined;
  // GeoDNS region health (docs/regions.md): every LB node probes the other regions and judges them all.
  let dnsConfig: DnsConfig | undefined;
  let regionMonitor: RegionMonitor | undefined;
  const prober = o.role === 'checker' ? undefined : new RegionProber(client, url.prefix, id, o.zone, () => dnsConfig, log, o.leaseTtlS);
  let fleetSizeTimer: NodeJS.Timeout | undefined;
  let current: Config | undefined;
  // Backups are the elected checker's job (a checker-only node's, or a `both` node's while elected).
  const backups = new BackupScheduler({
    store, log, settings: () => current?.backup, mayRun: () => publisher?.role === 'primary',
    certFiles: () => (current?.listeners ?? []).flatMap((l) => (l.tls?.certificates ?? []).flatMap((c) => [c.cert, c.key])),
  });
  const leave = async () => {
    clearInterval(fleetSizeTimer);
    regionMonitor?.stop();
    await prober?.stop();
    backups.stop();
    await publisher?.stop();
    await membership.stop();
    client.close();
    await store.close();
  };
  const onApplied = (c: Config) => {
    appliedVersion = source.version;
    addresses = c.listeners.map((l) => l.address);
    dnsConfig = c.dns;
    const first = current === undefined;
    current = c;
    if (!first) backups.changed();
  };
  if (o.role !== 'lb') backups.start();

  if (o.role === 'checker') {
    await runChecker(source, log, (states) => {
      publisher = new HealthPublisher(client, url.prefix, o.zone, id, states, log, o.leaseTtlS);
      return publisher;
    }, onApplied, leave);
    membership.start();
    return;
  }

  let admin: AdminHandle | undefined;
  const adminOptions = {
    version: o.version, nodeId: id, role: o.role, address: o.admin,
    anycast: () => anycast?.state(),
    storeUp: () => membership.lastWriteOk && source.reachable,
    statusExtra: () => ({ zone: o.zone, store: { url: o.store, version: source.version, fromCache: source.fromCache }, checker: publisher?.role ?? null, regions: regionMonitor?.status() ?? [] }),
    // Auto-scaling decides for the fleet from every node's published load; one node acts: the
    // zone's elected checker (or any node when none is elected here).
    fleet: async () => (await listNodes(client, url.prefix)).filter((n) => n.load.memoryPercent !== undefined).map((n) => ({
      id: n.id, cpuPercent: n.load.cpuPercent, memoryPercent: n.load.memoryPercent!, connections: n.load.connections ?? 0,
      maxConnections: n.load.maxConnections ?? 0, p99Ms: n.load.p99Ms ?? undefined,
    })),
    mayActuate: () => publisher === null || publisher.role === 'primary',
    fleetNodes: () => listNodes(client, url.prefix),
  };
  const primary: Primary = new Primary({
    loader: withListenOverrides(source, o.listen), log, workers: o.workers, zone: o.zone, onApplied, onStopped: leave, onSignalReload: o.onSignalReload,
    beforeReady: async () => {
      // The fleet record carries the announcement: rewritten at once when it changes.
      anycast = startAnycast(primary, log, () => membership.changed());
      admin = await startAdmin(primary, log, adminOptions);
    },
    onReadinessChange: () => anycast?.kick(),
    beforeDrain: async () => { await anycast?.beforeDrain(); },
    health: (broadcast) => {
      if (o.role === 'lb') {
        const h = new PublishedHealth(client, url.prefix, o.zone, log, broadcast, o.leaseTtlS * 1000);
        h.start();
        return h;
      }
      const sup = new HealthSupervisor(log, (service, backend, healthy) => { broadcast(service, backend, healthy); publisher?.changed(); });
      publisher = new HealthPublisher(client, url.prefix, o.zone, id, () => sup.snapshot(), log, o.leaseTtlS);
      publisher.start();
      return sup;
    },
  });
  primaryRef = primary;
  await primary.start();
  membership.start();
  prober?.start();
  regionMonitor = new RegionMonitor(client, url.prefix, () => dnsConfig, systemClock, log, (down) => primary.setRegionsDown(down));
  regionMonitor.start();
  // Fleet rate limits fall back to limit ÷ (LB nodes × workers) while Redis is away.
  fleetSizeTimer = setInterval(() => {
    listNodes(client, url.prefix).then((ns) => primary.setFleetSize(Math.max(1, ns.filter((n) => n.roles.includes('lb')).length)), () => undefined);
  }, 3000);
  fleetSizeTimer.unref();
  watchZones(() => publisher === null || publisher.role === 'primary', () => listNodes(client, url.prefix), log, (n) => primary.setZoneNodes(n));
  nodeLoad = () => {
    const c = primary.status().config;
    return admin?.view.load(c.listeners.reduce((s, l) => s + l.maxConnections, 0), availableParallelism(), totalmem());
  };
}

/** A checker-only node: no workers; follows the config, checks, and publishes when elected. */
async function runChecker(source: ConfigLoader, log: Logger, makePublisher: (states: () => ReturnType<HealthSupervisor['snapshot']>) => HealthPublisher,
  onApplied: (c: Config) => void, leave: () => Promise<void>): Promise<void> {
  let publisher: HealthPublisher | null = null;
  const sup = new HealthSupervisor(log, () => publisher?.changed());
  publisher = makePublisher(() => sup.snapshot());
  let config = await source.load();
  sup.apply(config);
  onApplied(config);
  publisher.start();
  const stopWatch = source.watch(() => {
    void source.load().then((c) => {
      if (JSON.stringify(c) === JSON.stringify(config)) return;
      config = c;
      sup.apply(c);
      onApplied(c);
      log.info('config applied');
    }, (e: Error) => log.error({ err: e.message }, 'config rejected; keeping the current one'));
  }, (msg) => log.warn(msg));
  const stop = async (signal: string) => {
    log.info({ signal }, 'checker stopping');
    stopWatch();
    sup.stop();
    await leave().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  log.info({ role: 'checker' }, 'ready');
}

/** How often a node reads the member list for its zones (the records themselves are rewritten every 3 s). */
const ZONE_CHECK_MS = 5_000;

/**
 * The member list by zone, watched: the serving LB nodes per zone go to zone-aware balancing
 * (`counts`); while `mine()` (the zone's elected checker, or any node when none is elected) the
 * node also checks N+1 per zone and logs each warning when the set changes.
 */
function watchZones(mine: () => boolean, nodes: () => ReturnType<typeof listNodes>, log: Logger, counts: (n: Record<string, number>) => void): void {
  let last = '';
  setInterval(() => {
    void nodes().then((list) => {
      const zones = checkZones(list);
      if (zones.length > 0) counts(Object.fromEntries(zones.map((z) => [z.zone, z.nodes])));
      if (!mine()) return;
      const warnings = zones.flatMap((z) => z.warnings);
      const key = warnings.join('\n');
      if (key === last) return;
      for (const w of warnings) log.warn({ check: 'zones' }, `N+1 per zone: ${w}`);
      if (warnings.length === 0) log.info({ check: 'zones' }, 'N+1 per zone: ok');
      last = key;
    }, () => undefined);
  }, ZONE_CHECK_MS).unref();
}
