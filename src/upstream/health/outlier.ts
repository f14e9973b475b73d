import type { Clock } from '../../util/clock.js';
import type { Endpoint } from '../endpoint.js';

/*
 * Passive outlier detection from live traffic, after Envoy's: a backend that fails several
 * requests in a row (or, optionally, whose success rate over an interval is too low) is ejected
 * from the pool for a time that grows with each ejection. Pure state machine: no I/O, no timers;
 * time comes from the injected `Clock`, changes are reported through the `onChange` listener.
 */

/**
 * Outlier detection settings (`DEFAULT_OUTLIER` holds the defaults).
 * - consecutiveFailures: failures in a row (5xx or gateway failure: connect error, reset, timeout)
 *   that eject a backend; a success resets the count. Integer ≥ 1. Default 5 (Envoy's consecutive_5xx).
 * - successRateThreshold: percent in [0, 100]; at each interval boundary a backend with at least
 *   `successRateRequestVolume` outcomes in the interval and a success rate below this is ejected.
 *   0 turns it off. Default 0 (off): a fixed threshold needs per-service tuning, and a backend
 *   failing everything is already caught by consecutive failures. (This is the fixed-threshold
 *   kind, like Envoy's failure_percentage ejection, not Envoy's statistical success-rate one.)
 * - successRateRequestVolume: minimum outcomes in the interval for the success-rate check. Integer ≥ 1. Default 100.
 * - intervalMs: length of the success-rate interval, and the decay period of the ejection
 *   multiplier (see `OutlierDetector`). > 0. Default 10 000 (Envoy's interval).
 * - baseEjectionMs: ejection time = this × the backend's ejection multiplier. ≥ 0. Default 30 000.
 * - maxEjectionMs: cap of the ejection time. ≥ 0. Default 300 000.
 * - maxEjectionPercent: at most floor(pool size × this / 100) backends are ejected at once,
 *   strictly (2 backends at 50%: one; 1 backend at 50%: none; 3 backends at 50%: one). [0, 100].
 *   Default 50.
 */
export interface OutlierOptions {
  consecutiveFailures: number;
  successRateThreshold: number;
  successRateRequestVolume: number;
  intervalMs: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
}

/** Defaults: 5 consecutive failures, success-rate ejection off, 30 s base ejection up to 300 s, at most 50% ejected. */
export const DEFAULT_OUTLIER: OutlierOptions = Object.freeze({
  consecutiveFailures: 5,
  successRateThreshold: 0,
  successRateRequestVolume: 100,
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 50,
});

/** Why an endpoint changed: ejected for failures in a row or a low success rate, or returned after its ejection time. */
export type OutlierReason = 'consecutive-failures' | 'success-rate' | 'ejection-expired';

/** Listener of ejections (`ejected` true, with the ejection time) and returns (`ejected` false). */
export type OutlierListener<E> = (ep: E, ejected: boolean, reason: OutlierReason, ejectionMs?: number) => void;

/** Per-endpoint state. */
interface HostState {
  consecutive: number;
  ejected: boolean;
  /** Clock time the current ejection ends. */
  until: number;
  /** Ejection multiplier: times ejected, less one per full interval spent in the pool since the last return. */
  multiplier: number;
  /** Clock time of the last return to the pool. */
  returnedAt: number;
  /** Outcomes and successes in the current success-rate interval. */
  total: number;
  ok: number;
}

