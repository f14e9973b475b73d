/*
 * The open-loop timeline: when each request is MEANT to be sent. Arrivals follow the plan whatever
 * the target does (constant rate per phase, evenly spaced), so a slow response cannot delay the
 * next request's intended time — latency is measured from these times, not from the actual send.
 */

/** One stretch of constant arrival rate. */
export interface PhaseSpec {
  name: string;
  /** Requests per second (0: no requests, the phase only passes time). */
  rate: number;
  /** Planned length; for an `open` phase, the longest it may last. */
  durationMs: number;
  /** May be ended early by `endOpenPhase` (e.g. the recovery watch ends once recovered). */
  open?: boolean;
}

export interface Arrival {
  /** Intended send time, ms since the run's start. */
  atMs: number;
  phase: number;
}

/**
 * Iterates the arrivals of consecutive phases: the k-th request of a phase starting at S with rate r
 * is due at S + k·1000/r (computed from k, so no drift accumulates). Not thread-shared; O(1) per call.
 */
export class ArrivalSchedule {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private phase = 0;
  private k = 0;
  private stopped = false;

  constructor(readonly phases: readonly PhaseSpec[]) {
    let t = 0;
    for (const p of phases) {
      if (!(p.rate >= 0) || !(p.durationMs >= 0)) throw new RangeError(`phase ${p.name}: rate and duration must be ≥ 0`);
      this.starts.push(t);
      t += p.durationMs;
      this.ends.push(t);
    }
  }

  /** Start and end (ms since run start) of phase `i`, as planned so far. */
  span(i: number): { startMs: number; endMs: number } {
    return { startMs: this.starts[i], endMs: this.ends[i] };
  }

  /** End of the whole timeline, as planned so far. */
  get endMs(): number {
    return this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1];
  }

  /** The phase whose span holds `ms` (the last phase past the end, the first before 0). */
  phaseAt(ms: number): number {
    for (let i = 0; i < this.ends.length; i++) if (ms < this.ends[i]) return i;
    return this.ends.length - 1;
  }

  /** The next arrival, or undefined when the timeline is over (or stopped). */
  next(): Arrival | undefined {
    while (!this.stopped && this.phase < this.phases.length) {
      const p = this.phases[this.phase];
      const at = p.rate > 0 ? this.starts[this.phase] + (this.k * 1000) / p.rate : Number.POSITIVE_INFINITY;
      if (at < this.ends[this.phase]) {
        this.k++;
        return { atMs: at, phase: this.phase };
      }
      this.phase++;
      this.k = 0;
    }
    return undefined;
  }

  /**
   * Ends open phase `i` at `atMs` (not before its start, not after its planned end); later phases
   * move up. Arrivals already handed out stay valid. Returns false if `i` is not open.
   */
  endOpenPhase(i: number, atMs: number): boolean {
    if (!this.phases[i]?.open) return false;
    const end = Math.min(this.ends[i], Math.max(this.starts[i], atMs));
    const shift = this.ends[i] - end;
    this.ends[i] = end;
    for (let j = i + 1; j < this.phases.length; j++) { this.starts[j] -= shift; this.ends[j] -= shift; }
    return true;
  }

  /** No more arrivals (an interrupted run); the spans keep their plan. */
  stop(): void {
    this.stopped = true;
  }
}
