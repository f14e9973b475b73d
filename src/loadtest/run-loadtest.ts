import { request } from 'undici';
import { SwitchyardError } from '../util/errors.js';
import { AdminSampler } from './admin-sampler.js';
import { judgeWindow, type RecoveryCriteria, type Reference } from './analysis.js';
import { kindOfError } from './error-kind.js';
import { runOpenLoop, type RunSpec, type TargetSpec } from './generator.js';
import type { ProgressReporter } from './progress.js';
import { measureCapacity, toRunResult, type LoadtestResult, type RunResult, type ScenarioName, type ScenarioResult } from './result.js';
import { baselineFindings, failoverFindings, recoveryFindings, referenceFromBaseline, soakFindings, spikeFindings, type FindingsContext } from './scenario-findings.js';
import { planRuns, type Disturbance, type PlanOptions } from './scenario-plan.js';

/*
 * `switchyard loadtest` without the CLI: checks the target (and admin API) answer, runs the planned
 * runs one after another, and turns each into its scenarios' findings. The baseline, when it runs,
 * is the reference that spike, failover and recovery are measured against.
 */

export interface LoadtestOptions extends PlanOptions {
  target: TargetSpec;
  scenarios: ScenarioName[];
  criteria: RecoveryCriteria;
  leakThresholdBytesPerHour: number;
  connectionLeakThresholdPerHour: number;
  slo: { p99Ms: number; errorRate: number };
  admin?: { url: URL; token?: string };
  sampleIntervalMs: number;
  commandTimeoutMs: number;
  /** The command line, recorded in the result. */
  command: string;
}

/** Fails fast, in one line, when nothing listens at the target. HTTP errors are fine: they are results. */
async function checkTarget(t: TargetSpec): Promise<void> {
  try {
    const r = await request(t.url, { method: t.method, headers: t.headers, body: t.body, headersTimeout: t.timeoutMs, bodyTimeout: t.timeoutMs });
    await r.body.dump();
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    throw new SwitchyardError('SWY_LOADTEST_TARGET', `cannot reach ${t.url.href}: ${code} (${kindOfError(e)})`, 'upstream');
  }
}

/** The reference while a run is still going: the baseline's, or this run's "before" phase. */
function liveReference(ctx: FindingsContext, totals: { okDone: number; latency: { p99: number | null } }, phaseS: number): Reference | undefined {
  if (ctx.reference !== undefined) return ctx.reference;
  if (totals.latency.p99 === null || phaseS <= 0) return undefined;
  return { throughput: totals.okDone / phaseS, p99Ms: totals.latency.p99, source: 'before' };
}

/** Ends the recovery watch once the latest hold window after the disturbance is within bounds. */
function recoveryWatch(d: Disturbance, ctx: FindingsContext): NonNullable<RunSpec['shouldEndOpenPhase']> {
  return (recorder, _phase, schedule) => {
    const s = recorder.closedSeconds - ctx.criteria.holdS;
    if (s < Math.ceil(d.endMs / 1000)) return false;
    const before = schedule.phases.findIndex((ph) => ph.name === 'before');
    const span = schedule.span(before);
    const ref = liveReference(ctx, recorder.phaseTotals(before), (span.endMs - span.startMs) / 1000);
    if (ref === undefined) return false;
    const v = judgeWindow(recorder, s, ref, ctx.criteria);
    return v.p99Ok && v.throughputOk;
  };
}

function warningsOf(run: RunResult): string[] {
  const w: string[] = [];
  const g = run.generator;
  if (g.behindSeconds > 0) w.push(`${run.label}: the generator ran more than ${g.behindThresholdMs} ms behind its schedule in ${g.behindSeconds} s (worst ${g.maxLagMs} ms): those requests left late, still timed from their intended send time; if this persists the generator is the bottleneck — lower --rate or split the load over several generators`);
  if (g.queuedSeconds > 0) w.push(`${run.label}: more requests were in flight than --connections in ${g.queuedSeconds} s (at most ${g.maxInFlight}): they waited for a free connection in the generator, which counts in their latency; raise --connections if the target should see that concurrency`);
  if (g.capSeconds > 0) w.push(`${run.label}: the in-flight cap (--max-in-flight) held requests back in ${g.capSeconds} s`);
  if (g.stragglers > 0) w.push(`${run.label}: ${g.stragglers} requests still in flight after the timeout past the end were dropped`);
  if (run.aborted) w.push(`${run.label}: interrupted; results are partial`);
  for (const e of run.events) if (e.exitCode !== 0) w.push(`${run.label}: ${e.label} command ${e.error ?? `exited ${e.exitCode ?? e.signal}`}: ${e.cmd}`);
  return w;
}

