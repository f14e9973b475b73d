import type { Arrival } from './schedule.js';
import type { ErrorKind } from './error-kind.js';
import { encodeHistogram, mergeEncoded, phaseHistogram, recordMs, secondHistogram, summarize, type Histogram, type LatencySummary } from './latency-histogram.js';

/*
 * Everything one run measured. Two clocks, on purpose:
 * - a request's OUTCOME (ok or error kind, latency) belongs to the second and phase it was
 *   SCHEDULED in (its intended send time), so a kill at 20 s shows errors at 20 s even when the
 *   requests time out at 30 s;
 * - THROUGHPUT (done, ok), sends, dispatch lag and bytes belong to the second they HAPPENED in.
 * A second is closed (summarized, its histogram encoded) once it is over, nothing scheduled in it
 * is still in flight and no arrival due in it is still waiting to be sent.
 */

export type Outcome = { ok: true; bytes: number } | { ok: false; kind: ErrorKind; bytes: number };

/** One second of a run (t = seconds since the run started). */
export interface SecondPoint {
  t: number;
  /** Requests scheduled in this second (the offered load). */
  offered: number;
  /** Requests handed to the HTTP client in this second. */
  sent: number;
  /** Requests completed in this second, any outcome. */
  done: number;
  /** Successful responses completed in this second: the throughput. */
  ok: number;
  /** Requests scheduled in this second that failed, and how. */
  failed: number;
  errors: Partial<Record<ErrorKind, number>>;
  /** Latency (ms, from the intended send time) of the successful requests scheduled in this second. */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Worst lag of the generator behind its schedule in this second (ms). */
  lagMs: number;
  /** Most requests in flight at once in this second. */
  inFlight: number;
  /** Response bytes received in this second. */
  bytes: number;
}

interface ScheduledSecond { offered: number; outstanding: number; failed: number; errors: Partial<Record<ErrorKind, number>>; hist: Histogram }
interface WallSecond { sent: number; done: number; ok: number; lagMs: number; inFlight: number; bytes: number }
interface PhaseAcc { scheduled: number; ok: number; failed: number; errors: Partial<Record<ErrorKind, number>>; hist: Histogram; okDone: number; bytesDone: number }

/** A phase's totals, before the scenario adds its span. */
export interface PhaseTotals {
  scheduled: number;
  ok: number;
  failed: number;
  errors: Partial<Record<ErrorKind, number>>;
  latency: LatencySummary;
  /** Successful responses completed while the phase ran. */
  okDone: number;
  /** Response bytes received while the phase ran. */
  bytesDone: number;
}

/** Collects a run's measurements. Hot-path methods: dispatched, completed, noteLag. */
export class Recorder {
  readonly series: SecondPoint[] = [];
  /** Encoded per-second histograms, index = second (for window percentiles). */
  private readonly encoded: string[] = [];
  private readonly scheduled = new Map<number, ScheduledSecond>();
  private readonly wall = new Map<number, WallSecond>();
  private readonly phases: PhaseAcc[];
  private nextToClose = 0;

  constructor(phaseCount: number, private readonly onSecond?: (p: SecondPoint) => void) {
    this.phases = Array.from({ length: phaseCount }, () => ({ scheduled: 0, ok: 0, failed: 0, errors: {}, hist: phaseHistogram(), okDone: 0, bytesDone: 0 }));
  }

  private sched(s: number): ScheduledSecond {
    let x = this.scheduled.get(s);
    if (x === undefined) { x = { offered: 0, outstanding: 0, failed: 0, errors: {}, hist: secondHistogram() }; this.scheduled.set(s, x); }
    return x;
  }

  private wallAt(ms: number): WallSecond {
    const s = Math.floor(ms / 1000);
    let x = this.wall.get(s);
    if (x === undefined) { x = { sent: 0, done: 0, ok: 0, lagMs: 0, inFlight: 0, bytes: 0 }; this.wall.set(s, x); }
    return x;
  }

  /** A request of `a` was handed to the client at `nowMs`. */
  dispatched(a: Arrival, nowMs: number): void {
    const s = this.sched(Math.floor(a.atMs / 1000));
    s.offered++;
    s.outstanding++;
    this.phases[a.phase].scheduled++;
    this.wallAt(nowMs).sent++;
  }

