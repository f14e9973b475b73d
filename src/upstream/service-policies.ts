import type { ServiceConfig } from '../config/schema.js';
import { Bulkhead } from '../resilience/bulkhead.js';
import type { RetryPolicy } from '../resilience/retry.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import { HedgeDelay } from '../resilience/hedge-delay.js';
import type { RuntimeDeps } from './deps.js';

/** A service's request policies in one worker: admission (bulkhead), retries (policy, budget) and hedging. */
export interface ServicePolicies {
  /** Concurrency cap of this service in this worker (null: no limit). */
  readonly bulkhead: Bulkhead | null;
  /** Retries and hedges stay a share of requests (per worker; kept across reloads with the same settings). */
  readonly retryBudget: RetryBudget;
  /** The learned delay before a hedge (null: hedging off). */
  readonly hedgeDelay: HedgeDelay | null;
  readonly retryPolicy: RetryPolicy;
}

/**
 * The policies of `cfg` for one worker of `deps.workers` (caps are shared out); the retry budget
 * and the hedge delay of `previous` (the live snapshot's) carry over while their settings hold.
 * Throws on settings the policies refuse.
 */
export function servicePolicies(cfg: ServiceConfig, deps: RuntimeDeps, previous?: ServicePolicies): ServicePolicies {
  const bh = cfg.bulkhead;
  const share = (n: number) => Math.max(1, Math.ceil(n / (deps.workers ?? 1)));
  const r = cfg.retries;
  const budget = { percent: r.budgetPercent, minPerSecond: r.budgetMinPerSecond, windowMs: r.budgetWindow };
  const h = cfg.hedging;
  return {
    // A new snapshot starts a new bulkhead: requests admitted by the old one release the old one.
    bulkhead: bh.maxConcurrent === 0 ? null
      : new Bulkhead({ maxConcurrent: share(bh.maxConcurrent), maxQueued: bh.maxQueued === 0 ? 0 : share(bh.maxQueued), queueTimeoutMs: bh.queueTimeout }),
    // The budget is a window of past traffic: a reload that keeps its settings keeps what was saved up and spent.
    retryBudget: previous?.retryBudget.sameAs(budget) ? previous.retryBudget : new RetryBudget(budget, deps.clock),
    hedgeDelay: !h.enabled ? null
      : previous?.hedgeDelay != null && JSON.stringify(previous.hedgeDelay.opts) === JSON.stringify(h) ? previous.hedgeDelay : new HedgeDelay(h, deps.clock),
    retryPolicy: {
      connectRetries: r.connectRetries, statusRetries: r.statusRetries, timeoutRetries: r.timeoutRetries, timeoutGrowth: r.timeoutGrowth,
      retryOn: r.retryOn, baseDelayMs: r.baseDelay, maxDelayMs: r.maxDelay, jitter: 0.1,
    },
  };
}
