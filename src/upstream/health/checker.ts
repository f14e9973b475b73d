import type { Random } from '../../util/random.js';

/** What active health checks say about one backend. */
export type HealthState = 'healthy' | 'unhealthy';

/** One backend to check; `key` is its identity ("host:port", as Endpoint.key). */
export interface HealthTarget {
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

/**
 * One check of one target: resolves when healthy, rejects (with a reason) when not. Should honour
 * `signal` (fired on stop() or when the probe overruns its timeout).
 */
export type HealthProbe = (target: HealthTarget, signal: AbortSignal) => Promise<void>;

/** Runs `fn` once after `ms` milliseconds; the returned function cancels it (idempotent). */
export type Schedule = (fn: () => void, ms: number) => () => void;

/** Told once per state change of a target, with a human-readable reason. Must not throw. */
export type HealthChangeListener = (key: string, state: HealthState, reason: string) => void;

/** Timing and thresholds of active health checks. */
export interface HealthCheckOptions {
  /** Time between two checks of one target, jittered ±10% (default 5000). */
  intervalMs: number;
  /** How long a probe may take; the probe enforces it, the checker aborts an overrun (default 2000). */
  timeoutMs: number;
  /** Consecutive failures that make a healthy target unhealthy (default 3). */
  unhealthyThreshold: number;
  /** Consecutive successes that make an unhealthy target healthy again (default 2). */
  healthyThreshold: number;
}

/**
 * The design's numbers (scalability-and-reliability.md, "L7 Failover"): a check every 5 s, 3
 * failures; a dead backend is detected after ≈ interval × threshold + timeout ≈ 17 s.
 */
export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheckOptions> = Object.freeze({
  intervalMs: 5000,
  timeoutMs: 2000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
});

/** Each interval is `intervalMs × (1 ± INTERVAL_JITTER)`, so checks of many targets spread out. */
export const INTERVAL_JITTER = 0.1;

/**
 * A probe still pending `timeoutMs + PROBE_WATCHDOG_GRACE_MS` after it began is aborted and
 * counted as a timeout (a well-behaved probe times itself out first, with a better reason).
 */
export const PROBE_WATCHDOG_GRACE_MS = 500;

/** Injected effects: randomness for jitter, timers for ticks and the probe watchdog. */
export interface HealthCheckerDeps {
  random: Random;
  schedule: Schedule;
}

/** Production Schedule: an unref'd setTimeout (health checks never keep the process alive). */
export const timerSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** One probe in flight. */
interface Attempt {
  readonly ac: AbortController;
  /** The watchdog already counted this attempt as a timeout; its late result is ignored. */
  timedOut: boolean;
  cancelWatchdog: () => void;
}

interface Slot {
  readonly target: HealthTarget;
  state: HealthState;
  failures: number;
  successes: number;
  attempt: Attempt | null;
  cancelTick: (() => void) | null;
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message || err.name;
  }
  return String(err);
}

function checkOptions(o: HealthCheckOptions): void {
  const positive = (n: number): boolean => Number.isFinite(n) && n > 0;
  if (!positive(o.intervalMs)) throw new RangeError(`health check intervalMs must be > 0, got ${o.intervalMs}`);
  if (!positive(o.timeoutMs)) throw new RangeError(`health check timeoutMs must be > 0, got ${o.timeoutMs}`);
  for (const k of ['unhealthyThreshold', 'healthyThreshold'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`health check ${k} must be an integer >= 1, got ${o[k]}`);
  }
}

/**
 * Active health checking of a fixed list of targets. Each target is probed every `intervalMs`
 * (±10% jitter; the first probe at a random offset in [0, intervalMs)), never with two probes of
 * one target in flight (a tick that finds the previous probe running is skipped, or counted as a
 * failure once the watchdog has given up on that probe). `unhealthyThreshold` consecutive
 * failures turn a healthy target unhealthy, `healthyThreshold` consecutive successes turn it
 * healthy again; each change is reported once to `onChange`. Targets start healthy, or in the
 * state given by `initial` (so a rebuilt checker keeps the last known states). A probe that
 * throws, synchronously or not, is a failure; nothing a probe or `onChange` does stops the
 * checker. Duplicate keys are checked once. Throws RangeError for invalid options.
 */
export class HealthChecker {
  private readonly opts: HealthCheckOptions;
  private readonly slots = new Map<string, Slot>();
  private running = false;
  /** Bumped by start() and stop(); callbacks of an older run are ignored. */
  private run = 0;

