import type { RunRecord } from './generator.js';
import type { PhaseResult, RunResult, ScenarioName, ScenarioResult } from './result.js';
import type { Disturbance } from './scenario-plan.js';
import { errorWindow, findReturn, p99Limit, worstSecondP99, type RecoveryCriteria, type Reference } from './analysis.js';
import { leastSquares } from './trend.js';

/*
 * What each scenario reports, computed from its run once the run is over: the figures (findings,
 * in the result file) and a few lines of prose (printed, and in the HTML report).
 */

export interface FindingsContext {
  /** The baseline scenario's figures when it ran in this invocation; otherwise the run's own "before" phase is used. */
  reference?: Reference;
  criteria: RecoveryCriteria;
  /** Memory growth (bytes per hour) beyond which a soak reports a leak. */
  leakThresholdBytesPerHour: number;
  /** Growth of open connections per hour beyond which a soak reports it. */
  connectionLeakThresholdPerHour: number;
}

const MiB = 2 ** 20;
/** A memory trend fitted over less than this (s) is reported but not judged: startup growth extrapolates wildly. */
export const MIN_LEAK_SPAN_S = 600;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const pct = (x: number) => `${r3(x * 100)}%`;
const ms = (x: number | null) => (x === null ? 'n/a' : `${x} ms`);

function phase(run: RunResult, name: string): PhaseResult | undefined {
  return run.phases.find((p) => p.name === name);
}

/** The reference for a run: the baseline scenario if it ran, else this run's "before" phase. */
function referenceFor(run: RunResult, ctx: FindingsContext): Reference | undefined {
  if (ctx.reference !== undefined) return ctx.reference;
  const before = phase(run, 'before');
  if (before === undefined || before.latencyMs.p99 === null) return undefined;
  return { throughput: before.throughput, p99Ms: before.latencyMs.p99, source: `${run.label}/before` };
}

/** The baseline as a reference for the other scenarios (null when it got no successful response). */
export function referenceFromBaseline(run: RunResult): Reference | undefined {
  const p = phase(run, 'baseline')!;
  return p.latencyMs.p99 === null ? undefined : { throughput: p.throughput, p99Ms: p.latencyMs.p99, source: `${run.label}/${p.name}` };
}

function phaseLine(p: PhaseResult): string {
  const l = p.latencyMs;
  return `${p.name}: offered ${p.rate}/s, throughput ${p.throughput}/s, errors ${p.failed} (${pct(p.errorRate)}), p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, p99.9 ${ms(l.p999)}, max ${ms(l.max)}`;
}

export function baselineFindings(run: RunResult): ScenarioResult {
  const p = phase(run, 'baseline')!;
  return {
    name: 'baseline', run: run.label,
    findings: { offeredRate: p.rate, throughput: p.throughput, errorRate: p.errorRate, failed: p.failed, errors: p.errors, latencyMs: p.latencyMs },
    summary: [phaseLine(p)],
  };
}

export function spikeFindings(rec: RunRecord, run: RunResult, d: Disturbance, ctx: FindingsContext): ScenarioResult {
  const before = phase(run, 'before')!;
  const during = phase(run, 'spike')!;
  const after = phase(run, 'after')!;
  const ref = referenceFor(run, ctx);
  const endS = d.endMs / 1000;
  const back = ref === undefined ? null : findReturn(rec.recorder, Math.ceil(endS), ref, { ...ctx.criteria }, 'p99');
  const backWithinAfter = back !== null && back + ctx.criteria.holdS <= Math.ceil(after.endS) ? back : null;
  const returnS = backWithinAfter === null ? null : r3(Math.max(0, backWithinAfter - endS));
  return {
    name: 'spike', run: run.label,
    findings: {
      factor: during.rate / Math.max(1e-9, before.rate), spikeStartS: d.startMs / 1000, spikeEndS: endS,
      before, during, after,
      errorsDuring: during.failed, errorsAfter: after.failed,
      worstSecondP99DuringMs: worstSecondP99(run.series, Math.floor(d.startMs / 1000), Math.ceil(endS)),
      reference: ref ?? null, p99LimitMs: ref === undefined ? null : p99Limit(ref, ctx.criteria),
      p99ReturnS: returnS,
    },
    summary: [
      phaseLine(before), phaseLine(during), phaseLine(after),
      returnS === null
        ? `p99 did not return to the baseline (≤ ${ref === undefined ? 'n/a' : `${r3(p99Limit(ref, ctx.criteria))} ms`}) within the ${after.durationS} s after the spike`
        : `p99 back to the baseline (≤ ${r3(p99Limit(ref!, ctx.criteria))} ms, held ${ctx.criteria.holdS} s) ${returnS} s after the spike ended`,
    ],
  };
}

