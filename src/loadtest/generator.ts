import { Pool } from 'undici';
import { systemClock, type Clock } from '../util/clock.js';
import { kindOfError, kindOfStatus } from './error-kind.js';
import { Recorder, type Outcome, type SecondPoint } from './recorder.js';
import { ArrivalSchedule, type Arrival, type PhaseSpec } from './schedule.js';
import { runTimedCommand, type CommandEvent, type TimedCommand } from './timed-commands.js';
import type { AdminSample, AdminSampler } from './admin-sampler.js';

/*
 * The open-loop generator. Requests leave on the schedule's timeline whatever the target does;
 * a request's latency runs from its INTENDED send time, so when the target stalls, every request
 * that should have gone out meanwhile carries the stall (no coordinated omission). When the
 * generator itself cannot keep up (event loop busy, or the in-flight cap reached), requests go
 * out late, still timed from their intended time, and the lag is recorded and reported.
 */

/** Where and what to send. */
export interface TargetSpec {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Connections of the undici Pool (requests beyond them queue in the client, timed all the same). */
  connections: number;
  /** Headers and body timeout per request, and connect timeout. */
  timeoutMs: number;
  /** Requests in flight at most; beyond it the generator falls behind (and says so). */
  maxInFlight: number;
}

/** One continuous run: consecutive phases plus commands started at planned times. */
export interface RunSpec {
  label: string;
  phases: PhaseSpec[];
  commands: TimedCommand[];
  /** While an open phase runs, called after each closed second; true ends that phase at the next whole second. */
  shouldEndOpenPhase?: (recorder: Recorder, phase: number, spans: ArrivalSchedule) => boolean;
}

export interface RunHooks {
  clock?: Clock;
  /** After each closed second (progress line). */
  onSecond?: (p: SecondPoint, label: string, phase: string) => void;
  /** When a command starts and when it ends. */
  onCommand?: (ev: CommandEvent, state: 'started' | 'ended') => void;
  sampler?: AdminSampler;
  sampleIntervalMs?: number;
  commandTimeoutMs?: number;
  /** Aborting stops scheduling; in-flight requests finish and the partial run is returned. */
  signal?: AbortSignal;
}

/** The last stretch before an arrival that is waited out with setImmediate instead of a timer (ms). */
const SPIN_MS = 1;

/** A second counts as "behind" when the generator sent something this late (ms). */
export const BEHIND_THRESHOLD_MS = 25;

export interface GeneratorStats {
  /** Requests handed to the client. */
  sent: number;
  /** Requests still in flight when the run gave up waiting (counted nowhere else). */
  stragglers: number;
  maxLagMs: number;
  /** Seconds in which the generator was more than BEHIND_THRESHOLD_MS behind its schedule. */
  behindSeconds: number;
  behindThresholdMs: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Seconds in which the in-flight cap held requests back. */
  capSeconds: number;
  /** Seconds in which more requests were in flight than connections: the excess waited in the client's queue. */
  queuedSeconds: number;
}

export interface RunRecord {
  label: string;
  startedAt: string;
  durationS: number;
  /** Phases as they ran (an open phase may have ended early). */
  phases: { name: string; rate: number; startS: number; endS: number }[];
  recorder: Recorder;
  events: CommandEvent[];
  admin: AdminSample[];
  generator: GeneratorStats;
  aborted: boolean;
}

