import type { Config, ListenerConfig } from '../config/schema.js';
import { compileRoute, Router, type CompiledRoute } from '../routing/router.js';
import { Service, type Mitigation, type RuntimeDeps } from '../upstream/service.js';
import { RateLimitSet } from '../ratelimit/limit-set.js';
import type { RateLimiter } from '../ratelimit/limiter.js';

/** What the primary keeps beside the config, by service then backend key (see runtime/messages.ts). */
export interface SnapshotOverrides {
  health?: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
  drains?: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
  mitigations?: Readonly<Record<string, Mitigation>>;
}

/** One listener as a snapshot sees it: its config and its compiled routes. */
export interface ListenerView {
  readonly config: ListenerConfig;
  readonly router: Router;
}

/**
 * An immutable, fully built configuration: compiled routes per listener and services with their
 * endpoints and pools. Workers read the current snapshot once per request; a reload prepares a
 * new one completely (touching nothing live), and only when every worker prepared its own does
 * each activate it and swap the reference (never a half-applied config).
 */
export class Snapshot {
  readonly version: number;
  readonly config: Config;
  readonly routes: readonly CompiledRoute[];
  readonly services: ReadonlyMap<string, Service>;
  readonly listeners: ReadonlyMap<string, ListenerView>;
  /** Rate limiters of this config (state carried over from the previous snapshot where unchanged). */
  readonly rateLimits: RateLimitSet;
  /** Per compiled route, the rate limits its requests pass (route's, then its service's). */
  readonly routeLimits: ReadonlyMap<CompiledRoute, readonly RateLimiter[]>;

  private constructor(version: number, config: Config, routes: CompiledRoute[], services: Map<string, Service>, rateLimits: RateLimitSet) {
    this.version = version;
    this.config = config;
    this.routes = routes;
    this.services = services;
    this.rateLimits = rateLimits;
    this.routeLimits = new Map(routes.map((r, i) => [r, rateLimits.forRoute(i)]));
    this.listeners = new Map(config.listeners.map((l) => [l.name, { config: l, router: new Router(routes, l.name) }]));
  }

  /**
   * Builds an active snapshot from a validated config: `prepare` then `activate` at once (the
   * first snapshot of a process, trial builds, tests). A reload uses the two steps apart.
   */
  static build(config: Config, version: number, deps: RuntimeDeps, previous?: Snapshot): Snapshot {
    const s = Snapshot.prepare(config, version, deps, previous);
    s.activate();
    return s;
  }

  /**
   * Provisions a snapshot from a validated config without touching anything live: routes are
   * compiled and services staged (see `Service`), carrying over the endpoints and upstream pools
   * of `previous` for services and addresses that remain, but none of their state changes until
   * `activate()`. Throws on a config the schema accepted but that cannot be built (e.g. an
   * algorithm's own check); nothing is to be undone then, nor when a prepared snapshot is dropped.
   */
  static prepare(config: Config, version: number, deps: RuntimeDeps, previous?: Snapshot): Snapshot {
    const routes = config.routes.map((r, i) => compileRoute(r, i));
    const services = new Map<string, Service>();
    if (Object.keys(config.zones.nodes).length > 0) deps = { ...deps, nodesPerZone: config.zones.nodes };
    for (const [name, cfg] of Object.entries(config.services)) {
      services.set(name, new Service(name, cfg, deps, previous?.services.get(name)));
    }
    return new Snapshot(version, config, routes, services, RateLimitSet.prepare(config, deps.workers ?? 1, previous?.rateLimits));
  }

  /**
   * The commit of a prepared snapshot: every service applies its staged endpoint settings and
   * the primary's overrides (health, drains, mitigations) and builds its balancer. Call it with
   * the previous snapshot still current and make this one current right after (SnapshotHolder.commit).
   */
  activate(overrides: SnapshotOverrides = {}): void {
    for (const [name, svc] of this.services) {
      svc.activate({ health: overrides.health?.[name], drains: overrides.drains?.[name], mitigation: overrides.mitigations?.[name] });
    }
  }

  /** Called once `next` is current: releases pools and observers that `next` does not reuse. */
  retire(next: Snapshot): void {
    for (const [name, svc] of this.services) svc.retire(next.services.get(name));
  }

  /** Closes every upstream pool (process shutdown). */
  async close(): Promise<void> {
    this.rateLimits.close();
    await Promise.all([...this.services.values()].map((s) => s.retireAll()));
  }
}

/** The swap point between control plane and data plane: one reference, read per request. */
export class SnapshotHolder {
  constructor(public current: Snapshot) { current.rateLimits.activate(); }

  /** Activates a prepared `next` with the primary's overrides, makes it current and retires the previous one. */
  commit(next: Snapshot, overrides: SnapshotOverrides = {}): void {
    next.activate(overrides);
    this.swap(next);
  }

  /** Makes `next` (active) current and retires the previous snapshot. */
  swap(next: Snapshot): void {
    const prev = this.current;
    next.rateLimits.activate();
    this.current = next;
    prev.rateLimits.retire();
    prev.retire(next);
  }
}
