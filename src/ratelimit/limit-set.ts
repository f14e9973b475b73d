import type { Config } from '../config/schema.js';
import type { RateLimitConfig } from '../config/ratelimit-schema.js';
import { rateLimitCounters } from '../observe/stats.js';
import { fleetSync, type FleetTarget } from './fleet-sync.js';
import { keyFunction } from './limit-key.js';
import { RateLimiter } from './limiter.js';

/** How often idle keys are forgotten (their state no longer limits anything). */
const SWEEP_MS = 10_000;
const NONE: readonly RateLimiter[] = Object.freeze([]);

/**
 * The rate limiters of one config in one worker: per route, the route's own limits then its
 * service's. Built with the config's snapshot (`prepare`, touching nothing live); a limiter whose
 * settings did not change is carried over from `previous` with its keys' state, so a reload
 * neither resets nor doubles a budget. `activate` hands the fleet limiters to this process's
 * fleet sync and starts the sweep of idle keys; `retire` stops the sweep.
 */
export class RateLimitSet {
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(readonly byId: ReadonlyMap<string, RateLimiter>, private readonly perRoute: readonly (readonly RateLimiter[])[],
    private readonly modes: ReadonlyMap<RateLimiter, 'enforce' | 'shadow'>, private readonly fleet: FleetTarget | null) {}

  /** `workers`: the node's worker processes, which share out each local limit. */
  static prepare(config: Config, workers: number, previous?: RateLimitSet): RateLimitSet {
    const byId = new Map<string, RateLimiter>();
    const rl = config.rateLimiting;
    const redis = rl.redis ?? config.tlsSessionCache?.redis;
    const modes = new Map<RateLimiter, 'enforce' | 'shadow'>();
    const make = (owner: string, l: RateLimitConfig): RateLimiter => {
      const id = `${owner}:${l.name}`;
      const fingerprint = JSON.stringify([l.rate, l.period, l.burst, l.key, l.scope, rl.maxKeys, workers]);
      const old = previous?.byId.get(id);
      // The mode is not state: a limit switched from shadow to enforce keeps its keys (switched at activate).
      const limiter = old !== undefined && old.fingerprint === fingerprint ? old
        : new RateLimiter({ id, name: l.name, shape: { rate: l.rate, periodMs: l.period, burst: l.burst }, scope: l.scope, key: keyFunction(l.key) },
          fingerprint, l.mode, rateLimitCounters(id), rl.maxKeys, workers, l.scope === 'fleet' ? fleetSync.link : null);
      modes.set(limiter, l.mode);
      byId.set(id, limiter);
      return limiter;
    };
    const services = new Map<string, RateLimiter[]>();
    for (const [name, s] of Object.entries(config.services)) services.set(name, s.rateLimits.map((l) => make(`service:${name}`, l)));
    const perRoute = config.routes.map((r, i) => {
      const own = r.rateLimits.map((l) => make(`route:${r.name ?? `route-${i}`}`, l));
      const all = [...own, ...(services.get(r.service) ?? [])];
      return all.length === 0 ? NONE : all;
    });
    const hasFleet = [...byId.values()].some((l) => l.settings.scope === 'fleet');
    return new RateLimitSet(byId, perRoute, modes, hasFleet && redis !== undefined ? { url: redis, prefix: rl.keyPrefix, intervalMs: rl.syncInterval } : null);
  }

  /** The limits of the route at `index` in the config's `routes` (route's own, then its service's). */
  forRoute(index: number): readonly RateLimiter[] { return this.perRoute[index] ?? NONE; }

  activate(): void {
    for (const [l, mode] of this.modes) l.mode = mode;
    fleetSync.configure(this.fleet, [...this.byId.values()].filter((l) => l.settings.scope === 'fleet'));
    if (this.byId.size === 0) return;
    this.sweeper = setInterval(() => { const now = performance.now(); for (const l of this.byId.values()) l.sweep(now); }, SWEEP_MS);
    this.sweeper.unref();
  }

  retire(): void { clearInterval(this.sweeper); }

  /** Process shutdown: no more syncs. */
  close(): void { this.retire(); fleetSync.stop(); }

  /** Per limit, the keys refused most since the last call (for the admin top list). */
  takeTop(n: number): Record<string, { key: string; limited: number }[]> {
    const out: Record<string, { key: string; limited: number }[]> = {};
    for (const [id, l] of this.byId) { const top = l.takeTop(n); if (top.length > 0) out[id] = top; }
    return out;
  }
}
