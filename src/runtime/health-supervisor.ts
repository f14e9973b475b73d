import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { HealthCheckConfig } from '../config/resilience-schema.js';
import { parseHostPort } from '../config/address.js';
import { HealthChecker, timerSchedule, type HealthState } from '../upstream/health/checker.js';
import { probeHttp } from '../upstream/health/active-http.js';
import { probeTcp } from '../upstream/health/active-tcp.js';
import type { HealthBroadcast, HealthChange, HealthMap } from '../upstream/health/source.js';

function probeFor(hc: HealthCheckConfig) {
  if (hc.type === 'tcp') return (t: { host: string; port: number }, signal: AbortSignal) => probeTcp(t, { timeoutMs: hc.timeout }, signal);
  return (t: { host: string; port: number }, signal: AbortSignal) => probeHttp(t, {
    method: hc.method, path: hc.path, expectedStatuses: hc.expectedStatuses, bodyContains: hc.bodyContains,
    host: hc.host, timeoutMs: hc.timeout,
  }, signal);
}

/**
 * Active health checking for a node, run once in the primary (not once per worker): one
 * HealthChecker per service that configures `healthCheck`, results broadcast to every worker.
 * On reload the checkers are rebuilt but keep the last known states, and a checker that throws
 * keeps its states too (the design's "health checker down → keep current state").
 */
export class HealthSupervisor {
  private checkers = new Map<string, HealthChecker>();
  /** Last known state of every checked backend, by service then backend key. */
  private readonly states = new Map<string, Map<string, HealthState>>();
  /** The last change of each backend with its reason, for the dashboard (kept across reloads like the states). */
  private readonly lastChanges = new Map<string, Map<string, HealthChange>>();

  constructor(private readonly log: Logger, private readonly broadcast: HealthBroadcast) {}

  /** (Re)starts checkers for `config`; services without `healthCheck` are treated as healthy. */
  apply(config: Config): void {
    for (const c of this.checkers.values()) c.stop();
    this.checkers = new Map();
    for (const name of this.lastChanges.keys()) if (config.services[name] === undefined) this.lastChanges.delete(name);
    for (const [name, svc] of Object.entries(config.services)) {
      const hc = svc.healthCheck;
      if (hc === undefined || svc.backends.length === 0) { this.states.delete(name); this.lastChanges.delete(name); continue; }
      const targets = svc.backends.map((b) => { const { host, port } = parseHostPort(b.address)!; return { key: `${host.includes(':') ? `[${host}]` : host}:${port}`, host, port }; });
      const changes = this.lastChanges.get(name);
      for (const k of changes?.keys() ?? []) if (!targets.some((t) => t.key === k)) changes!.delete(k);
      const known = this.states.get(name) ?? new Map<string, HealthState>();
      const initial = new Map([...known].filter(([k]) => targets.some((t) => t.key === k)));
      this.states.set(name, initial);
      const checker = new HealthChecker(targets, probeFor(hc), {
        intervalMs: hc.interval, timeoutMs: hc.timeout, unhealthyThreshold: hc.unhealthyThreshold, healthyThreshold: hc.healthyThreshold,
      }, { random: Math.random, schedule: timerSchedule }, (key: string, state: HealthState, reason: string) => {
        initial.set(key, state);
        let last = this.lastChanges.get(name);
        if (last === undefined) { last = new Map(); this.lastChanges.set(name, last); }
        last.set(key, { healthy: state === 'healthy', reason, at: Date.now() });
        this.log[state === 'healthy' ? 'info' : 'warn']({ event: { kind: 'health', service: name, backend: key, to: state, reason } }, `health: ${name}/${key} → ${state}`);
        this.broadcast(name, key, state === 'healthy');
      }, initial);
      checker.start();
      this.checkers.set(name, checker);
    }
  }

  /** States to hand a new or reloaded worker. */
  snapshot(): HealthMap {
    const out: HealthMap = {};
    for (const [svc, m] of this.states) {
      out[svc] = {};
      for (const [k, s] of m) out[svc][k] = s === 'healthy';
    }
    return out;
  }

  changes(): Record<string, Record<string, HealthChange>> {
    return Object.fromEntries([...this.lastChanges].map(([svc, m]) => [svc, Object.fromEntries(m)]));
  }

  stop(): void {
    for (const c of this.checkers.values()) c.stop();
  }
}
