import type { Clock } from '../util/clock.js';

/**
 * Flap damping of one region's health, a pure state machine (time from the injected clock):
 *
 *   up ──(raw down)──▶ down                      immediate: answers move at once
 *   down ──(raw up without a break for hold)──▶ up
 *
 * `hold` is `holdDownMs`, doubled for every further fall within `maxHoldDownMs` of the previous
 * one, up to `maxHoldDownMs` (a region that keeps flapping stays out longer). Until a region
 * has once fallen from up it follows the raw verdict: a fleet that starts (nodes registering one
 * by one) is not held back.
 */
export class RegionDamper {
  private state: 'up' | 'down' | undefined;
  private upSince: number | undefined;
  /** Falls in a row, each within the window of the one before; and when the last was. */
  private falls = 0;
  private lastFall = -Infinity;

  constructor(private readonly clock: Clock, private readonly holdDownMs: number, private readonly maxHoldDownMs: number) {}

  /** Feeds the raw verdict; returns the damped one. */
  update(rawUp: boolean): 'up' | 'down' {
    const now = this.clock.now();
    if (this.state === undefined) { this.state = rawUp ? 'up' : 'down'; if (rawUp) this.upSince = now; return this.state; }
    if (!rawUp) {
      if (this.state === 'up') {
        this.falls = now - this.lastFall < this.window() ? this.falls + 1 : 1;
        this.lastFall = now;
      }
      this.state = 'down';
      this.upSince = undefined;
      return this.state;
    }
    if (this.state === 'up') return this.state;
    if (this.falls === 0) { this.state = 'up'; return this.state; } // never up before (a fleet starting): nothing to damp
    this.upSince ??= now;
    if (now - this.upSince >= this.holdMs(now)) this.state = 'up';
    return this.state;
  }

  /** The hold-down that applies now (doubled per recent fall beyond the first). */
  holdMs(now = this.clock.now()): number {
    const doublings = now - this.lastFall < this.window() ? Math.max(0, this.falls - 1) : 0;
    return Math.min(this.holdDownMs * 2 ** Math.min(doublings, 30), this.window());
  }

  private window(): number { return Math.max(this.maxHoldDownMs, this.holdDownMs); }
}
