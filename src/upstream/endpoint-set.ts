import type { ServiceConfig } from '../config/schema.js';
import { parseHostPort } from '../config/address.js';
import { TopKeys } from '../hotspot/top-keys.js';
import { CircuitBreaker } from '../resilience/breaker.js';
import type { Mitigation, RuntimeDeps } from './deps.js';
import { Endpoint } from './endpoint.js';

/** What a staged set will write to one endpoint when it is activated. */
interface EndpointPlan {
  weight: number;
  zone: string | undefined;
  priority: number;
  draining: boolean;
  topKeys: TopKeys | null;
  /** The breaker to install; `keep`: the endpoint's current one (same settings). */
  breaker: CircuitBreaker | null | 'keep';
}

/** New endpoints with a service config's settings, one per backend (what new addresses get; the dry runs' material). */
export function configuredEndpoints(cfg: ServiceConfig): Endpoint[] {
  return cfg.backends.map((b) => {
    const { host, port } = parseHostPort(b.address)!;
    const ep = new Endpoint(host, port, b.weight, b.zone);
    ep.priority = b.priority;
    return ep;
  });
}

/**
 * The endpoints of one service snapshot and their carry-over: one per configured backend, the
 * previous snapshot's own object where the address remains (in-flight counts, latency, health,
 * breaker and ejection survive a reload), `fresh` otherwise. Staged first: the constructor decides
 * what each endpoint will get — weight, zone, priority, drain, top keys, breaker — and can throw (breaker
 * settings) having written nothing; `activate` then writes it, at the commit of a reload.
 */
export class EndpointSet {
  readonly endpoints: readonly Endpoint[];
  private plan: EndpointPlan[] | null;

  constructor(private readonly service: string, private readonly cfg: ServiceConfig, private readonly deps: RuntimeDeps,
    fresh: readonly Endpoint[], hashed: boolean, previous?: { config: ServiceConfig; endpoints: readonly Endpoint[] }) {
    const old = new Map(previous?.endpoints.map((e) => [e.key, e]));
    this.endpoints = fresh.map((ep) => old.get(ep.key) ?? ep);
    const breakers = this.stageBreakers(previous?.config);
    // Hot-spot detection needs the heaviest hash keys per backend (sampled, bounded memory).
    const hs = cfg.hotspot;
    this.plan = this.endpoints.map((ep, i): EndpointPlan => ({
      weight: cfg.backends[i].weight,
      zone: cfg.backends[i].zone,
      priority: cfg.backends[i].priority,
      draining: cfg.backends[i].draining,
      topKeys: hs.enabled && hashed
        ? (ep.topKeys !== null && ep.topKeys.sampleEvery === hs.sampleEvery ? ep.topKeys : new TopKeys({ sampleEvery: hs.sampleEvery }))
        : null,
      breaker: breakers[i],
    }));
  }

  /** Whether `activate` ran (a staged set's endpoints are the live snapshot's: hands off). */
  get active(): boolean { return this.plan === null; }

  /**
   * Writes the staged settings to the endpoints — shared with the previous snapshot, which stops
   * being used at the same moment — with the primary's health states and drains over them. Once.
   */
  activate(overrides: { health?: Readonly<Record<string, boolean>>; drains?: Readonly<Record<string, boolean>> }): void {
    const plan = this.plan;
    if (plan === null) return;
    this.plan = null;
    this.endpoints.forEach((ep, i) => {
      const p = plan[i];
      ep.weight = p.weight;
      ep.zone = p.zone;
      ep.priority = p.priority;
      ep.draining = overrides.drains?.[ep.key] ?? p.draining;
      ep.topKeys = p.topKeys;
      if (p.breaker !== 'keep') ep.breaker = p.breaker;
      const healthy = overrides.health?.[ep.key];
      if (healthy !== undefined) ep.healthy = healthy;
    });
  }

  /** The endpoint of backend `key` (`host:port`), if the service has it. */
  find(key: string): Endpoint | undefined {
    return this.endpoints.find((e) => e.key === key);
  }

  /** Sets every weight to the configured one times its factor in `m` (1 when unlisted, or when `m` is null). */
  applyWeights(m: Mitigation | null): void {
    this.cfg.backends.forEach((b, i) => {
      const f = m?.weightFactors.find((w) => w.backend === this.endpoints[i].key)?.factor ?? 1;
      this.endpoints[i].weight = b.weight * f;
    });
  }

  /** One breaker per endpoint, decided at staging: kept across reloads unless the breaker settings changed. */
  private stageBreakers(previous: ServiceConfig | undefined): EndpointPlan['breaker'][] {
    const b = this.cfg.circuitBreaker;
    const same = previous !== undefined && JSON.stringify(previous.circuitBreaker) === JSON.stringify(b);
    return this.endpoints.map((ep) => {
      if (!b.enabled) return null;
      if (same && ep.breaker !== null) return 'keep';
      return new CircuitBreaker({
        errorThresholdPercentage: b.errorThresholdPercentage, requestVolumeThreshold: b.requestVolumeThreshold,
        sleepWindowMs: b.sleepWindow, halfOpenRequests: b.halfOpenRequests, windowMs: b.window,
      }, this.deps.clock, (from, to) => this.deps.events?.({ kind: 'breaker', service: this.service, backend: ep.key, from, to }));
    });
  }
}
