import type { ServiceConfig } from '../config/schema.js';
import type { ServiceCounters } from '../observe/stats.js';
import type { BreakerState } from '../resilience/breaker.js';
import { slowStartFactor } from '../resilience/slow-start.js';
import { createBalancer } from './balancers/index.js';
import type { Balancer, BalancerOptions, PickContext } from './balancers/types.js';
import type { Mitigation, RuntimeDeps } from './deps.js';
import type { Endpoint } from './endpoint.js';
import { OutlierDetector, type OutlierOptions } from './health/outlier.js';
import { planLocality } from './zones/locality.js';
import { LocalityBalancer } from './zones/locality-balancer.js';

/** Algorithms that place a request by its hash key (slow start does not move their keys). */
export const HASHED = new Set(['ring-hash', 'maglev', 'bounded-load']);

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

function outlierOptions(cfg: ServiceConfig): OutlierOptions {
  const o = cfg.outlierDetection;
  return {
    consecutiveFailures: o.consecutiveFailures, baseEjectionMs: o.baseEjectionTime, maxEjectionMs: o.maxEjectionTime,
    maxEjectionPercent: o.maxEjectionPercent, successRateThreshold: o.successRateThreshold,
    successRateRequestVolume: o.successRateRequestVolume, intervalMs: o.interval,
  };
}

/**
 * Picking among one service snapshot's endpoints: a balancer over those currently available
 * (healthy, not ejected, not draining, breaker not open), rebuilt when availability changes;
 * panic mode when too few are; half-open breakers' trial limits; slow start for backends coming
 * back; outlier detection (ejection) and breakers fed by every outcome; re-picks skipping the
 * backends a retry already tried. Inert until `activate` (a staged snapshot is never picked from).
 */
export class Picker {
  /** Built by activate(). */
  private balancer!: Balancer;
  private outlier: OutlierDetector<Endpoint> | null = null;
  private panicking = false;
  /** The hot-spot mitigation in force; its bounded-load switch changes the balancer. */
  private mitigation: Mitigation | null = null;

  /** `leftRotation`: told when an endpoint stops being available (its pools fail over their queued requests). */
  constructor(private readonly service: string, private readonly cfg: ServiceConfig, private readonly deps: RuntimeDeps,
    private readonly endpoints: readonly Endpoint[], private readonly hashed: boolean, private readonly counters: ServiceCounters,
    private readonly leftRotation: (ep: Endpoint) => void = () => undefined) {}

  /** Throws when the balancer or outlier settings cannot be built: tried on throwaway endpoints (`configuredEndpoints`). */
  static validate(cfg: ServiceConfig, deps: RuntimeDeps, fresh: Endpoint[]): void {
    createBalancer(cfg.balancer.algorithm, fresh, balancerOptions(cfg, deps)).close?.();
    if (cfg.outlierDetection.enabled) OutlierDetector.carry(undefined, fresh, outlierOptions(cfg), deps.clock);
  }

  /**
   * Starts picking (the commit of a reload, after the endpoints got their settings): carries the
   * outlier detector's state over from `previous` as it is now, settles every endpoint's
   * availability (no slow start for this initial state) and builds the balancer.
   */
  activate(previous: Picker | undefined, mitigation: Mitigation | null): void {
    this.mitigation = mitigation;
    this.outlier = !this.cfg.outlierDetection.enabled ? null
      : OutlierDetector.carry(previous?.outlier ?? undefined, this.endpoints, outlierOptions(this.cfg), this.deps.clock, (ep, ejected, reason, forMs) => {
        ep.ejected = ejected;
        this.deps.events?.({ kind: 'outlier', service: this.service, backend: ep.key, to: ejected ? 'ejected' : 'returned', reason, forMs });
      });
    if (this.outlier === null) for (const ep of this.endpoints) ep.ejected = false;
    for (const ep of this.endpoints) ep.updateAvailability();
    this.balancer = this.build();
  }

  /** Recomputes availability; a backend coming back starts its slow-start ramp. */
  private updated(ep: Endpoint): boolean {
    const was = ep.available;
    if (!ep.updateAvailability()) return false;
    if (ep.available && !was && this.cfg.slowStart > 0) ep.rampStart = this.deps.clock.now();
    // A half-open breaker whose trial slots are taken leaves picking, not rotation: the requests
    // queued for a connection to it are those trials, and failing them over would leave it half-open.
    if (!ep.available && ep.breaker?.state !== 'half-open') this.leftRotation(ep);
    return true;
  }

  /** `ep`'s health or drain changed: rebuilds the balancer if its availability did. */
  changed(ep: Endpoint): void {
    if (this.updated(ep)) this.refresh();
  }

