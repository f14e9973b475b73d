import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Allocation check for tests (heuristic, V8-specific): runs `round(warmup)` so the code is
 * optimised, then up to `tries` rounds of `round(size)`, and returns the fewest garbage
 * collections one round triggered. Code that allocated even a few bytes per call fills the young
 * generation over a million calls and forces scavenges, so 0 means "allocation-free". Several
 * rounds keep a slow background compile from making a test flaky. Not for the hot path.
 */
export async function fewestGcs(round: (n: number) => void, warmup = 300_000, size = 1_000_000, tries = 5): Promise<number> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  // GC entries reach the observer a few event-loop turns after the collection: wait them out.
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
  try {
    round(warmup);
    let best = Infinity;
    for (let r = 0; r < tries && best > 0; r++) {
      await settle();
      gcs = 0;
      round(size);
      await settle();
      best = Math.min(best, gcs);
    }
    return best;
  } finally {
    obs.disconnect();
  }
}
