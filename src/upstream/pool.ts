import type { ServiceConfig } from '../config/schema.js';
import type { Endpoint } from './endpoint.js';

/** A connection pool to one backend, owned by a service snapshot; each engine has its own pool type. */
export interface UpstreamPool {
  /** Stops reuse; resolves once the requests it carries finished. */
  close(): Promise<void>;
  /** Fails the requests still queued for a connection, never sent (absent: the pool cannot take them back). */
  failWaiters?(code: string, message: string): void;
}

/**
 * An engine's kind of upstream pool: how to open one to an endpoint with a service's settings.
 * The engine defines it beside its pool (http/h1/h1-pool.ts, http/undici-pool.ts), so upstream/
 * knows only this contract and never imports an engine.
 */
export interface PoolKind<P extends UpstreamPool> {
  readonly name: string;
  create(ep: Endpoint, cfg: ServiceConfig): P;
}

/** The service settings a pool is opened with; a change means new pools. */
function settingsKey(cfg: ServiceConfig): string {
  const t = cfg.timeouts;
  return `${cfg.maxConnectionsPerBackend}|${t.connect}|${t.request}|${t.idle}|${cfg.backendProtocol}`;
}

/**
 * The upstream pools of one service snapshot, by kind and endpoint. A pool is opened on first
 * use (an engine uses only its own kind); those of endpoints a reload keeps are shared with the
 * next snapshot while the pool settings hold, and closed by whichever snapshot retires last.
 */
export class PoolSet {
  private readonly byKind = new Map<PoolKind<UpstreamPool>, Map<Endpoint, UpstreamPool>>();
  private readonly key: string;

  constructor(private readonly cfg: ServiceConfig) {
    this.key = settingsKey(cfg);
  }

  /** The pool of `kind` to `ep`, opened on first use. Hot path: two map lookups. */
  of<P extends UpstreamPool>(kind: PoolKind<P>, ep: Endpoint): P {
    let pools = this.byKind.get(kind);
    if (pools === undefined) { pools = new Map(); this.byKind.set(kind, pools); }
    let pool = pools.get(ep) as P | undefined;
    if (pool === undefined) { pool = kind.create(ep, this.cfg); pools.set(ep, pool); }
    return pool;
  }

  /** Shares `previous`'s pools of the `endpoints` it has, when the pool settings did not change (at staging: nothing is opened or closed). */
  carry(previous: PoolSet | undefined, endpoints: readonly Endpoint[]): void {
    if (previous === undefined || previous.key !== this.key) return;
    for (const [kind, old] of previous.byKind) {
      const pools = new Map<Endpoint, UpstreamPool>();
      for (const ep of endpoints) {
        const pool = old.get(ep);
        if (pool !== undefined) pools.set(ep, pool);
      }
      this.byKind.set(kind, pools);
    }
  }

  /**
   * `ep` left rotation (ejected, breaker open, unhealthy, draining): requests still queued for a
   * connection to it go elsewhere now rather than wait behind its hung connections. Deferred:
   * this runs inside another request's bookkeeping.
   */
  leftRotation(ep: Endpoint): void {
    for (const pools of this.byKind.values()) {
      const pool = pools.get(ep);
      if (pool?.failWaiters !== undefined) setImmediate(() => pool.failWaiters!('SWY_BACKEND_UNAVAILABLE', `backend ${ep.key} left rotation`));
    }
  }

  /** Closes the pools `next` does not share (after their in-flight requests finish). */
  retire(next: PoolSet | undefined): void {
    for (const [kind, pools] of this.byKind) {
      const kept = next?.byKind.get(kind);
      for (const [ep, pool] of pools) if (kept?.get(ep) !== pool) void pool.close().catch(() => undefined);
    }
  }

  /** Closes every pool, letting queued requests finish (process shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.byKind.values()].flatMap((pools) => [...pools.values()].map((p) => p.close().catch(() => undefined))));
  }
}
