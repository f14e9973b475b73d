import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/*
 * HDR histograms of latency. Values are recorded in microseconds (1 µs resolution); summaries are in
 * milliseconds. Whole phases keep 3 significant digits; per-second histograms keep 2 in the packed
 * (sparse) layout and are stored encoded, so a 24-hour soak keeps ~250 bytes per second.
 */

export type { Histogram };

/** A latency summary in milliseconds; `null` percentiles when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

/** A whole-phase histogram: 3 significant digits, 1 µs to 1 h (auto-resizes beyond). */
export function phaseHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** A per-second (or window) histogram: 2 significant digits, packed. */
export function secondHistogram(): Histogram {
  return build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2, autoResize: true });
}

/** Records a latency given in (fractional) milliseconds. Hot path. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

const ms3 = (us: number) => Math.round(us) / 1000;

/**
 * Percentiles of `h` in ms, rounded to the microsecond. A percentile is its bucket's highest
 * equivalent value, which can exceed the recorded max by the bucket's width; it is capped at max.
 */
export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { count, p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const max = h.maxValue;
  const at = (p: number) => ms3(Math.min(h.getValueAtPercentile(p), max));
  return { count, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: ms3(max), mean: ms3(h.mean) };
}

/** Compact text form of a histogram (empty string for an empty one). */
export function encodeHistogram(h: Histogram): string {
  return h.totalCount === 0 ? '' : encodeIntoCompressedBase64(h);
}

/** Merges encoded histograms (empty strings skipped) into one packed histogram. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const out = secondHistogram();
  for (const e of encoded) if (e !== '') out.add(decodeFromCompressedBase64(e, 'packed'));
  return out;
}
