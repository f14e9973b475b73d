import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Primary } from '../runtime/primary.js';
import { AdminServer } from './admin-server.js';
import { AuditLog } from './audit-log.js';
import { createMetrics } from './metrics.js';
import { NodeView } from './node-view.js';

export interface AdminOptions {
  /** Software version, for /api/status. */
  version: string;
  nodeId?: string;
  role?: string;
  /** Overrides `admin.address` (several nodes on one host). */
  address?: string;
  /** More status fields (e.g. the config store's state). */
  statusExtra?: () => Record<string, unknown>;
  /** Called after each collection, with the fresh view (hot-spot and scaling evaluators). */
  onCollected?: (view: NodeView, at: number) => void;
  signals?: () => Record<string, unknown>;
}

export interface AdminHandle { server: AdminServer; view: NodeView; stop(): Promise<void> }

/**
 * Starts the admin listener of a node when the config has an `admin` block: collects worker
 * stats once a second into a NodeView, serves them (API, /metrics, dashboard) and audits writes.
 * Admin settings take effect at start (a reload does not move the admin port).
 */
export async function startAdmin(primary: Primary, log: Logger, o: AdminOptions): Promise<AdminHandle | null> {
  const cfg = primary.status().config.admin;
  if (cfg === undefined) return null;
  const view = new NodeView(10);
  const audit = new AuditLog(cfg.auditLog.path, cfg.auditLog.retentionDays);
  const metrics = createMetrics({ view, configVersion: () => primary.status().version, reloads: () => primary.reloads });
  const status = () => {
    const s = primary.status();
    return {
      node: o.nodeId ?? hostname(), version: o.version, pid: process.pid, role: o.role ?? 'both', startedAt: s.startedAt, uptimeS: s.uptimeS,
      configVersion: s.version, workers: s.workers, listeners: s.config.listeners.map((l) => ({ name: l.name, address: l.address, protocol: l.protocol })),
      ...o.statusExtra?.(),
    };
  };
  const server = new AdminServer(o.address ?? cfg.address, cfg.token, {
    status, config: () => primary.status().config, setDrain: (s, b, d) => primary.setDrain(s, b, d), reload: () => primary.reload(),
    signals: () => o.signals?.() ?? { hotspots: [], scaling: null },
  }, view, metrics, audit, log);
  await server.listen();
  let busy = false;
  const tick = setInterval(() => {
    if (busy) return;
    busy = true;
    void primary.collectStats().then((stats) => {
      const at = Date.now();
      view.add(at, stats);
      o.onCollected?.(view, at);
      server.publish();
    }).finally(() => { busy = false; });
  }, 1000);
  tick.unref();
  log.info({ address: o.address ?? cfg.address }, `admin listening; dashboard at http://${o.address ?? cfg.address}/`);
  return { server, view, stop: async () => { clearInterval(tick); await server.close(); } };
}