  constructor(
    targets: readonly HealthTarget[],
    private readonly probe: HealthProbe,
    opts: Partial<HealthCheckOptions>,
    private readonly deps: HealthCheckerDeps,
    private readonly onChange: HealthChangeListener,
    initial?: ReadonlyMap<string, HealthState>,
  ) {
    this.opts = { ...DEFAULT_HEALTH_CHECK, ...opts };
    checkOptions(this.opts);
    for (const t of targets) {
      if (this.slots.has(t.key)) continue;
      this.slots.set(t.key, {
        target: { key: t.key, host: t.host, port: t.port },
        state: initial?.get(t.key) ?? 'healthy',
        failures: 0,
        successes: 0,
        attempt: null,
        cancelTick: null,
      });
    }
  }

  /** Starts probing (no-op while running). After stop(), starts again with fresh counters. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const run = ++this.run;
    for (const slot of this.slots.values()) {
      slot.failures = 0;
      slot.successes = 0;
      this.scheduleTick(slot, run, this.deps.random() * this.opts.intervalMs);
    }
  }

  /** Cancels every timer and aborts probes in flight; states are kept. Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.run++;
    for (const slot of this.slots.values()) {
      slot.cancelTick?.();
      slot.cancelTick = null;
      const a = slot.attempt;
      slot.attempt = null;
      if (a !== null) {
        a.cancelWatchdog();
        a.ac.abort();
      }
    }
  }

  /** Current state of the target `key`, or undefined when it is not checked here. */
  state(key: string): HealthState | undefined {
    return this.slots.get(key)?.state;
  }

  /** Current state of every target, e.g. the `initial` of a replacement checker. */
  states(): Map<string, HealthState> {
    return new Map([...this.slots].map(([k, s]) => [k, s.state]));
  }

  private scheduleTick(slot: Slot, run: number, ms: number): void {
    slot.cancelTick = this.deps.schedule(() => this.tick(slot, run), ms);
  }

  private nextInterval(): number {
    return this.opts.intervalMs * (1 - INTERVAL_JITTER + 2 * INTERVAL_JITTER * this.deps.random());
  }

  private tick(slot: Slot, run: number): void {
    if (run !== this.run) return;
    this.scheduleTick(slot, run, this.nextInterval());
    const prev = slot.attempt;
    if (prev !== null) {
      // No overlap. A probe that ignored its abort keeps failing the target rather than freezing it.
      if (prev.timedOut) this.failure(slot, 'SWY_HC_TIMEOUT: previous probe still running after abort');
      return;
    }
    const attempt: Attempt = { ac: new AbortController(), timedOut: false, cancelWatchdog: () => {} };
    slot.attempt = attempt;
    attempt.cancelWatchdog = this.deps.schedule(() => {
      if (slot.attempt !== attempt || attempt.timedOut) return;
      attempt.timedOut = true;
      attempt.ac.abort();
      this.failure(slot, `SWY_HC_TIMEOUT: probe did not settle within ${this.opts.timeoutMs}ms`);
    }, this.opts.timeoutMs + PROBE_WATCHDOG_GRACE_MS);
    let pending: Promise<void>;
    try {
      pending = Promise.resolve(this.probe(slot.target, attempt.ac.signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => this.settle(slot, attempt, null),
      (err: unknown) => this.settle(slot, attempt, describeFailure(err)),
    );
  }

  /** A probe finished: `failure` is its reason, or null on success. */
  private settle(slot: Slot, attempt: Attempt, failure: string | null): void {
    if (slot.attempt !== attempt) return; // stopped meanwhile
    slot.attempt = null;
    attempt.cancelWatchdog();
    if (attempt.timedOut) return; // already counted
    if (failure === null) this.success(slot); else this.failure(slot, failure);
  }

  private success(slot: Slot): void {
    slot.failures = 0;
    slot.successes++;
    if (slot.state === 'unhealthy' && slot.successes >= this.opts.healthyThreshold) {
      this.change(slot, 'healthy', `${slot.successes} consecutive successful checks`);
    }
  }

  private failure(slot: Slot, reason: string): void {
    slot.successes = 0;
    slot.failures++;
    if (slot.state === 'healthy' && slot.failures >= this.opts.unhealthyThreshold) {
      this.change(slot, 'unhealthy', `${slot.failures} consecutive failed checks, last: ${reason}`);
    }
  }

  private change(slot: Slot, state: HealthState, reason: string): void {
    slot.state = state;
    try {
      this.onChange(slot.target.key, state, reason);
    } catch {
      // The listener's bug must not stop health checking; the state has changed regardless.
    }
  }
}