export function soakFindings(rec: RunRecord, run: RunResult, ctx: FindingsContext): ScenarioResult {
  const p = phase(run, 'soak')!;
  const samples = run.admin.filter((s) => s.error === undefined);
  const failedSamples = run.admin.length - samples.length;
  // The soak's first tenth is start-up (JIT, pools filling); the trend is fitted over the rest.
  const trendFromS = p.startS + p.durationS / 10;
  const steady = samples.filter((s) => s.t >= trendFromS && s.t <= p.endS);
  const memPoints = steady.filter((s) => s.workersRssBytes !== null || s.primaryRssBytes !== null)
    .map((s) => ({ x: s.t / 3600, y: (s.workersRssBytes ?? 0) + (s.primaryRssBytes ?? 0) }));
  const connPoints = steady.filter((s) => s.activeConnections !== null).map((s) => ({ x: s.t / 3600, y: s.activeConnections! }));
  const memFit = memPoints.length >= 3 ? leastSquares(memPoints) : null;
  const connFit = connPoints.length >= 3 ? leastSquares(connPoints) : null;
  const [from, to] = [Math.floor(p.startS), Math.ceil(p.endS)];
  const tenth = Math.max(1, Math.floor((to - from) / 10));
  // Latency drift: the first tenth of the soak against the last.
  const early = rec.recorder.windowLatency(from, from + tenth).p99;
  const late = rec.recorder.windowLatency(to - tenth, to).p99;
  const spanS = memPoints.length < 2 ? 0 : (memPoints[memPoints.length - 1].x - memPoints[0].x) * 3600;
  const memory = memFit === null ? null : {
    samples: memPoints.length, spanS: r1(spanS), startBytes: memPoints[0].y, endBytes: memPoints[memPoints.length - 1].y,
    slopeBytesPerHour: Math.round(memFit.slope), r2: r3(memFit.r2), thresholdBytesPerHour: ctx.leakThresholdBytesPerHour,
    /** null: the fit spans less than MIN_LEAK_SPAN_S, too short to judge. */
    leak: spanS < MIN_LEAK_SPAN_S ? null : memFit.slope > ctx.leakThresholdBytesPerHour,
  };
  const connections = connFit === null ? null : {
    samples: connPoints.length, start: connPoints[0].y, end: connPoints[connPoints.length - 1].y, max: Math.max(...connPoints.map((c) => c.y)),
    slopePerHour: r1(connFit.slope), thresholdPerHour: ctx.connectionLeakThresholdPerHour, growing: connFit.slope > ctx.connectionLeakThresholdPerHour,
  };
  const summary = [phaseLine(p), `p99 first tenth ${ms(early)}, last tenth ${ms(late)}`];
  if (run.admin.length === 0) summary.push('memory and connections not sampled (give --admin to detect leaks)');
  else if (memory === null) summary.push(`too few admin samples after warm-up to fit a trend (${memPoints.length}; ${failedSamples} failed)`);
  else {
    const limit = `${r1(ctx.leakThresholdBytesPerHour / MiB)} MiB/h`;
    const verdict = memory.leak === null ? `not judged (fitted over ${memory.spanS} s; needs ≥ ${MIN_LEAK_SPAN_S} s)` : memory.leak ? `LEAK SUSPECTED (> ${limit})` : `no leak (threshold ${limit})`;
    summary.push(`memory ${r1(memory.startBytes / MiB)} → ${r1(memory.endBytes / MiB)} MiB, trend ${r1(memory.slopeBytesPerHour / MiB)} MiB/h (r² ${memory.r2}, ${memory.samples} samples): ${verdict}`);
    if (connections !== null) summary.push(`open connections ${connections.start} → ${connections.end} (max ${connections.max}), trend ${connections.slopePerHour}/h${connections.growing ? ' — GROWING' : ''}`);
  }
  return {
    name: 'soak', run: run.label,
    findings: { phase: p, trendFromS: r3(trendFromS), memory, connections, adminSamples: run.admin.length, failedAdminSamples: failedSamples, p99FirstTenthMs: early, p99LastTenthMs: late },
    summary,
  };
}

