/**
 * One coarse timer for every timeout of the fast engines (client head/request/idle, upstream
 * connect/response/body/idle; L4 connect, prelude and idle): items register once and set
 * `deadline` (ms, 0 = none) as their phase changes; a 100 ms sweep fires the ones that passed.
 * No timer is armed per request or connection.
 */
import { SlotList } from './slot-list.js';

export interface Timed {
  deadline: number;
  /** The item's place in the sweep's list; -1 (the initial value) when not tracked. */
  sweepSlot: number;
  onDeadline(): void;
}

/** A SlotList, not a Set: an item per connection or request would be promoted with it (see slot-list.ts). */
const items = new SlotList<'sweepSlot', Timed>('sweepSlot');
let timer: NodeJS.Timeout | undefined;
let coarseNow = performance.now();

/** Milliseconds, refreshed by the sweep and on demand (resolution about 100 ms). */
export function now(): number {
  return coarseNow;
}

/** Refreshes the coarse clock; cheap enough to call once per request. */
export function tick(): number {
  coarseNow = performance.now();
  return coarseNow;
}

function sweep(): void {
  // Stopped here rather than in untrack: a set that empties and refills between connections
  // would otherwise re-arm the interval for every one of them.
  if (items.size === 0 && timer !== undefined) { clearInterval(timer); timer = undefined; return; }
  const t = tick();
  items.forEach((item) => {
    if (item.deadline !== 0 && t >= item.deadline) {
      item.deadline = 0;
      item.onDeadline();
    }
  });
}

export function track(item: Timed): void {
  items.add(item);
  if (timer === undefined) {
    timer = setInterval(sweep, 100);
    timer.unref();
  }
}

export function untrack(item: Timed): void {
  items.delete(item);
}
