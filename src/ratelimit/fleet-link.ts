/**
 * What a fleet-scoped limiter knows about its Redis link, kept by the sync loop (fleet-sync.ts)
 * and read on the request path without I/O: whether the last sync succeeded, the sync epoch
 * (bumped when the link comes back, so every key's lease is re-established), and how many
 * participants (worker processes of every node) share the limits — the fallback divides by it.
 */
export class FleetLink {
  healthy = false;
  epoch = 0;
  /** Worker processes that synced within the membership window, as of the last good sync (≥ 1). */
  private seen = 1;
  /** In a fleet: LB nodes in the membership × this node's workers (live, unlike `seen`). */
  private members: number | undefined;

  constructor(public intervalMs: number) {}

  /** A sync answered: healthy, with `participants` processes. */
  up(participants: number): void {
    if (!this.healthy) { this.healthy = true; this.epoch++; }
    this.seen = Math.max(1, participants);
  }

  /** The fleet membership's count of worker processes (nodes × workers), or undefined outside a fleet. */
  setMembers(n: number | undefined): void { this.members = n === undefined ? undefined : Math.max(1, n); }

  /** How many processes share a fleet limit: the membership's count in a fleet, else the count last seen in Redis. */
  get participants(): number { return this.members ?? this.seen; }

  /** A sync failed or Redis is unreachable: every fleet limit falls back to its per-process share. */
  down(): void { this.healthy = false; }
}
