import type { ServiceConfig } from '../config/schema.js';
import { serviceCounters, type ServiceCounters } from '../observe/stats.js';
import type { Bulkhead } from '../resilience/bulkhead.js';
import type { RetryPolicy } from '../resilience/retry.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { HedgeDelay } from '../resilience/hedge-delay.js';
import type { Random } from '../util/random.js';
import type { PickContext } from './balancers/types.js';
import type { Mitigation, RuntimeDeps } from './deps.js';
import type { Endpoint } from './endpoint.js';
import { configuredEndpoints, EndpointSet } from './endpoint-set.js';
import { HASHED, Picker } from './picker.js';
import { PoolSet } from './pool.js';
import { servicePolicies } from './service-policies.js';

export type { Mitigation, ResilienceEvent, RuntimeDeps } from './deps.js';

/** Overrides the primary holds beside the config (health checks, admin drains, hot-spot mitigation). */
export interface ServiceOverrides {
  health?: Readonly<Record<string, boolean>>;
  drains?: Readonly<Record<string, boolean>>;
  mitigation?: Mitigation | null;
}

/**
 * A named pool of backends as one snapshot sees it, assembled from one part per job: its
 * endpoints and their carry-over (EndpointSet), picking with breakers, ejection and slow start
 * (Picker), the engines' connection pools (PoolSet) and its request policies (bulkhead, retries).
 *
 * Two steps, so that a reload is all or nothing: the constructor *stages* the service — it
 * validates everything that can fail (balancer and outlier options, breaker settings) and decides
 * what each endpoint will get, but writes nothing to the endpoints it shares with the live
 * snapshot; `activate()` then applies those settings and builds the balancer, and cannot fail on
 * a config the constructor accepted. A staged service that is never activated is simply dropped.
 */
export class Service {
  readonly name: string;
  readonly config: ServiceConfig;
  readonly endpoints: readonly Endpoint[];
  /** Hash-key source; hash-based algorithms default to the client IP. */
  readonly hashKey: ServiceConfig['hashKey'];
  /** The engines' connection pools to the endpoints (see PoolSet). */
  readonly pools: PoolSet;
  /** Retries and hedges stay a share of requests (per worker; kept across reloads with the same settings). */
  readonly retryBudget: RetryBudget;
  /** The learned delay before a hedge (null: hedging off). */
  readonly hedgeDelay: HedgeDelay | null;
  readonly retryPolicy: RetryPolicy;
  /** Concurrency cap of this service in this worker (null: no limit). */
  readonly bulkhead: Bulkhead | null;
  /** This worker's counters of the service, shared by every snapshot's Service of that name. */
  readonly counters: ServiceCounters;
  private readonly set: EndpointSet;
  private readonly picker: Picker;
  private readonly deps: RuntimeDeps;
  /** Until activate(): the service whose live state (outlier detection) carries over. */
  private previous: Service | undefined;

  /**
   * Stages the service (call `activate()` before use); `previous` is the same-named service of
   * the live snapshot, whose endpoints and pools are reused where the address (and pool options)
   * are unchanged. Throws on settings that cannot be built, having changed nothing.
   */
  constructor(name: string, cfg: ServiceConfig, deps: RuntimeDeps, previous?: Service) {
    this.name = name;
    this.config = cfg;
    this.deps = deps;
    this.previous = previous;
    this.counters = serviceCounters(name);
    this.hashKey = cfg.hashKey ?? (HASHED.has(cfg.balancer.algorithm) ? { source: 'client-ip' } : undefined);
    // Fresh endpoints with the new settings: the dry run of what can fail, and what new addresses get.
    const fresh = configuredEndpoints(cfg);
    Picker.validate(cfg, deps, fresh);
    this.set = new EndpointSet(name, cfg, deps, fresh, this.hashKey !== undefined, previous);
    this.endpoints = this.set.endpoints;
    // Pools of endpoints that remain are shared, not owned, until the old snapshot retires (see retire()).
    this.pools = new PoolSet(cfg);
    this.pools.carry(previous?.pools, this.endpoints);
    this.picker = new Picker(name, cfg, deps, this.endpoints, this.hashKey !== undefined, this.counters, (ep) => this.pools.leftRotation(ep));
    ({ bulkhead: this.bulkhead, retryBudget: this.retryBudget, hedgeDelay: this.hedgeDelay, retryPolicy: this.retryPolicy } = servicePolicies(cfg, deps, previous));
  }

