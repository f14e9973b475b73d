import type { ServiceConfig } from '../config/schema.js';
import { Bulkhead } from '../resilience/bulkhead.js';
import type { RetryPolicy } from '../resilience/retry.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import type { RuntimeDeps } from './deps.js';

/** A service's request policies in one worker: admission (bulkhead) and retries (policy, budget). */
export interface ServicePolicies {
  /** Concurrency cap of this service in this worker (null: no limit). */
  readonly bulkhead: Bulkhead | null;
  /** Retries in flight stay under a share of active requests (per worker, per snapshot). */
  readonly retryBudget: RetryBudget;
  readonly retryPolicy: RetryPolicy;
}

/** The policies of `cfg` for one worker of `deps.workers` (caps are shared out); throws on settings the policies refuse. */
export function servicePolicies(cfg: ServiceConfig, deps: RuntimeDeps): ServicePolicies {
  const bh = cfg.bulkhead;
  const share = (n: number) => Math.max(1, Math.ceil(n / (deps.workers ?? 1)));
  const r = cfg.retries;
  return {
    // A new snapshot starts a new bulkhead: requests admitted by the old one release the old one.
    bulkhead: bh.maxConcurrent === 0 ? null
      : new Bulkhead({ maxConcurrent: share(bh.maxConcurrent), maxQueued: bh.maxQueued === 0 ? 0 : share(bh.maxQueued), queueTimeoutMs: bh.queueTimeout }),
    retryBudget: new RetryBudget({ percent: r.budgetPercent, minConcurrent: r.budgetMinConcurrent }),
    retryPolicy: {
      connectRetries: r.connectRetries, statusRetries: r.statusRetries, timeoutRetries: r.timeoutRetries, timeoutGrowth: r.timeoutGrowth,
      retryOn: r.retryOn, baseDelayMs: r.baseDelay, maxDelayMs: r.maxDelay, jitter: 0.1,
    },
  };
}
