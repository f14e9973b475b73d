import type { ServiceConfig } from '../config/schema.js';
import { parseHostPort } from '../config/address.js';
import { Endpoint } from './endpoint.js';
import { PoolSet } from './pool.js';
import { createBalancer } from './balancers/index.js';
import type { Balancer, BalancerOptions, PickContext } from './balancers/types.js';
import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';
import { CircuitBreaker } from '../resilience/breaker.js';
import { OutlierDetector, type OutlierOptions } from './health/outlier.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import { Bulkhead } from '../resilience/bulkhead.js';
import { serviceCounters, type ServiceCounters } from '../observe/stats.js';
import { TopKeys } from '../hotspot/top-keys.js';
import { slowStartFactor } from '../resilience/slow-start.js';
import type { RetryPolicy } from '../resilience/retry.js';

/** A resilience state change, for logs (and later metrics and the admin API). */
export interface ResilienceEvent {
  kind: 'breaker' | 'outlier' | 'health';
  service: string;
  backend: string;
  to: string;
  from?: string;
  reason?: string;
  forMs?: number;
}

/** A hot-spot mitigation (see hotspot/detector.ts `mitigation`). */
export interface Mitigation { boundedLoad: { balanceFactor: number } | null; weightFactors: { backend: string; factor: number }[] }

/** Injected time, randomness and the sink for resilience events of a whole snapshot. */
export interface RuntimeDeps { clock: Clock; random: Random; events?: (e: ResilienceEvent) => void; workers?: number }

const HASHED = new Set(['ring-hash', 'maglev', 'bounded-load']);

function balancerOptions(cfg: ServiceConfig, deps: RuntimeDeps): BalancerOptions {
  const b = cfg.balancer;
  return {
    random: deps.random,
    clock: deps.clock,
    decayMs: b.algorithm === 'ewma' ? b.decay : undefined,
    virtualNodes: b.algorithm === 'ring-hash' || b.algorithm === 'bounded-load' ? b.virtualNodes : undefined,
    tableSize: b.algorithm === 'maglev' ? b.tableSize : undefined,
    balanceFactor: b.algorithm === 'bounded-load' ? b.balanceFactor : undefined,
  };
}

/** What a staged service will set on one endpoint when it is activated (see `Service.activate`). */
interface EndpointPlan {
  weight: number;
  zone: string | undefined;
  draining: boolean;
  topKeys: TopKeys | null;
  /** The breaker to install; `keep`: the endpoint's current one (same settings). */
  breaker: CircuitBreaker | null | 'keep';
}

/** Overrides the primary holds beside the config (health checks, admin drains, hot-spot mitigation). */
export interface ServiceOverrides {
  health?: Readonly<Record<string, boolean>>;
  drains?: Readonly<Record<string, boolean>>;
  mitigation?: Mitigation | null;
}

function outlierOptions(cfg: ServiceConfig): OutlierOptions {
  const o = cfg.outlierDetection;
  return {
    consecutiveFailures: o.consecutiveFailures, baseEjectionMs: o.baseEjectionTime, maxEjectionMs: o.maxEjectionTime,
    maxEjectionPercent: o.maxEjectionPercent, successRateThreshold: o.successRateThreshold,
    successRateRequestVolume: o.successRateRequestVolume, intervalMs: o.interval,
  };
}

