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
  /**
   * Whether the run pushed the node past that throughput: a phase offered at least as much broke
   * the SLO or fell short of its offered rate (runs that ran kill/restart commands do not count).
   * When false, `qps` is just the highest rate offered — `switchyard capacity` refuses it.
   */
  saturated: boolean;
  /** Why it is (the phase that broke) or is not saturated, in one line. */
  saturation: string;
}

/** A phase delivering less than this share of its offered rate could not keep up. */
const KEPT_UP = 0.9;

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
  let best: { qps: number; rate: number; phase: string; p99: number; errorRate: number } | null = null;
  const measured: { run: RunResult; p: PhaseResult }[] = [];
  for (const run of runs) {
    for (const p of run.phases) {
      if (p.name === 'warmup' || p.rate <= 0 || p.durationS < 1 || p.latencyMs.p99 === null) continue;
      measured.push({ run, p });
      if (p.latencyMs.p99 > slo.p99Ms || p.errorRate > slo.errorRate) continue;
      if (best === null || p.throughput > best.qps) best = { qps: p.throughput, rate: p.rate, phase: `${run.label}/${p.name}`, p99: p.latencyMs.p99, errorRate: p.errorRate };
    }
  }
  // Evidence of the limit: at an offered rate at least the best one's, a phase that fell short of
  // its rate (the best one included) or, another phase, broke the SLO.
  const beyond = measured.find(({ run, p }) => run.events.length === 0 && p.rate >= (best?.rate ?? 0)
    && (p.throughput < KEPT_UP * p.rate || (`${run.label}/${p.name}` !== best?.phase && (p.latencyMs.p99! > slo.p99Ms || p.errorRate > slo.errorRate))));
  const topRate = Math.max(0, ...measured.map(({ p }) => p.rate));
  return {
    qps: best?.qps ?? null, phase: best?.phase ?? null, p99Ms: best?.p99 ?? null, errorRate: best?.errorRate ?? null, slo,
    note: 'highest phase throughput within the SLO; a lower bound of the node\'s capacity (the load was offered at a fixed rate)',
    saturated: beyond !== undefined,
    saturation: beyond === undefined
      ? `every phase met the SLO and delivered its offered rate (highest offered: ${topRate}/s): the node was not pushed to its limit`
      : `${beyond.run.label}/${beyond.p.name} offered ${beyond.p.rate}/s and got ${beyond.p.throughput}/s at p99 ${beyond.p.latencyMs.p99} ms, ${round(beyond.p.errorRate * 100, 2)}% errors: past the node's limit`,
  };
}