/** Runs `spec` against `target` and resolves with everything measured. Rejects only on programming errors. */
export async function runOpenLoop(target: TargetSpec, spec: RunSpec, hooks: RunHooks = {}): Promise<RunRecord> {
  const clock = hooks.clock ?? systemClock;
  const schedule = new ArrivalSchedule(spec.phases);
  const pool = new Pool(target.url.origin, {
    connections: target.connections, pipelining: 1,
    headersTimeout: target.timeoutMs, bodyTimeout: target.timeoutMs, connect: { timeout: target.timeoutMs },
  });
  const path = `${target.url.pathname}${target.url.search}`;
  const stats: GeneratorStats = { sent: 0, stragglers: 0, maxLagMs: 0, behindSeconds: 0, behindThresholdMs: BEHIND_THRESHOLD_MS, maxInFlight: 0, capSeconds: 0, queuedSeconds: 0 };
  const events: CommandEvent[] = [];
  const admin: AdminSample[] = [];
  const pendingWork: Promise<unknown>[] = [];
  const commands = [...spec.commands].sort((a, b) => a.atMs - b.atMs);
  const startedAt = new Date().toISOString();
  const t0 = clock.now();
  const now = () => clock.now() - t0;
  let inFlight = 0;
  let capSecond = -1;
  let aborted = false;

  const recorder = new Recorder(spec.phases.length, (p) => {
    if (p.lagMs > BEHIND_THRESHOLD_MS) stats.behindSeconds++;
    if (p.inFlight > target.connections) stats.queuedSeconds++;
    stats.maxLagMs = Math.max(stats.maxLagMs, p.lagMs);
    const phase = schedule.phaseAt(p.t * 1000);
    hooks.onSecond?.(p, spec.label, spec.phases[phase].name);
    // The open phase (recovery watch) ends at the next whole second once its condition holds.
    const current = schedule.phaseAt(now());
    if (spec.phases[current].open && spec.shouldEndOpenPhase?.(recorder, current, schedule)) {
      schedule.endOpenPhase(current, Math.ceil(now() / 1000) * 1000);
    }
  });

  let wake: (() => void) | undefined;
  const send = (a: Arrival, at: number): void => {
    inFlight++;
    stats.sent++;
    if (inFlight > stats.maxInFlight) stats.maxInFlight = inFlight;
    recorder.dispatched(a, at);
    void exchange().then((outcome) => {
      const done = now();
      inFlight--;
      recorder.completed(a, done, schedule.phaseAt(done), outcome);
      if (inFlight === 0 || inFlight === target.maxInFlight - 1) wake?.();
    });
  };
  const exchange = async (): Promise<Outcome> => {
    let bytes = 0;
    try {
      const r = await pool.request({ path, method: target.method, headers: target.headers, body: target.body });
      for await (const chunk of r.body) bytes += (chunk as Buffer).length;
      const kind = kindOfStatus(r.statusCode);
      return kind === null ? { ok: true, bytes } : { ok: false, kind, bytes };
    } catch (e) {
      return { ok: false, kind: kindOfError(e), bytes };
    }
  };

  const sampler = hooks.sampler;
  const sampleTimer = sampler === undefined ? undefined : setInterval(() => {
    pendingWork.push(sampler.sample(Math.round(now()) / 1000).then((s) => { admin.push(s); }));
  }, hooks.sampleIntervalMs ?? 10_000);
  if (sampler !== undefined) pendingWork.push(sampler.sample(0).then((s) => { admin.push(s); }));
  const onAbort = () => { aborted = true; schedule.stop(); wake?.(); };
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  if (hooks.signal?.aborted) onAbort();

  // The dispatch loop: send everything due, note the lag, start due commands, close finished seconds.
  let next = schedule.next();
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopAt: number | undefined;
    const tick = () => {
      wake = undefined;
      clearTimeout(timer);
      const t = now();
      let lag = 0;
      while (next !== undefined && next.atMs <= t && inFlight < target.maxInFlight) {
        lag = Math.max(lag, t - next.atMs);
        send(next, t);
        next = schedule.next();
      }
      const capped = next !== undefined && next.atMs <= t;
      if (capped) {
        lag = Math.max(lag, t - next!.atMs); // held back by the in-flight cap
        const s = Math.floor(t / 1000);
        if (s !== capSecond) { capSecond = s; stats.capSeconds++; }
      }
      recorder.noteLag(t, lag, inFlight);
      while (commands.length > 0 && commands[0].atMs <= t && !aborted) {
        const c = commands.shift()!;
        const placeholder = { label: c.label, cmd: c.cmd, plannedAtS: c.atMs / 1000, startedAtS: Math.round(t) / 1000, exitedAtS: null, exitCode: null, signal: null, output: '' };
        hooks.onCommand?.(placeholder, 'started');
        pendingWork.push(runTimedCommand(c, t, now, hooks.commandTimeoutMs ?? 60_000).then((ev) => { events.push(ev); hooks.onCommand?.(ev, 'ended'); }));
      }
      recorder.closeUpTo(t, next?.atMs ?? Number.POSITIVE_INFINITY);
      const timelineOver = next === undefined && t >= schedule.endMs;
      if ((timelineOver || aborted) && inFlight === 0) { resolve(); return; }
      // Sleep until the next arrival, but wake at least every 100 ms (commands, closing, progress).
      // Timers fire up to ~1 ms late, so the last millisecond is waited out with setImmediate:
      // otherwise every request would start up to 1 ms after its intended time.
      // (Held back by the cap, a completion wakes the loop; no spinning.)
      const untilNext = next === undefined || capped ? 100 : next.atMs - t;
      wake = tick;
      if (untilNext <= SPIN_MS) { timer = undefined; setImmediate(() => { if (wake === tick) tick(); }); }
      else timer = setTimeout(tick, Math.min(untilNext - SPIN_MS, 100));
      // Past the end, stop waiting for stragglers after the request timeout.
      if ((timelineOver || aborted) && t > Math.max(schedule.endMs, stopAt ??= t) + target.timeoutMs + 1000) {
        clearTimeout(timer);
        wake = undefined;
        stats.stragglers = inFlight;
        resolve();
      }
    };
    tick();
  });

  clearInterval(sampleTimer);
  hooks.signal?.removeEventListener('abort', onAbort);
  const endMs = Math.max(now(), schedule.endMs);
  recorder.closeAll(aborted ? now() : schedule.endMs);
  await Promise.all(pendingWork);
  await pool.destroy();
  admin.sort((a, b) => a.t - b.t);
  const ranUntil = aborted ? now() : schedule.endMs;
  return {
    label: spec.label, startedAt, durationS: Math.round(endMs) / 1000,
    phases: spec.phases.map((p, i) => {
      const { startMs, endMs: e } = schedule.span(i);
      return { name: p.name, rate: p.rate, startS: Math.min(startMs, ranUntil) / 1000, endS: Math.min(e, ranUntil) / 1000 };
    }),
    recorder, events, admin, generator: stats, aborted,
  };
}
