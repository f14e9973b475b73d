import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Primary } from '../runtime/primary.js';
import type { AdminServer } from './admin-server.js';
import { AuditLog } from './audit-log.js';
import { NodeView } from './node-view.js';
import { History } from './history.js';
import { ConfigVersions } from './config-versions.js';
import { historyRows, panels } from './panels.js';
import { Signals, type SignalsOptions } from './signals.js';
import { adminTokenProblem } from '../config/loopback.js';
import { ConfigError } from '../util/errors.js';
import type { AnnouncementState } from '../anycast/announcer.js';

export interface AdminOptions {
  /** Software version, for /api/status. */
  version: string;
  nodeId?: string;
  role?: string;
  /** Overrides `admin.address` (several nodes on one host). */
  address?: string;
  /** More status fields (e.g. the config store's state). */
  statusExtra?: () => Record<string, unknown>;
  /** Fleet view and actuation gate for auto-scaling (see Signals). */
  fleet?: SignalsOptions['fleet'];
  mayActuate?: SignalsOptions['mayActuate'];
  /** The anycast announcement (see anycast/start-anycast.ts). */
  anycast?: () => AnnouncementState | undefined;
  /** The fleet's node records for the dashboard (undefined: not in a fleet). */
  fleetNodes?: () => Promise<unknown[]>;
  /** Whether the config store answers (fleet nodes; /metrics switchyard_config_store_up). */
  storeUp?: () => boolean;
}

/** /metrics gauges of the node's readiness and its anycast announcement (registered at start: present whether or not anycast is configured). */
function readinessGauges(primary: Primary, a: AnnouncementState | undefined) {
  const r = primary.readiness();
  return [
    { name: 'switchyard_ready', help: 'Whether the node is ready (what /readyz answers), 1 or 0', values: [{ labels: {}, value: r.ready ? 1 : 0 }] },
    { name: 'switchyard_anycast_announced', help: 'Whether the node announces its anycast VIPs through BIRD, 1 or 0 (no series without an anycast block)',
      values: a === undefined ? [] : a.vips.map((vip) => ({ labels: { vip }, value: a.state === 'announced' ? 1 : 0 })) },
  ];
}

export interface AdminHandle { server: AdminServer | null; view: NodeView; signals: Signals; stop(): Promise<void> }

/**
 * A node's observation loop: collects worker stats once a second into a NodeView, runs the
 * hot-spot and auto-scaling signals on it, and — when the config has an `admin` block — serves
 * all of it (API, /metrics, dashboard) and audits writes. Admin settings take effect at start (a
 * reload does not move the admin port).
 */
export async function startAdmin(primary: Primary, log: Logger, o: AdminOptions): Promise<AdminHandle> {
  const cfg = primary.status().config.admin;
  const view = new NodeView(10);
  const audit = cfg === undefined ? undefined : new AuditLog(cfg.auditLog.path, cfg.auditLog.retentionDays);
  const history = new History(3600);
  const versions = new ConfigVersions(20);
  versions.record(primary.status().version, primary.status().config);
  const signals = new Signals(log, () => primary.status().config, {
    nodeId: o.nodeId ?? hostname(), fleet: o.fleet, mayActuate: o.mayActuate, mitigate: (s, m) => primary.setMitigation(s, m),
    spikeActions: {
      block: async (cidr, ttlMs, reason) => (await primary.addBlock(cidr, ttlMs, 'spike', reason)).ok,
      // Only a block this mitigation placed (an operator may have replaced it with their own since).
      unblock: (cidr) => (primary.listBlocks().some((b) => b.cidr === cidr && b.source === 'spike') ? primary.removeBlock(cidr) : Promise.resolve(false)),
      audit: audit === undefined ? undefined : (e) => audit.record(e),
    },
  });
  const status = () => {
    const s = primary.status();
    return {
      node: o.nodeId ?? hostname(), version: o.version, pid: process.pid, role: o.role ?? 'both', startedAt: s.startedAt, uptimeS: s.uptimeS,
      configVersion: s.version, workers: s.workers, listeners: s.config.listeners.map((l) => ({ name: l.name, address: l.address, protocol: l.protocol })),
      readiness: primary.readiness(), anycast: o.anycast?.() ?? null,
      ...o.statusExtra?.(),
    };
  };
  let server: AdminServer | null = null;
  if (cfg !== undefined) {
    const address = o.address ?? cfg.address;
    // The config's own address was checked with the schema; an override (`--admin`) is checked here.
    const problem = adminTokenProblem(address, cfg.token);
    if (problem !== undefined) throw new ConfigError('--admin', [`admin.token: ${problem}`]);
    // Loaded only with an admin block: a node without one never loads prom-client or the API.
    const [{ createMetrics }, { AdminServer }] = await Promise.all([import('./metrics.js'), import('./admin-server.js')]);
    const metrics = createMetrics({
      view, maxBackendSeries: () => primary.status().config.metrics.maxBackendSeries, configVersion: () => primary.status().version, reloads: () => primary.reloads,
      extra: () => [...signals.metrics(), ...readinessGauges(primary, o.anycast?.())],
      runtime: () => primary.collectRuntime(), version: o.version, config: () => primary.status().config, workerRestarts: () => primary.workerRestarts, storeUp: o.storeUp,
    });
    server = new AdminServer(address, { token: cfg.token, allowedHosts: cfg.allowedHosts, publicMetrics: cfg.publicMetrics }, {
      status, config: () => primary.status().config, setDrain: (s, b, d) => primary.setDrainAcked(s, b, d), reload: () => primary.reload(),
      signals: () => signals.snapshot(), readiness: () => primary.readiness(), anycast: () => o.anycast?.(),
      blocks: {
        list: () => primary.listBlocks(), max: () => primary.status().config.access.temporaryBlocks.max,
        add: (cidr, ttlMs, reason) => primary.addBlock(cidr, ttlMs, 'admin', reason), remove: (cidr) => primary.removeBlock(cidr),
      },
      panels: () => panels(view, primary.status().config, primary.healthChanges()), history: () => history.dump(), configVersions: versions,
      fleet: o.fleetNodes,
    }, view, metrics, audit!, log);
    await server.listen();
    log.info({ address }, `admin listening; dashboard at http://${address}/`);
  }
  let busy = false;
  const tick = setInterval(() => {
    if (busy) return;
    busy = true;
    void primary.collectStats().then(({ workers, retired }) => {
      const at = Date.now();
      view.add(at, workers, retired);
      const { version, config } = primary.status();
      versions.record(version, config);
      history.record(historyRows(view, config, at));
      signals.onCollected(view, at);
      server?.publish();
    }).finally(() => { busy = false; });
  }, 1000);
  tick.unref();
  return { server, view, signals, stop: async () => { clearInterval(tick); await server?.close(); } };
}
