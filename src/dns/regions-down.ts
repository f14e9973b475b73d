/**
 * The regions the fleet holds down right now, as this process last heard from its primary
 * (runtime/messages.ts `regions`); every DNS listener of the process reads it per query.
 */
class RegionsDown {
  private down: ReadonlySet<string> = new Set();

  /** The current set (replaced, never mutated: a reader may keep it for one query). */
  get current(): ReadonlySet<string> { return this.down; }

  set(regions: readonly string[]): void { this.down = new Set(regions); }
}

/** This process's view (one per worker). */
export const regionsDown = new RegionsDown();