/**
 * Passive outlier detector over one pool of endpoints (compared by identity).
 *
 * Inputs: the pool, options (`DEFAULT_OUTLIER` for defaults; RangeError when out of range), a
 * clock, and an optional listener called synchronously on each ejection and return. The caller
 * applies the result (e.g. sets `Endpoint.ejected`); the detector does not touch endpoints.
 *
 * Ejection time = baseEjectionMs × multiplier, capped at maxEjectionMs, where the multiplier is
 * the number of times the backend was ejected. Decay (as Envoy does since max_ejection_time):
 * the multiplier drops by one for each full `intervalMs` the backend spent back in the pool
 * without being ejected, so a backend healthy for a while starts again at the base time; it is
 * computed lazily at the next ejection (O(1), independent of the tick rate). The multiplier stops
 * growing once the cap is reached, so a backend does not need ages to be forgiven.
 *
 * Limit: an ejection never brings the number of ejected backends above
 * floor(pool × maxEjectionPercent / 100) (Envoy's current default; Envoy's old "always eject at
 * least one host" is not done, so a single-backend pool is never ejected). A backend refused for
 * that reason keeps its failure count, and is ejected by its next failure once there is room.
 *
 * Outcomes of requests to an ejected backend (sent before it was ejected) are ignored; a
 * returning backend starts with clean counters.
 */
export class OutlierDetector<E = Endpoint> {
  private readonly endpoints: readonly E[];
  private readonly opts: OutlierOptions;
  private readonly clock: Clock;
  private readonly onChange: OutlierListener<E> | undefined;
  private readonly hosts = new Map<E, HostState>();
  private readonly maxEjected: number;
  private readonly maxMultiplier: number;
  private ejected = 0;
  private intervalStart: number;

  constructor(endpoints: readonly E[], opts: OutlierOptions, clock: Clock, onChange?: OutlierListener<E>) {
    validate(opts);
    this.opts = { ...opts };
    this.clock = clock;
    this.onChange = onChange;
    for (const ep of endpoints) {
      if (!this.hosts.has(ep)) {
        this.hosts.set(ep, { consecutive: 0, ejected: false, until: 0, multiplier: 0, returnedAt: 0, total: 0, ok: 0 });
      }
    }
    this.endpoints = [...this.hosts.keys()];
    this.maxEjected = Math.floor((this.endpoints.length * opts.maxEjectionPercent) / 100);
    this.maxMultiplier = opts.baseEjectionMs > 0 ? Math.max(1, Math.ceil(opts.maxEjectionMs / opts.baseEjectionMs)) : 1;
    this.intervalStart = clock.now();
  }

  /**
   * One finished request to `ep` (`ok` false for a 5xx or a gateway failure: connect error,
   * reset, timeout). Returns true when this outcome ejected `ep` (listener called first).
   * Unknown and currently ejected endpoints are ignored. Hot path: O(1), no allocation unless it ejects.
   */
  record(ep: E, ok: boolean): boolean {
    const h = this.hosts.get(ep);
    if (h === undefined || h.ejected) return false;
    h.total++;
    if (ok) {
      h.ok++;
      h.consecutive = 0;
      return false;
    }
    h.consecutive++;
    if (h.consecutive < this.opts.consecutiveFailures) return false;
    return this.eject(ep, h, 'consecutive-failures', this.clock.now());
  }

  /** Whether `ep` is ejected now (false for an unknown endpoint). Reflects the last `record()`/`tick()`; O(1). */
  isEjected(ep: E): boolean {
    return this.hosts.get(ep)?.ejected ?? false;
  }

  /** Number of endpoints currently ejected. */
  get ejectedCount(): number {
    return this.ejected;
  }

  /**
   * Periodic sweep (not per request; O(pool)): returns endpoints whose ejection time is over
   * (listener with 'ejection-expired'), then, when an interval has passed since the last
   * evaluation, applies the success-rate check (if enabled; lowest rates first, within the
   * ejection limit) and starts a new interval. Returns true when any endpoint was ejected or returned.
   */
  tick(): boolean {
    const now = this.clock.now();
    let changed = false;
    for (const ep of this.endpoints) {
      const h = this.hosts.get(ep)!;
      if (!h.ejected || now < h.until) continue;
      h.ejected = false;
      h.returnedAt = now;
      h.consecutive = 0;
      h.total = 0;
      h.ok = 0;
      this.ejected--;
      changed = true;
      this.onChange?.(ep, false, 'ejection-expired');
    }
    if (now - this.intervalStart >= this.opts.intervalMs) {
      if (this.opts.successRateThreshold > 0 && this.evaluateSuccessRates(now)) changed = true;
      for (const h of this.hosts.values()) {
        h.total = 0;
        h.ok = 0;
      }
      this.intervalStart = now;
    }
    return changed;
  }