  /** The generator's state at `nowMs`: how far behind schedule and how many requests are in flight. */
  noteLag(nowMs: number, lagMs: number, inFlight: number): void {
    const w = this.wallAt(nowMs);
    if (lagMs > w.lagMs) w.lagMs = lagMs;
    if (inFlight > w.inFlight) w.inFlight = inFlight;
  }

  /** The request of `a` finished at `doneMs` (during phase `donePhase`) with `outcome`. */
  completed(a: Arrival, doneMs: number, donePhase: number, outcome: Outcome): void {
    const s = this.sched(Math.floor(a.atMs / 1000));
    s.outstanding--;
    const p = this.phases[a.phase];
    const w = this.wallAt(doneMs);
    w.done++;
    w.bytes += outcome.bytes;
    this.phases[donePhase].bytesDone += outcome.bytes;
    if (outcome.ok) {
      const ms = doneMs - a.atMs;
      recordMs(s.hist, ms);
      recordMs(p.hist, ms);
      p.ok++;
      w.ok++;
      this.phases[donePhase].okDone++;
    } else {
      s.failed++;
      s.errors[outcome.kind] = (s.errors[outcome.kind] ?? 0) + 1;
      p.failed++;
      p.errors[outcome.kind] = (p.errors[outcome.kind] ?? 0) + 1;
    }
  }

  /**
   * Closes every finished second, in order: over by `nowMs`, before `horizonMs` (the intended time
   * of the next arrival not yet sent) and with nothing still in flight. Calls onSecond for each.
   */
  closeUpTo(nowMs: number, horizonMs: number): void {
    const limit = Math.min(nowMs, horizonMs);
    while ((this.nextToClose + 1) * 1000 <= limit) {
      const s = this.scheduled.get(this.nextToClose);
      if (s !== undefined && s.outstanding > 0) return;
      this.close(this.nextToClose);
    }
  }

  /**
   * Closes every second that starts before `endMs` (the end of the timeline), whatever is still in
   * flight (end of run: stragglers are dropped). Completions after the end still count in the phase
   * totals but make no second of their own (a near-empty last second would read as a throughput drop).
   */
  closeAll(endMs: number): void {
    const last = Math.ceil(endMs / 1000);
    while (this.nextToClose < last) this.close(this.nextToClose);
    this.scheduled.clear();
    this.wall.clear();
  }

  /** Seconds closed so far. */
  get closedSeconds(): number {
    return this.nextToClose;
  }

  private close(t: number): void {
    const s = this.scheduled.get(t);
    const w = this.wall.get(t);
    const lat = s === undefined ? null : summarize(s.hist);
    const point: SecondPoint = {
      t, offered: s?.offered ?? 0, sent: w?.sent ?? 0, done: w?.done ?? 0, ok: w?.ok ?? 0,
      failed: s?.failed ?? 0, errors: s?.errors ?? {},
      p50: lat?.p50 ?? null, p99: lat?.p99 ?? null, max: lat?.max ?? null,
      lagMs: Math.round((w?.lagMs ?? 0) * 10) / 10, inFlight: w?.inFlight ?? 0, bytes: w?.bytes ?? 0,
    };
    this.encoded[t] = s === undefined ? '' : encodeHistogram(s.hist);
    this.scheduled.delete(t);
    this.wall.delete(t);
    this.series.push(point);
    this.nextToClose = t + 1;
    this.onSecond?.(point);
  }

  /** Latency of the successful requests scheduled in closed seconds [fromS, toS). */
  windowLatency(fromS: number, toS: number): LatencySummary {
    return summarize(mergeEncoded(this.encoded.slice(Math.max(0, fromS), Math.min(toS, this.nextToClose))));
  }

  /** Totals of phase `i`. */
  phaseTotals(i: number): PhaseTotals {
    const p = this.phases[i];
    return { scheduled: p.scheduled, ok: p.ok, failed: p.failed, errors: p.errors, latency: summarize(p.hist), okDone: p.okDone, bytesDone: p.bytesDone };
  }
}