  /** Live changes go to the live snapshot; one reaching a staged service would bypass the staging. */
  private assertActive(): void {
    if (!this.set.active) throw new Error(`service ${this.name}: not active yet (a staged snapshot takes changes through activate())`);
  }

  /**
   * Makes the staged service live (the commit of a reload): writes the staged settings to its
   * endpoints — shared with the previous snapshot, which stops being used at the same moment —
   * applies the primary's overrides, carries the outlier detector's state over as it is *now*,
   * and builds the balancer. Runs once; later calls do nothing.
   */
  activate(overrides: ServiceOverrides = {}): void {
    if (this.set.active) return;
    this.set.activate(overrides);
    const m = overrides.mitigation ?? null;
    if (m !== null) this.set.applyWeights(m);
    this.picker.activate(this.previous?.picker, m);
    this.previous = undefined;
  }

  /**
   * The outcome of one proxied request (`ok` false for a 5xx or a gateway failure: connect
   * error, reset, timeout) feeds the breaker and the outlier detector; a resulting change of
   * availability rebuilds the balancer. Hot path when nothing changes: O(1).
   */
  recordOutcome(ep: Endpoint, ok: boolean): void {
    this.picker.recordOutcome(ep, ok);
  }

  /**
   * A try that lost the race to its hedge: slower than the service's learned tail. Counts as a
   * failure for outlier detection only (a frozen backend is ejected after a few lost races), not
   * for the breaker, whose error rate a busy but healthy backend must not trip.
   */
  recordSlow(ep: Endpoint): void {
    this.picker.recordSlow(ep);
  }

  /** Time-driven transitions (ejections expiring, breakers leaving open); called every ~250 ms. */
  tick(): void {
    this.picker.tick();
  }

  /** An operator's drain (admin API) of backend `key`, over what the config says; false when unknown. */
  setDraining(key: string, draining: boolean): boolean {
    this.assertActive();
    const ep = this.set.find(key);
    if (ep === undefined) return false;
    ep.draining = draining;
    this.picker.changed(ep);
    return true;
  }

  /** Applies an active health-check result for backend `key`; returns false when the backend is unknown. */
  setHealth(key: string, healthy: boolean): boolean {
    this.assertActive();
    const ep = this.set.find(key);
    if (ep === undefined) return false;
    ep.healthy = healthy;
    this.picker.changed(ep);
    return true;
  }

  /**
   * Applies a hot-spot mitigation as a whole state (replacing the previous one): listed backends'
   * configured weights are multiplied by their factor, and hashed traffic is picked with
   * bounded-load while `boundedLoad` is set. Null restores the configured behaviour.
   */
  setMitigation(m: Mitigation | null): void {
    this.assertActive();
    this.set.applyWeights(m);
    this.picker.setMitigation(m);
  }

  /** The snapshot's injected randomness (retry jitter). */
  get random(): Random { return this.deps.random; }

  /** Rebuilds the balancer after endpoints changed availability (health, drain). Not hot path. */
  refresh(): void {
    this.picker.refresh();
  }

  /**
   * Picks an endpoint, skipping `ctx.tried` (retries): re-picks a few times (different random
   * choices, or a perturbed hash key), then scans for any untried available endpoint.
   * Returns undefined when nothing is usable (→ 503). Hot path; allocates only on retries.
   */
  pick(ctx: PickContext): Endpoint | undefined {
    return this.picker.pick(ctx);
  }

  /**
   * Releases what the next snapshot does not reuse: pools of endpoints it dropped (closed after
   * their in-flight requests finish) and this balancer's observers.
   */
  retire(next: Service | undefined): void {
    this.picker.close(); // detaches only the observers it still owns; `next` keeps its own
    this.pools.retire(next?.pools);
  }

  /** Closes every pool, letting queued requests finish (process shutdown). */
  async retireAll(): Promise<void> {
    this.picker.close();
    await this.pools.closeAll();
  }
}