  /**
   * Slow start: a backend back from unhealthy/ejected/open takes a linearly growing share over
   * `slowStart` — a pick of it is kept with probability factor(t) (10% → 100%), else re-picked
   * once among the others. Not for hash-based algorithms, whose keys must stay put.
   */
  private rampedOut(ep: Endpoint): boolean {
    if (ep.rampStart === 0 || this.hashed) return false;
    const since = this.deps.clock.now() - ep.rampStart;
    if (since >= this.cfg.slowStart) { ep.rampStart = 0; return false; }
    return this.deps.random() >= slowStartFactor(since, this.cfg.slowStart);
  }

  /** See Service.recordOutcome. Hot path when nothing changes: O(1). */
  recordOutcome(ep: Endpoint, ok: boolean): void {
    const breaker = ep.breaker;
    if (breaker !== null) {
      const trial = breaker.state === 'half-open';
      breaker.record(ok);
      // Its trials passed: slow start ramps it from here (its trials were not ramped).
      if (trial && (breaker.state as BreakerState) === 'closed' && this.cfg.slowStart > 0) ep.rampStart = this.deps.clock.now();
    }
    this.outlier?.record(ep, ok);
    if (this.updated(ep)) this.refresh();
  }

  /** See Service.recordSlow: outlier detection only, never the breaker. */
  recordSlow(ep: Endpoint): void {
    this.outlier?.record(ep, false);
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

  /** Switches to `m`'s bounded-load setting (null: the configured algorithm) and rebuilds the balancer. */
  setMitigation(m: Mitigation | null): void {
    this.mitigation = m;
    this.refresh();
  }

  /**
   * The balancer: the locality plan (priority levels, zones, panic; see zones/locality.ts) over
   * the endpoints' current availability, with the configured algorithm inside each subset.
   */
  private build(): Balancer {
    const l = this.cfg.locality;
    const panic = this.cfg.degradation.panicThreshold;
    const plan = planLocality(this.endpoints.map((e) => ({ zone: e.zone ?? '', priority: e.priority, weight: e.weight, usable: e.available, draining: e.draining })), {
      localZone: this.deps.zone, nodesPerZone: this.deps.fleetZones?.nodes ?? this.deps.nodesPerZone, zoneAware: l.zoneAware, minClusterSize: l.minClusterSize,
      overprovisioningFactor: l.overprovisioningFactor, panicThreshold: panic,
    });
    // Panic mode (Envoy, per priority level): with too few usable backends, health is ignored and
    // load spreads over every backend that is not draining — better some errors than all traffic on one survivor.
    const panicking = plan.priorities.filter((p) => p.panic);
    if (panicking.length > 0 && !this.panicking) {
      const n = panicking.reduce((s, p) => s + p.subsets.reduce((t, x) => t + x.members.length, 0), 0);
      this.deps.events?.({ kind: 'health', service: this.service, backend: '*', to: 'panic', reason: `${n} backends, under ${panic}% usable` });
    }
    this.panicking = panicking.length > 0;
    const bl = this.mitigation?.boundedLoad;
    const algorithm = bl != null && HASHED.has(this.cfg.balancer.algorithm) ? 'bounded-load' : this.cfg.balancer.algorithm;
    const opts = bl != null && algorithm === 'bounded-load' ? { ...balancerOptions(this.cfg, this.deps), balanceFactor: bl.balanceFactor, virtualNodes: 100 } : balancerOptions(this.cfg, this.deps);
    return new LocalityBalancer(algorithm, plan, this.endpoints, (subset) => createBalancer(algorithm, subset, opts), this.deps.random);
  }

  /** Rebuilds the balancer after endpoints changed availability (health, drain). Not hot path. */
  refresh(): void {
    this.balancer.close?.();
    this.balancer = this.build();
  }

  /**
   * See Service.pick. Hot path; allocates only on retries. The endpoint is chosen first (balancer,
   * slow start, untried on a retry) and only then admitted by its breaker: a half-open breaker's
   * trial slot is taken by the request that is sent to it, never by a pick that then goes elsewhere
   * (a slot taken and not used is a trial that never reports, which reopens the breaker).
   */
  pick(ctx: PickContext): Endpoint | undefined {
    if (this.panicking) this.counters.panicPicks++;
    let ep = this.choose(ctx);
    if (ep === undefined || ep.breaker === null || ep.breaker.allowRequest()) return ep;
    // Its half-open trials are all taken: it leaves picking, and the choice is made once more.
    if (this.updated(ep)) this.refresh();
    ep = this.choose(ctx);
    if (ep === undefined || ep.breaker === null || ep.breaker.allowRequest()) return ep;
    return undefined;
  }

  /** The balancer's pick, moved by slow start and, on a retry, off the backends already tried. */
  private choose(ctx: PickContext): Endpoint | undefined {
    let ep = this.balancer.pick(ctx);
    // A half-open backend is not ramped: its trials are its ramp (slow start begins when it closes).
    if (ep !== undefined && ep.rampStart !== 0 && ep.breaker?.state !== 'half-open' && this.rampedOut(ep)) {
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

  /** Detaches the balancer's load observers it still owns (the next snapshot's keep their own). */
  close(): void {
    this.balancer?.close?.();
  }
}
