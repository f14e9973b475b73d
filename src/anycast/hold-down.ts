import type { Clock } from '../util/clock.js';

/*
 * Flap damping of the announcement (ExaBGP healthcheck's `rise`, as a time): a node announces
 * only once it has been ready for `holdDownMs` without a break; any loss of readiness withdraws
 * at once and starts the hold-down over. Pure state machine, time from the injected clock.
 */

/** What the announcement should be now, and why. `recheckInMs`: ask again after this long (hold-down running). */
export interface GateDecision { announce: boolean; reason: string; recheckInMs?: number }

/** Decides announce/withdraw from a stream of readiness verdicts. */
export class AnnounceGate {
  private readySince: number | undefined;

  constructor(private readonly clock: Clock, private holdDownMs: number) {}

  /** A reload may change the hold-down; a hold-down already running is measured against the new value. */
  setHoldDown(ms: number): void { this.holdDownMs = ms; }

  /** Feeds the current readiness; returns the announcement it calls for. */
  update(ready: boolean, reason: string): GateDecision {
    const now = this.clock.now();
    if (!ready) {
      this.readySince = undefined;
      return { announce: false, reason };
    }
    this.readySince ??= now;
    const waited = now - this.readySince;
    if (waited >= this.holdDownMs) return { announce: true, reason: 'ready' };
    return {
      announce: false,
      // Stable while it runs (the fleet record is rewritten when the reason changes).
      reason: `hold-down: ready, announcing after ${(this.holdDownMs / 1000).toFixed(1)} s without a break`,
      recheckInMs: this.holdDownMs - waited,
    };
  }
}