/**
 * A named pool of backends as one snapshot sees it: its endpoints (carried over from the previous
 * snapshot by address, so in-flight counts and later health survive a reload), the engines' pools
 * per endpoint, and a balancer built over the endpoints that are currently available.
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
  /** Built by activate(); a staged service is never picked from. */
  private balancer!: Balancer;
  private readonly deps: RuntimeDeps;
  /** The engines' connection pools to the endpoints (see PoolSet). */
  readonly pools: PoolSet;
  private outlier: OutlierDetector<Endpoint> | null = null;
  private panicking = false;
  /** Until activate(): the endpoint settings to apply and the service whose live state carries over. */
  private staged: { plan: EndpointPlan[]; previous: Service | undefined } | null;
  /** Retries in flight stay under a share of active requests (per worker, per snapshot). */
  readonly retryBudget: RetryBudget;
  readonly retryPolicy: RetryPolicy;
  /** Concurrency cap of this service in this worker (null: no limit). */
  readonly bulkhead: Bulkhead | null;
  /** This worker's counters of the service, shared by every snapshot's Service of that name. */
  readonly counters: ServiceCounters;

  /**
   * Stages the service (call `activate()` before use); `previous` is the same-named service of
   * the live snapshot, whose endpoints and pools are reused where the address (and pool options)
   * are unchanged. Throws on settings that cannot be built, having changed nothing.
   */
  constructor(name: string, cfg: ServiceConfig, deps: RuntimeDeps, previous?: Service) {
    this.name = name;
    this.config = cfg;
    this.deps = deps;
    this.counters = serviceCounters(name);
    this.hashKey = cfg.hashKey ?? (HASHED.has(cfg.balancer.algorithm) ? { source: 'client-ip' } : undefined);
    const old = new Map(previous?.endpoints.map((e) => [e.key, e]));
    // Fresh endpoints with the new settings: the dry run of what can fail, and what new addresses get.
    const fresh = cfg.backends.map((b) => {
      const { host, port } = parseHostPort(b.address)!;
      return new Endpoint(host, port, b.weight, b.zone);
    });
    createBalancer(cfg.balancer.algorithm, fresh, balancerOptions(cfg, deps)).close?.();
    if (cfg.outlierDetection.enabled) OutlierDetector.carry(undefined, fresh, outlierOptions(cfg), deps.clock);
    this.endpoints = fresh.map((ep) => old.get(ep.key) ?? ep);
    const breakers = this.stageBreakers(previous);
    // Hot-spot detection needs the heaviest hash keys per backend (sampled, bounded memory).
    const hs = cfg.hotspot;
    const plan = this.endpoints.map((ep, i): EndpointPlan => ({
      weight: cfg.backends[i].weight,
      zone: cfg.backends[i].zone,
      draining: cfg.backends[i].draining,
      topKeys: hs.enabled && this.hashKey !== undefined
        ? (ep.topKeys !== null && ep.topKeys.sampleEvery === hs.sampleEvery ? ep.topKeys : new TopKeys({ sampleEvery: hs.sampleEvery }))
        : null,
      breaker: breakers[i],
    }));
    this.staged = { plan, previous };
    const bh = cfg.bulkhead;
    const share = (n: number) => Math.max(1, Math.ceil(n / (deps.workers ?? 1)));
    // A new snapshot starts a new bulkhead: requests admitted by the old one release the old one.
    this.bulkhead = bh.maxConcurrent === 0 ? null
      : new Bulkhead({ maxConcurrent: share(bh.maxConcurrent), maxQueued: bh.maxQueued === 0 ? 0 : share(bh.maxQueued), queueTimeoutMs: bh.queueTimeout });
    const r = cfg.retries;
    this.retryBudget = new RetryBudget({ percent: r.budgetPercent, minConcurrent: r.budgetMinConcurrent });
    this.retryPolicy = {
      connectRetries: r.connectRetries, statusRetries: r.statusRetries, timeoutRetries: r.timeoutRetries, timeoutGrowth: r.timeoutGrowth,
      retryOn: r.retryOn, baseDelayMs: r.baseDelay, maxDelayMs: r.maxDelay, jitter: 0.1,
    };
    // Pools of endpoints that remain are shared, not owned, until the old snapshot retires (see retire()).
    this.pools = new PoolSet(cfg);
    this.pools.carry(previous?.pools, this.endpoints);
  }

  /** Live changes go to the live snapshot; one reaching a staged service would bypass the staging. */
  private assertActive(): void {
    if (this.staged !== null) throw new Error(`service ${this.name}: not active yet (a staged snapshot takes changes through activate())`);
  }

  /**
   * Makes the staged service live (the commit of a reload): writes the staged settings to its
   * endpoints — shared with the previous snapshot, which stops being used at the same moment —
   * applies the primary's overrides, carries the outlier detector's state over as it is *now*,
   * and builds the balancer. Runs once; later calls do nothing.
   */
  activate(overrides: ServiceOverrides = {}): void {
    if (this.staged === null) return;
    const { plan, previous } = this.staged;
    this.staged = null;
    const cfg = this.config;
    this.endpoints.forEach((ep, i) => {
      const p = plan[i];
      ep.weight = p.weight;
      ep.zone = p.zone;
      ep.draining = overrides.drains?.[ep.key] ?? p.draining;
      ep.topKeys = p.topKeys;
      if (p.breaker !== 'keep') ep.breaker = p.breaker;
      const healthy = overrides.health?.[ep.key];
      if (healthy !== undefined) ep.healthy = healthy;
    });
    if (overrides.mitigation != null) this.applyMitigation(overrides.mitigation);
    this.outlier = !cfg.outlierDetection.enabled ? null
      : OutlierDetector.carry(previous?.outlier ?? undefined, this.endpoints, outlierOptions(cfg), this.deps.clock, (ep, ejected, reason, forMs) => {
        ep.ejected = ejected;
        this.deps.events?.({ kind: 'outlier', service: this.name, backend: ep.key, to: ejected ? 'ejected' : 'returned', reason, forMs });
      });
    if (this.outlier === null) for (const ep of this.endpoints) ep.ejected = false;
    for (const ep of this.endpoints) ep.updateAvailability(); // initial state: no slow start
    this.balancer = this.buildBalancer();
  }

  /** Recomputes availability; a backend coming back starts its slow-start ramp. */
  private updated(ep: Endpoint): boolean {
    const was = ep.available;
    if (!ep.updateAvailability()) return false;
    if (ep.available && !was && this.config.slowStart > 0) ep.rampStart = this.deps.clock.now();
    return true;
  }

  /**
   * Slow start: a backend back from unhealthy/ejected/open takes a linearly growing share over
   * `slowStart` — a pick of it is kept with probability factor(t) (10% → 100%), else re-picked
   * once among the others. Not for hash-based algorithms, whose keys must stay put.
   */
  private rampedOut(ep: Endpoint): boolean {
    if (ep.rampStart === 0 || this.hashKey !== undefined) return false;
    const since = this.deps.clock.now() - ep.rampStart;
    if (since >= this.config.slowStart) { ep.rampStart = 0; return false; }
    return this.deps.random() >= slowStartFactor(since, this.config.slowStart);
  }

  /** One breaker per endpoint, decided at staging: kept across reloads unless the breaker settings changed. */
  private stageBreakers(previous: Service | undefined): EndpointPlan['breaker'][] {
    const b = this.config.circuitBreaker;
    const same = previous !== undefined && JSON.stringify(previous.config.circuitBreaker) === JSON.stringify(b);
    return this.endpoints.map((ep) => {
      if (!b.enabled) return null;
      if (same && ep.breaker !== null) return 'keep';
      return new CircuitBreaker({
        errorThresholdPercentage: b.errorThresholdPercentage, requestVolumeThreshold: b.requestVolumeThreshold,
        sleepWindowMs: b.sleepWindow, halfOpenRequests: b.halfOpenRequests, windowMs: b.window,
      }, this.deps.clock, (from, to) => this.deps.events?.({ kind: 'breaker', service: this.name, backend: ep.key, from, to }));
    });
  }

  /**
   * The outcome of one proxied request (`ok` false for a 5xx or a gateway failure: connect
   * error, reset, timeout) feeds the breaker and the outlier detector; a resulting change of
   * availability rebuilds the balancer. Hot path when nothing changes: O(1).
   */
  recordOutcome(ep: Endpoint, ok: boolean): void {
    ep.breaker?.record(ok);
    this.outlier?.record(ep, ok);
    if (this.updated(ep)) this.refresh();
  }

  /** Time-driven transitions (ejections expiring, breakers leaving open); called every ~250 ms. */
  tick(): void {
    this.outlier?.tick();
    let changed = false;
    for (const ep of this.endpoints) {
      ep.breaker?.tick();
      if (this.updated(ep)) changed = true;
    }
    if (changed) this.refresh();
  }

  /** An operator's drain (admin API) of backend `key`, over what the config says; false when unknown. */
  setDraining(key: string, draining: boolean): boolean {
    this.assertActive();
    const ep = this.endpoints.find((e) => e.key === key);
    if (ep === undefined) return false;
    ep.draining = draining;
    if (this.updated(ep)) this.refresh();
    return true;
  }

  /** Applies an active health-check result for backend `key`; returns false when the backend is unknown. */
  setHealth(key: string, healthy: boolean): boolean {
    this.assertActive();
    const ep = this.endpoints.find((e) => e.key === key);
    if (ep === undefined) return false;
    ep.healthy = healthy;
    if (this.updated(ep)) this.refresh();
    return true;
  }

  /** Hot-spot mitigation in force (admin/primary decided): weight factors and a bounded-load switch. */
  private mitigation: Mitigation | null = null;

  /**
   * Applies a hot-spot mitigation as a whole state (replacing the previous one): listed backends'
   * configured weights are multiplied by their factor, and hashed traffic is picked with
   * bounded-load while `boundedLoad` is set. Null restores the configured behaviour.
   */
  setMitigation(m: Mitigation | null): void {
    this.assertActive();
    this.applyMitigation(m);
    this.refresh();
  }

  private applyMitigation(m: Mitigation | null): void {
    this.mitigation = m;
    this.config.backends.forEach((b, i) => {
      const f = m?.weightFactors.find((w) => w.backend === this.endpoints[i].key)?.factor ?? 1;
      this.endpoints[i].weight = b.weight * f;
    });
  }

  private buildBalancer(): Balancer {
    let usable = this.endpoints.filter((e) => e.available);
    // Panic mode (Envoy): with too few usable backends, health is ignored and load spreads over
    // every backend that is not draining — better some errors than all traffic on one survivor.
    const panic = this.config.degradation.panicThreshold;
    if (panic > 0 && this.endpoints.length > 0 && (usable.length * 100) / this.endpoints.length < panic) {
      usable = this.endpoints.filter((e) => !e.draining);
      if (!this.panicking) this.deps.events?.({ kind: 'health', service: this.name, backend: '*', to: 'panic', reason: `${usable.length} backends, under ${panic}% usable` });
      this.panicking = true;
    } else {
      this.panicking = false;
    }
    const bl = this.mitigation?.boundedLoad;
    if (bl != null && HASHED.has(this.config.balancer.algorithm)) {
      return createBalancer('bounded-load', usable, { ...balancerOptions(this.config, this.deps), balanceFactor: bl.balanceFactor, virtualNodes: 100 });
    }
    return createBalancer(this.config.balancer.algorithm, usable, balancerOptions(this.config, this.deps));
  }

  /** The snapshot's injected randomness (retry jitter). */
  get random(): Random { return this.deps.random; }

  /** Rebuilds the balancer after endpoints changed availability (health, drain). Not hot path. */
  refresh(): void {
    this.balancer.close?.();
    this.balancer = this.buildBalancer();
  }

  /**
   * Picks an endpoint, skipping `ctx.tried` (retries): re-picks a few times (different random
   * choices, or a perturbed hash key), then scans for any untried available endpoint.
   * Returns undefined when nothing is usable (→ 503). Hot path; allocates only on retries.
   */
  pick(ctx: PickContext): Endpoint | undefined {
    if (this.panicking) this.counters.panicPicks++;
    let ep = this.balancer.pick(ctx);
    // A half-open breaker admits a fixed number of trials: once they are taken it leaves picking.
    if (ep !== undefined && ep.breaker !== null && !ep.breaker.allowRequest()) {
      if (this.updated(ep)) this.refresh();
      ep = this.balancer.pick(ctx);
      if (ep !== undefined && ep.breaker !== null && !ep.breaker.allowRequest()) return undefined;
    }
    if (ep !== undefined && ep.rampStart !== 0 && this.rampedOut(ep)) {
      const other = this.balancer.pick(ctx);
      if (other !== undefined && other !== ep) ep = other;
    }
    const tried = ctx.tried;
    if (ep === undefined || tried === undefined || tried.size === 0 || !tried.has(ep)) return ep;
    const n = this.endpoints.length;
    const retryCtx: PickContext = { attempt: ctx.attempt, tried };
    for (let i = 1; i <= n; i++) {
      retryCtx.hashKey = ctx.hashKey === undefined ? undefined : `${ctx.hashKey}#${ctx.attempt}.${i}`;
      const again = this.balancer.pick(retryCtx);
      if (again !== undefined && !tried.has(again)) return again;
    }
    for (const e of this.endpoints) if (e.available && !tried.has(e)) return e;
    return undefined;
  }

  /**
   * Releases what the next snapshot does not reuse: pools of endpoints it dropped (closed after
   * their in-flight requests finish) and this balancer's observers.
   */
  retire(next: Service | undefined): void {
    this.balancer?.close?.(); // detaches only the observers it still owns; `next` keeps its own
    this.pools.retire(next?.pools);
  }

  /** Closes every pool, letting queued requests finish (process shutdown). */
  async retireAll(): Promise<void> {
    this.balancer?.close?.();
    await this.pools.closeAll();
  }
}