/** The recovery watch after a disturbance: when throughput and p99 were both back within tolerance. */
export function recoveryOf(rec: RunRecord, run: RunResult, d: Disturbance, ctx: FindingsContext) {
  const ref = referenceFor(run, ctx);
  const endS = d.endMs / 1000;
  const from = Math.ceil(endS);
  if (ref === undefined) return { reference: null, fromS: endS, recovered: false, recoveredAtS: null, timeToRecoverS: null, throughputBackAtS: null, p99BackAtS: null, p99LimitMs: null, criteria: ctx.criteria, since: d.endLabel };
  const at = (what: 'p99' | 'throughput' | 'both') => findReturn(rec.recorder, from, ref, ctx.criteria, what);
  const recoveredAtS = at('both');
  return {
    reference: ref, since: d.endLabel, fromS: endS, criteria: ctx.criteria, p99LimitMs: r3(p99Limit(ref, ctx.criteria)),
    throughputBandPerS: [r1(ref.throughput * (1 - ctx.criteria.tolerance)), r1(ref.throughput * (1 + ctx.criteria.tolerance))],
    throughputBackAtS: at('throughput'), p99BackAtS: at('p99'),
    recovered: recoveredAtS !== null, recoveredAtS, timeToRecoverS: recoveredAtS === null ? null : r3(Math.max(0, recoveredAtS - endS)),
    watchedUntilS: run.series.length,
  };
}

function recoveryLine(r: ReturnType<typeof recoveryOf>): string {
  if (r.reference === null) return 'recovery: no reference (the run before the disturbance had no successful response)';
  const crit = `throughput within ${r.criteria.tolerance * 100}% of ${r1(r.reference.throughput)}/s and p99 ≤ ${r.p99LimitMs} ms (${r.reference.source}), held ${r.criteria.holdS} s`;
  return r.recovered ? `recovered ${r.timeToRecoverS} s after the ${r.since}: ${crit}` : `NOT recovered by ${r.watchedUntilS} s (after the ${r.since} at ${r.fromS} s): ${crit}`;
}

export function failoverFindings(rec: RunRecord, run: RunResult, d: Disturbance, ctx: FindingsContext): ScenarioResult {
  const before = phase(run, 'before')!;
  const down = phase(run, 'down');
  const after = phase(run, 'after')!;
  const own = run.phases.filter((p) => p.name !== 'recovery' && p.name !== 'warmup');
  const failed = own.reduce((s, p) => s + p.failed, 0);
  const errors: Record<string, number> = {};
  for (const p of own) for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + (v ?? 0);
  const window = errorWindow(run.series, Math.floor(before.startS), Math.ceil(after.endS));
  const killS = d.startMs / 1000;
  const worst = worstSecondP99(run.series, Math.floor(killS), Math.ceil(after.endS));
  const recovery = recoveryOf(rec, run, d, ctx);
  const beforeP99 = before.latencyMs.p99;
  return {
    name: 'failover', run: run.label,
    findings: {
      killAtS: killS, restartAtS: down === undefined ? null : d.endMs / 1000, commands: run.events,
      failedRequests: failed, errors, errorWindow: window,
      latencyImpact: {
        beforeP99Ms: beforeP99, downP99Ms: down?.latencyMs.p99 ?? null, afterP99Ms: after.latencyMs.p99, worstSecondP99Ms: worst,
        worstVsBefore: worst === null || beforeP99 === null || beforeP99 === 0 ? null : r3(worst / beforeP99),
      },
      phases: own, recovery,
    },
    summary: [
      ...own.map(phaseLine),
      `failed requests: ${failed}${failed > 0 ? ` (${Object.entries(errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}; error window: ${window === null ? 'none' : `${window.lengthS} s (seconds ${window.firstS}–${window.lastS}; kill at ${killS} s)`}`,
      `latency impact: p99 before ${ms(beforeP99)}, worst second after the kill ${ms(worst)}${down !== undefined ? `, down ${ms(down.latencyMs.p99)}` : ''}, after ${ms(after.latencyMs.p99)}`,
      ...run.events.map((e) => `${e.label} command at ${e.startedAtS} s: ${e.error ?? (e.exitCode === 0 ? 'exit 0' : `exit ${e.exitCode ?? e.signal}`)}${e.exitCode !== 0 && e.output !== '' ? ` — ${e.output.split('\n').pop()}` : ''}`),
      recoveryLine(recovery),
    ],
  };
}

export function recoveryFindings(rec: RunRecord, run: RunResult, d: Disturbance, ctx: FindingsContext): ScenarioResult {
  const r = recoveryOf(rec, run, d, ctx);
  const watch = phase(run, 'recovery');
  return {
    name: 'recovery' satisfies ScenarioName, run: run.label,
    findings: { disturbance: d.kind, ...r, watch: watch ?? null },
    summary: [recoveryLine(r), ...(watch === undefined ? [] : [phaseLine(watch)])],
  };
}