  /**
   * A detector for a reloaded pool: endpoints present in `previous` (same object) keep their
   * ejection (with its end time), multiplier, failure count and interval counters; new ones start
   * clean. Carried ejections are not announced again; they may exceed the new limit until they
   * expire. `previous` undefined: a fresh detector. Same inputs and throws as the constructor.
   */
  static carry<E>(previous: OutlierDetector<E> | undefined, endpoints: readonly E[], opts: OutlierOptions, clock: Clock, onChange?: OutlierListener<E>): OutlierDetector<E> {
    const next = new OutlierDetector<E>(endpoints, opts, clock, onChange);
    if (previous === undefined) return next;
    next.intervalStart = previous.intervalStart;
    for (const [ep, h] of next.hosts) {
      const old = previous.hosts.get(ep);
      if (old === undefined) continue;
      Object.assign(h, old);
      h.multiplier = Math.min(h.multiplier, next.maxMultiplier);
      if (h.ejected) next.ejected++;
    }
    return next;
  }

  private eject(ep: E, h: HostState, reason: OutlierReason, now: number): boolean {
    if (this.ejected >= this.maxEjected) return false;
    if (h.multiplier > 0) {
      const decay = Math.floor((now - h.returnedAt) / this.opts.intervalMs);
      h.multiplier = Math.max(0, h.multiplier - decay);
    }
    h.multiplier = Math.min(h.multiplier + 1, this.maxMultiplier);
    const ms = Math.min(this.opts.baseEjectionMs * h.multiplier, this.opts.maxEjectionMs);
    h.ejected = true;
    h.until = now + ms;
    h.consecutive = 0;
    this.ejected++;
    this.onChange?.(ep, true, reason, ms);
    return true;
  }

  private evaluateSuccessRates(now: number): boolean {
    const { successRateRequestVolume: volume, successRateThreshold: threshold } = this.opts;
    const low: { ep: E; h: HostState; rate: number }[] = [];
    for (const [ep, h] of this.hosts) {
      if (h.ejected || h.total < volume) continue;
      const rate = (h.ok * 100) / h.total;
      if (rate < threshold) low.push({ ep, h, rate });
    }
    low.sort((a, b) => a.rate - b.rate);
    let changed = false;
    for (const c of low) {
      if (!this.eject(c.ep, c.h, 'success-rate', now)) break;
      changed = true;
    }
    return changed;
  }
}

function validate(o: OutlierOptions): void {
  const check = (ok: boolean, what: string, v: number): void => {
    if (!ok) throw new RangeError(`${what}, got ${v}`);
  };
  check(Number.isInteger(o.consecutiveFailures) && o.consecutiveFailures >= 1, 'consecutiveFailures must be an integer >= 1', o.consecutiveFailures);
  check(o.successRateThreshold >= 0 && o.successRateThreshold <= 100, 'successRateThreshold must be in [0, 100]', o.successRateThreshold);
  check(Number.isInteger(o.successRateRequestVolume) && o.successRateRequestVolume >= 1, 'successRateRequestVolume must be an integer >= 1', o.successRateRequestVolume);
  check(o.intervalMs > 0 && Number.isFinite(o.intervalMs), 'intervalMs must be > 0', o.intervalMs);
  check(o.baseEjectionMs >= 0 && Number.isFinite(o.baseEjectionMs), 'baseEjectionMs must be >= 0', o.baseEjectionMs);
  check(o.maxEjectionMs >= 0 && Number.isFinite(o.maxEjectionMs), 'maxEjectionMs must be >= 0', o.maxEjectionMs);
  check(o.maxEjectionPercent >= 0 && o.maxEjectionPercent <= 100, 'maxEjectionPercent must be in [0, 100]', o.maxEjectionPercent);
}
