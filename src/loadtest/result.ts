import type { ErrorKind } from './error-kind.js';
import type { RunRecord, GeneratorStats } from './generator.js';
import type { LatencySummary } from './latency-histogram.js';
import type { SecondPoint } from './recorder.js';
import type { CommandEvent } from './timed-commands.js';
import type { AdminSample } from './admin-sampler.js';

/*
 * The result file (`result.json`): what `switchyard capacity --per-node-from` and the HTML report
 * read. Times are seconds since the run started; latencies are milliseconds from the intended send time.
 */

export type ScenarioName = 'baseline' | 'spike' | 'soak' | 'failover' | 'recovery';
export const SCENARIOS: readonly ScenarioName[] = ['baseline', 'spike', 'soak', 'failover', 'recovery'];

/** One phase of constant offered rate. */
export interface PhaseResult {
  name: string;
  /** Offered requests per second. */
  rate: number;
  startS: number;
  endS: number;
  durationS: number;
  /** Requests scheduled in the phase, and how they ended. */
  scheduled: number;
  ok: number;
  failed: number;
  errorRate: number;
  errors: Partial<Record<ErrorKind, number>>;
  /** Successful responses per second completed during the phase. */
  throughput: number;
  /** Response bits per second received during the phase. */
  bandwidthBps: number;
  latencyMs: LatencySummary;
}

/** One continuous timeline of load (a scenario, or two fused: failover then the recovery watch). */
export interface RunResult {
  label: string;
  startedAt: string;
  durationS: number;
  phases: PhaseResult[];
  series: SecondPoint[];
  events: CommandEvent[];
  admin: AdminSample[];
  generator: GeneratorStats;
  aborted: boolean;
}

export interface ScenarioResult {
  name: ScenarioName;
  /** The run whose timeline holds this scenario's data. */
  run: string;
  /** Scenario-specific figures (see docs/loadtest.md). */
  findings: Record<string, unknown>;
  /** The findings in a few lines of prose, as printed at the end. */
  summary: string[];
}

/** Capacity of the target node as measured: for `switchyard capacity --per-node-from`. */
export interface CapacityMeasurement {
  /** The best phase throughput whose p99 and error rate met the SLO; null when none did. */
  qps: number | null;
  phase: string | null;
  p99Ms: number | null;
  errorRate: number | null;
  slo: { p99Ms: number; errorRate: number };
  note: string;
}

export interface LoadtestResult {
  tool: 'switchyard-loadtest';
  formatVersion: 1;
  command: string;
  startedAt: string;
  finishedAt: string;
  target: { url: string; method: string; connections: number; timeoutMs: number };
  options: Record<string, unknown>;
  runs: RunResult[];
  scenarios: ScenarioResult[];
  capacity: CapacityMeasurement;
  warnings: string[];
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The serializable form of a run, with per-phase totals. */
export function toRunResult(r: RunRecord): RunResult {
  const phases = r.phases.map((p, i): PhaseResult => {
    const t = r.recorder.phaseTotals(i);
    const durationS = Math.max(0, p.endS - p.startS);
    const finished = t.ok + t.failed;
    return {
      name: p.name, rate: p.rate, startS: p.startS, endS: p.endS, durationS: round(durationS),
      scheduled: t.scheduled, ok: t.ok, failed: t.failed, errorRate: finished === 0 ? 0 : round(t.failed / finished, 6), errors: t.errors,
      throughput: durationS === 0 ? 0 : round(t.okDone / durationS, 2), bandwidthBps: durationS === 0 ? 0 : Math.round((t.bytesDone * 8) / durationS),
      latencyMs: t.latency,
    };
  });
  return { label: r.label, startedAt: r.startedAt, durationS: r.durationS, phases, series: r.recorder.series, events: r.events, admin: r.admin, generator: r.generator, aborted: r.aborted };
}

/**
 * The node's measured capacity: the highest throughput of any phase (≥ 1 s, offered rate > 0, not a warm-up) that
 * met the SLO. A fixed-rate test only shows what it offered, so this is a lower bound; raise --rate
 * until the SLO breaks to find the knee.
 */
export function measureCapacity(runs: readonly RunResult[], slo: { p99Ms: number; errorRate: number }): CapacityMeasurement {
  let best: { qps: number; phase: string; p99: number; errorRate: number } | null = null;
  for (const run of runs) {
    for (const p of run.phases) {
      if (p.name === 'warmup' || p.rate <= 0 || p.durationS < 1 || p.latencyMs.p99 === null) continue;
      if (p.latencyMs.p99 > slo.p99Ms || p.errorRate > slo.errorRate) continue;
      if (best === null || p.throughput > best.qps) best = { qps: p.throughput, phase: `${run.label}/${p.name}`, p99: p.latencyMs.p99, errorRate: p.errorRate };
    }
  }
  return {
    qps: best?.qps ?? null, phase: best?.phase ?? null, p99Ms: best?.p99 ?? null, errorRate: best?.errorRate ?? null, slo,
    note: 'highest phase throughput within the SLO; a lower bound of the node\'s capacity (the load was offered at a fixed rate)',
  };
}
