import type { TopKeys } from '../hotspot/top-keys.js';
import { TrafficStats } from '../observe/stats.js';
import type { Clock } from '../util/clock.js';
import type { CircuitBreaker } from '../resilience/breaker.js';

/** Something that wants to know when an endpoint's in-flight count moves (e.g. a least-conn heap). */
export interface LoadObserver {
  onLoadChange(ep: Endpoint, delta: number): void;
}

/**
 * One backend address of one service, with the live state that must survive a config reload:
 * in-flight requests, latency EWMA, availability. Snapshots are rebuilt on reload; endpoints are
 * carried over by `key` (see snapshot/snapshot.ts), so a balancer may hold an endpoint that an
 * older snapshot also holds.
 *
 * Hot path: `begin()` / `end()` are called once per request; they do not allocate.
 */
export class Endpoint {
  /** "host:port", the identity used to carry state across reloads. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  zone: string | undefined;
  /** Priority level (0 first; higher levels take load as lower ones lose health, see zones/locality.ts). */
  priority = 0;
  /** Requests sent and not yet finished. */
  inFlight = 0;
  /** Total requests begun, for stats and tests. */
  requests = 0;
  /** Tries sent to this backend: status class and upstream latency (see observe/stats.ts). */
  readonly traffic = new TrafficStats();
  /** Heaviest hash keys picked for this backend since the last stats collection (hashed services only). */
  topKeys: TopKeys | null = null;
  /** Peak-EWMA of latency in ms (0 until the first response). See balancers/ewma.ts. */
  ewmaMs = 0;
  /** Clock time of the last EWMA update. */
  ewmaAt = 0;
  /** False while the endpoint must not be picked: derived from the four states below. */
  available = true;
  /** Active health checks say it answers (true until a checker says otherwise). */
  healthy = true;
  /** Ejected by passive outlier detection. */
  ejected = false;
  /** Set to draining in config: no new requests, in-flight ones finish. */
  draining = false;
  /** Clock time its slow-start ramp began (0: not ramping). */
  rampStart = 0;
  /** Circuit breaker of this backend (null when the service disables breakers). */
  breaker: CircuitBreaker | null = null;
  /** At most one observer: the balancer of the current snapshot that tracks load. */
  observer: LoadObserver | null = null;

  constructor(host: string, port: number, weight = 1, zone?: string) {
    this.host = host;
    this.port = port;
    this.key = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.weight = weight;
    this.zone = zone;
  }

  /**
   * Recomputes `available` from health, ejection, draining and the breaker; returns true when it
   * changed (the service then rebuilds its balancer). Not on the per-request path.
   */
  updateAvailability(): boolean {
    const a = this.healthy && !this.ejected && !this.draining && (this.breaker === null || this.breaker.pickable());
    if (a === this.available) return false;
    this.available = a;
    return true;
  }

  /** The state an operator sees: draining, unhealthy, ejected, open breaker, or healthy. */
  get state(): 'healthy' | 'unhealthy' | 'draining' | 'ejected' | 'breaker-open' {
    if (this.draining) return 'draining';
    if (!this.healthy) return 'unhealthy';
    if (this.ejected) return 'ejected';
    if (this.breaker !== null && !this.breaker.pickable()) return 'breaker-open';
    return 'healthy';
  }

  /** A request to this endpoint starts. */
  begin(): void {
    this.inFlight++;
    this.requests++;
    if (this.observer !== null) this.observer.onLoadChange(this, 1);
  }

  /**
   * A request to this endpoint ended after `ms` milliseconds. Updates the peak-EWMA latency
   * (decay constant `decayMs`, Finagle's default 10s): a sample above the average replaces it at
   * once, so a backend that turns slow is avoided immediately and forgiven slowly.
   */
  end(ms: number, clock: Clock, decayMs = 10_000): void {
    this.inFlight--;
    if (this.observer !== null) this.observer.onLoadChange(this, -1);
    const now = clock.now();
    if (this.ewmaAt === 0 || ms > this.ewmaMs) {
      this.ewmaMs = ms;
    } else {
      const w = Math.exp(-(now - this.ewmaAt) / decayMs);
      this.ewmaMs = this.ewmaMs * w + ms * (1 - w);
    }
    this.ewmaAt = now;
  }
}
