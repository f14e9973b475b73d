import type { Config, ListenerConfig } from '../config/schema.js';
import { compileRoute, Router, type CompiledRoute } from '../http/router.js';
import { Service, type RuntimeDeps } from '../upstream/service.js';

/** One listener as a snapshot sees it: its config and its compiled routes. */
export interface ListenerView {
  readonly config: ListenerConfig;
  readonly router: Router;
}

/**
 * An immutable, fully built configuration: compiled routes per listener and services with their
 * endpoints and pools. Workers read the current snapshot once per request; a reload builds a new
 * one completely and swaps the reference (never a half-applied config).
 */
export class Snapshot {
  readonly version: number;
  readonly config: Config;
  readonly routes: readonly CompiledRoute[];
  readonly services: ReadonlyMap<string, Service>;
  readonly listeners: ReadonlyMap<string, ListenerView>;

  private constructor(version: number, config: Config, routes: CompiledRoute[], services: Map<string, Service>) {
    this.version = version;
    this.config = config;
    this.routes = routes;
    this.services = services;
    this.listeners = new Map(config.listeners.map((l) => [l.name, { config: l, router: new Router(routes, l.name) }]));
  }

  /**
   * Builds a snapshot from a validated config. Endpoints (live state) and upstream pools of
   * `previous` are carried over for services and addresses that remain. Throws on a config the
   * schema accepted but that cannot be built (e.g. an algorithm's own check); `previous` is then
   * untouched.
   */
  static build(config: Config, version: number, deps: RuntimeDeps, previous?: Snapshot): Snapshot {
    const routes = config.routes.map((r, i) => compileRoute(r, i));
    const services = new Map<string, Service>();
    for (const [name, cfg] of Object.entries(config.services)) {
      services.set(name, new Service(name, cfg, deps, previous?.services.get(name)));
    }
    return new Snapshot(version, config, routes, services);
  }

  /** Called once `next` is current: releases pools and observers that `next` does not reuse. */
  retire(next: Snapshot): void {
    for (const [name, svc] of this.services) svc.retire(next.services.get(name));
  }

  /** Closes every upstream pool (process shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.retireAll()));
  }
}

/** The swap point between control plane and data plane: one reference, read per request. */
export class SnapshotHolder {
  constructor(public current: Snapshot) {}

  /** Makes `next` current and retires the previous snapshot. */
  swap(next: Snapshot): void {
    const prev = this.current;
    this.current = next;
    prev.retire(next);
  }
}
