import type { Config } from '../config/schema.js';
import { parseHostPort } from '../config/address.js';
import type { DrainMap } from './messages.js';
import type { HealthMap } from '../upstream/health/source.js';

/*
 * Node readiness, defined once (docs/anycast.md, "Readiness"): the config is loaded, the
 * listeners are bound (every worker applied the config and at least one is alive), every
 * service of `anycast.policy` has at least its share of healthy backends, and the node is not
 * draining. `/readyz`, the anycast announcer and the fleet record all read this function's
 * answer, computed by the primary. Pure: no I/O, no clock.
 */

/** Why a node is not ready (stable codes, for probes and the fleet view). */
export type NotReadyCode = 'starting' | 'no-workers' | 'draining' | 'unhealthy-backends';

/** One policy service's count. */
export interface ServiceShare { service: string; healthy: number; total: number; minHealthy: number; ok: boolean }

/** The verdict. `reason` is one human line; `code` says which condition failed first. */
export interface Readiness {
  ready: boolean;
  code?: NotReadyCode;
  reason: string;
  services: ServiceShare[];
}

/** What readiness is computed from. */
export interface ReadinessInput {
  /** The first config was applied by every worker (config loaded + listeners bound). */
  started: boolean;
  /** Workers alive and serving. */
  liveWorkers: number;
  draining: boolean;
  /** The config in force (undefined before the first one loaded). */
  config: Config | undefined;
  /** Active health by service and backend key (absent = healthy), as the workers have it. */
  health: HealthMap;
  /** Operators' backend drains (admin API), by service and backend key. */
  drains: DrainMap;
}

const keyOf = (address: string) => {
  const { host, port } = parseHostPort(address)!;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
};

/** Healthy (checked healthy or unchecked) and not draining, over all configured backends, per policy service. */
function shares(input: ReadinessInput): ServiceShare[] {
  const c = input.config;
  if (c === undefined) return [];
  return (c.anycast?.policy ?? []).map((p) => {
    const backends = c.services[p.service]?.backends ?? [];
    const healthy = backends.filter((b) => {
      const key = keyOf(b.address);
      return !b.draining && input.drains[p.service]?.[key] !== true && input.health[p.service]?.[key] !== false;
    }).length;
    const total = backends.length;
    // No backends at all is never enough: the node would answer every request with 503.
    const ok = total > 0 && healthy / total >= p.minHealthy;
    return { service: p.service, healthy, total, minHealthy: p.minHealthy, ok };
  });
}

/** The node's readiness from its current state (see the file comment for the definition). */
export function evaluateReadiness(input: ReadinessInput): Readiness {
  const services = shares(input);
  if (!input.started || input.config === undefined) return { ready: false, code: 'starting', reason: 'config not applied by every worker yet', services };
  if (input.draining) return { ready: false, code: 'draining', reason: 'draining', services };
  if (input.liveWorkers === 0) return { ready: false, code: 'no-workers', reason: 'no worker is serving (listeners not bound)', services };
  const short = services.filter((s) => !s.ok);
  if (short.length > 0) {
    const list = short.map((s) => `${s.service} ${s.healthy}/${s.total} healthy (needs ${Math.round(s.minHealthy * 100)}%)`).join(', ');
    return { ready: false, code: 'unhealthy-backends', reason: `too few healthy backends: ${list}`, services };
  }
  return { ready: true, reason: 'ready', services };
}
