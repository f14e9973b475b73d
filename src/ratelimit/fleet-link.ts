/**
 * What a fleet-scoped limiter knows about its Redis link, kept by the sync loop (fleet-sync.ts)
 * and read on the request path without I/O: whether the last sync succeeded, the sync epoch
 * (bumped when the link comes back, so every key's lease is re-established), and how many
 * participants (worker processes of every node) shared the limits at the last sync.
 */
export class FleetLink {
  healthy = false;
  epoch = 0;
  /** Worker processes that synced within the membership window, as of the last good sync (≥ 1). */
  participants = 1;

  constructor(public intervalMs: number) {}

  /** A sync answered: healthy, with `participants` processes. */
  up(participants: number): void {
    if (!this.healthy) { this.healthy = true; this.epoch++; }
    this.participants = Math.max(1, participants);
  }

  /** A sync failed or Redis is unreachable: every fleet limit falls back to its per-process share. */
  down(): void { this.healthy = false; }
}
