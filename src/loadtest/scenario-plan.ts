import { SwitchyardError } from '../util/errors.js';
import type { RunSpec } from './generator.js';
import type { PhaseSpec } from './schedule.js';
import type { ScenarioName } from './result.js';
import type { TimedCommand } from './timed-commands.js';

/*
 * Which runs the chosen scenarios need (the design's "Load Testing Requirements"): baseline,
 * spike (factor× for a while, then back), soak, failover (a kill command during load, optional
 * restart). Recovery is a watch, not a load of its own: it is appended to the run of the
 * disturbance before it (failover if chosen, else spike) and lasts until throughput and p99 are
 * back (or the recovery timeout). Alone, it brings its own baseline and disturbance.
 */

export interface PlanOptions {
  rate: number;
  durationMs: number;
  spikeFactor: number;
  spikeDurationMs: number;
  soakDurationMs: number;
  killCmd?: string;
  /** Into the failover run; default a third of the duration. */
  killAtMs?: number;
  restartCmd?: string;
  /** Into the failover run; default two thirds of the duration. */
  restartAtMs?: number;
  recoveryTimeoutMs: number;
  /** Load at the run's rate before each run, in a phase named "warmup" that no finding uses (JIT, connection set-up). */
  warmupMs?: number;
}

/** The disturbance of a run, for the recovery analysis (ms since the run started). */
export interface Disturbance {
  kind: 'spike' | 'kill';
  startMs: number;
  /** When the disturbance was over: the spike's end, the restart, or (no restart) the kill. */
  endMs: number;
  /** `spike end`, `restart`, `kill`. */
  endLabel: string;
}

export interface PlannedRun {
  spec: RunSpec;
  /** Scenarios this run serves (failover + recovery share one timeline). */
  scenarios: ScenarioName[];
  disturbance?: Disturbance;
}

const usage = (msg: string) => new SwitchyardError('SWY_CLI_USAGE', msg, 'client');

function killTimes(o: PlanOptions): { killAt: number; restartAt?: number } {
  if (o.killCmd === undefined) throw usage('failover needs --kill-cmd (the command that kills an LB node or backend)');
  const killAt = o.killAtMs ?? Math.round(o.durationMs / 3);
  if (!(killAt > 0 && killAt < o.durationMs)) throw usage(`--kill-at must fall inside --duration (0 < ${killAt} ms < ${o.durationMs} ms)`);
  if (o.restartCmd === undefined) {
    if (o.restartAtMs !== undefined) throw usage('--restart-at needs --restart-cmd');
    return { killAt };
  }
  const restartAt = o.restartAtMs ?? Math.round((2 * o.durationMs) / 3);
  if (!(restartAt > killAt && restartAt < o.durationMs)) throw usage(`--restart-at must fall after --kill-at and inside --duration (${killAt} ms < ${restartAt} ms < ${o.durationMs} ms)`);
  return { killAt, restartAt };
}

/** Failover phases: before the kill, down (kill → restart), after. */
function failoverPhases(o: PlanOptions, tail: boolean): { phases: PhaseSpec[]; commands: TimedCommand[]; disturbance: Disturbance } {
  const { killAt, restartAt } = killTimes(o);
  const phases: PhaseSpec[] = [{ name: 'before', rate: o.rate, durationMs: killAt }];
  const commands: TimedCommand[] = [{ label: 'kill', atMs: killAt, cmd: o.killCmd! }];
  if (restartAt !== undefined) {
    phases.push({ name: 'down', rate: o.rate, durationMs: restartAt - killAt });
    commands.push({ label: 'restart', atMs: restartAt, cmd: o.restartCmd! });
  }
  const end = restartAt ?? killAt;
  if (tail) phases.push({ name: 'after', rate: o.rate, durationMs: o.durationMs - end });
  return { phases, commands, disturbance: { kind: 'kill', startMs: killAt, endMs: end, endLabel: restartAt !== undefined ? 'restart' : 'kill' } };
}

function spikePhases(o: PlanOptions, tail: boolean): { phases: PhaseSpec[]; disturbance: Disturbance } {
  const phases: PhaseSpec[] = [
    { name: 'before', rate: o.rate, durationMs: o.durationMs },
    { name: 'spike', rate: o.rate * o.spikeFactor, durationMs: o.spikeDurationMs },
  ];
  if (tail) phases.push({ name: 'after', rate: o.rate, durationMs: o.durationMs });
  return { phases, disturbance: { kind: 'spike', startMs: o.durationMs, endMs: o.durationMs + o.spikeDurationMs, endLabel: 'spike end' } };
}

const recoveryPhase = (o: PlanOptions): PhaseSpec => ({ name: 'recovery', rate: o.rate, durationMs: o.recoveryTimeoutMs, open: true });

/**
 * The runs for `scenarios`, in the design's order. Throws SWY_CLI_USAGE for impossible plans
 * (failover without --kill-cmd, kill or restart outside the duration), before anything runs.
 */
export function planRuns(scenarios: readonly ScenarioName[], o: PlanOptions): PlannedRun[] {
  const want = new Set(scenarios);
  const runs: PlannedRun[] = [];
  if (want.has('baseline')) runs.push({ spec: { label: 'baseline', phases: [{ name: 'baseline', rate: o.rate, durationMs: o.durationMs }], commands: [] }, scenarios: ['baseline'] });
  const recoveryFollows = want.has('recovery') ? (want.has('failover') ? 'failover' : want.has('spike') ? 'spike' : null) : null;
  if (want.has('spike')) {
    const { phases, disturbance } = spikePhases(o, true);
    if (recoveryFollows === 'spike') phases.push(recoveryPhase(o));
    runs.push({ spec: { label: 'spike', phases, commands: [] }, scenarios: recoveryFollows === 'spike' ? ['spike', 'recovery'] : ['spike'], disturbance });
  }
  if (want.has('soak')) runs.push({ spec: { label: 'soak', phases: [{ name: 'soak', rate: o.rate, durationMs: o.soakDurationMs }], commands: [] }, scenarios: ['soak'] });
  if (want.has('failover')) {
    const { phases, commands, disturbance } = failoverPhases(o, true);
    if (recoveryFollows === 'failover') phases.push(recoveryPhase(o));
    runs.push({ spec: { label: 'failover', phases, commands }, scenarios: recoveryFollows === 'failover' ? ['failover', 'recovery'] : ['failover'], disturbance });
  }
  if (want.has('recovery') && recoveryFollows === null) {
    // Alone: a kill if there is a kill command, else a spike; then the watch.
    const d = o.killCmd !== undefined ? failoverPhases(o, false) : { ...spikePhases(o, false), commands: [] };
    runs.push({ spec: { label: 'recovery', phases: [...d.phases, recoveryPhase(o)], commands: d.commands }, scenarios: ['recovery'], disturbance: d.disturbance });
  }
  const warm = o.warmupMs ?? 0;
  if (warm > 0) {
    for (const r of runs) {
      r.spec.phases.unshift({ name: 'warmup', rate: r.spec.phases[0].rate, durationMs: warm });
      for (const c of r.spec.commands) c.atMs += warm;
      if (r.disturbance !== undefined) r.disturbance = { ...r.disturbance, startMs: r.disturbance.startMs + warm, endMs: r.disturbance.endMs + warm };
    }
  }
  for (const r of runs) for (const p of r.spec.phases) if (p.durationMs <= 0) throw usage(`${r.spec.label}: phase "${p.name}" would last ${p.durationMs} ms; check --duration, --kill-at and --restart-at`);
  return runs;
}
