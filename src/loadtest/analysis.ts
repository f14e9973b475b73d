import type { Recorder, SecondPoint } from './recorder.js';

/*
 * Questions asked of a run's seconds: when did errors start and stop, and when were throughput and
 * p99 back near the reference. Windows of several seconds are judged together (their merged
 * histogram), because a single second's p99 at a few hundred requests is mostly noise.
 */

/** What "back to normal" is measured against: normally the baseline scenario's phase. */
export interface Reference {
  /** Successful responses per second. */
  throughput: number;
  p99Ms: number;
  /** Where the figures come from, for the report: `baseline/baseline`. */
  source: string;
}

export interface RecoveryCriteria {
  /** Allowed relative deviation from the reference (the design: 10%). */
  tolerance: number;
  /** Absolute slack on p99 (ms), so sub-millisecond loopback jitter does not read as "not recovered". */
  latencyFloorMs: number;
  /** Seconds that must be within bounds together. */
  holdS: number;
}

/** The highest p99 that counts as "back": ref × (1 + tolerance), or ref + floor if that is larger. */
export function p99Limit(ref: Reference, c: RecoveryCriteria): number {
  return Math.max(ref.p99Ms * (1 + c.tolerance), ref.p99Ms + c.latencyFloorMs);
}

export interface WindowVerdict {
  p99Ms: number | null;
  throughput: number;
  p99Ok: boolean;
  throughputOk: boolean;
}

/** Judges the closed seconds [s, s + holdS) against the reference. */
export function judgeWindow(rec: Recorder, s: number, ref: Reference, c: RecoveryCriteria): WindowVerdict {
  const points = rec.series.slice(s, s + c.holdS);
  const throughput = points.reduce((sum, p) => sum + p.ok, 0) / Math.max(1, points.length);
  const p99 = rec.windowLatency(s, s + c.holdS).p99;
  return {
    p99Ms: p99,
    throughput,
    p99Ok: p99 !== null && p99 <= p99Limit(ref, c),
    throughputOk: Math.abs(throughput - ref.throughput) <= ref.throughput * c.tolerance,
  };
}

/**
 * The first second s ≥ fromS whose window [s, s + holdS) of closed seconds is within bounds
 * (`what`: p99 only, throughput only, or both); null when no such window exists yet.
 */
export function findReturn(rec: Recorder, fromS: number, ref: Reference, c: RecoveryCriteria, what: 'p99' | 'throughput' | 'both'): number | null {
  for (let s = Math.max(0, fromS); s + c.holdS <= rec.closedSeconds; s++) {
    const v = judgeWindow(rec, s, ref, c);
    if ((what !== 'throughput' ? v.p99Ok : true) && (what !== 'p99' ? v.throughputOk : true)) return s;
  }
  return null;
}

/** Seconds (by schedule) in [fromS, toS) with failed requests: first, last, the window between, and how many failed. */
export function errorWindow(series: readonly SecondPoint[], fromS = 0, toS = Number.POSITIVE_INFINITY): { firstS: number; lastS: number; lengthS: number; failed: number } | null {
  let first = -1;
  let last = -1;
  let failed = 0;
  for (const p of series) {
    if (p.t < fromS || p.t >= toS || p.failed === 0) continue;
    if (first < 0) first = p.t;
    last = p.t;
    failed += p.failed;
  }
  return first < 0 ? null : { firstS: first, lastS: last, lengthS: last - first + 1, failed };
}

/** Highest per-second p99 in [fromS, toS), or null. */
export function worstSecondP99(series: readonly SecondPoint[], fromS: number, toS: number): number | null {
  let worst: number | null = null;
  for (const p of series) if (p.t >= fromS && p.t < toS && p.p99 !== null && (worst === null || p.p99 > worst)) worst = p.p99;
  return worst;
}