/** Runs the plan. Throws SwitchyardError (one line) for a bad plan or an unreachable target or admin API. */
export async function runLoadtest(o: LoadtestOptions, io: { progress: ProgressReporter; signal?: AbortSignal }): Promise<LoadtestResult> {
  const planned = planRuns(o.scenarios, o);
  const startedAt = new Date().toISOString();
  await checkTarget(o.target);
  const sampler = o.admin === undefined ? undefined : new AdminSampler(o.admin.url, o.admin.token);
  try {
    if (sampler !== undefined) await sampler.sampleOrThrow(0);
    const ctx: FindingsContext = { criteria: o.criteria, leakThresholdBytesPerHour: o.leakThresholdBytesPerHour, connectionLeakThresholdPerHour: o.connectionLeakThresholdPerHour };
    const runs: RunResult[] = [];
    const scenarios: ScenarioResult[] = [];
    const warnings: string[] = [];
    for (const p of planned) {
      if (io.signal?.aborted) break;
      if (p.scenarios.includes('recovery') && p.disturbance !== undefined) p.spec.shouldEndOpenPhase = recoveryWatch(p.disturbance, ctx);
      const plannedS = p.spec.phases.reduce((s, ph) => s + ph.durationMs, 0) / 1000;
      io.progress.message(`${p.spec.label}: ${p.spec.phases.map((ph) => `${ph.name} ${ph.rate}/s for ${ph.durationMs / 1000} s${ph.open ? ' (at most, until recovered)' : ''}`).join(', then ')}`);
      const rec = await runOpenLoop(o.target, p.spec, {
        sampler, sampleIntervalMs: o.sampleIntervalMs, commandTimeoutMs: o.commandTimeoutMs, signal: io.signal,
        onSecond: (pt, label, phase) => io.progress.second(pt, label, phase, plannedS),
        onCommand: (ev, state) => io.progress.message(state === 'started'
          ? `${p.spec.label}: ${ev.label} at ${ev.startedAtS.toFixed(1)} s: ${ev.cmd}`
          : `${p.spec.label}: ${ev.label} command ended at ${ev.exitedAtS ?? '?'} s: ${ev.error ?? `exit ${ev.exitCode ?? ev.signal}`}`),
      });
      io.progress.end();
      const run = toRunResult(rec);
      runs.push(run);
      warnings.push(...warningsOf(run));
      for (const name of p.scenarios) {
        let s: ScenarioResult;
        switch (name) {
          case 'baseline': s = baselineFindings(run); ctx.reference = referenceFromBaseline(run); break;
          case 'spike': s = spikeFindings(rec, run, p.disturbance!, ctx); break;
          case 'soak': s = soakFindings(rec, run, ctx); break;
          case 'failover': s = failoverFindings(rec, run, p.disturbance!, ctx); break;
          case 'recovery': s = recoveryFindings(rec, run, p.disturbance!, ctx); break;
        }
        scenarios.push(s);
      }
    }
    return {
      tool: 'switchyard-loadtest', formatVersion: 1, command: o.command, startedAt, finishedAt: new Date().toISOString(),
      target: { url: o.target.url.href, method: o.target.method, connections: o.target.connections, timeoutMs: o.target.timeoutMs },
      options: {
        scenarios: o.scenarios, rate: o.rate, durationS: o.durationMs / 1000, spikeFactor: o.spikeFactor, spikeDurationS: o.spikeDurationMs / 1000,
        soakDurationS: o.soakDurationMs / 1000, warmupS: (o.warmupMs ?? 0) / 1000, killCmd: o.killCmd ?? null, killAtS: o.killAtMs === undefined ? null : o.killAtMs / 1000,
        restartCmd: o.restartCmd ?? null, restartAtS: o.restartAtMs === undefined ? null : o.restartAtMs / 1000,
        recoveryTimeoutS: o.recoveryTimeoutMs / 1000, recovery: o.criteria, leakThresholdBytesPerHour: o.leakThresholdBytesPerHour,
        connectionLeakThresholdPerHour: o.connectionLeakThresholdPerHour, admin: o.admin?.url.href ?? null, sampleIntervalS: o.sampleIntervalMs / 1000,
        maxInFlight: o.target.maxInFlight, slo: o.slo,
      },
      runs, scenarios, capacity: measureCapacity(runs, o.slo), warnings,
    };
  } finally {
    await sampler?.close();
  }
}
