/*
 * Millisecond-precise deadlines for many short-lived items with nearly the same delay (hedging:
 * every request of a service waits about the same learned delay). Items are queued in arrival
 * order and one timer is armed for the oldest; when it fires, every item whose time has come is
 * handed to `onDue`. No timer per item and no allocation per item beyond its slot in the queue —
 * unlike util/deadlines.ts, whose 100 ms sweep is too coarse for delays of a few milliseconds.
 * An item with an earlier time behind a later one (the delay shrank) fires with the later one.
 */

/** Something with a due time (ms on the queue's clock); `dueAt` 0 after it fired or was cancelled. */
export interface Due {
  dueAt: number;
}

/** Clock and timer, injected so tests need no sleeping. */
export interface DueTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
}

const realTimers: DueTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
};

/**
 * `new DueQueue(onDue)`; `add(item, delayMs)` sets `item.dueAt` and queues it; setting
 * `item.dueAt = 0` cancels it (the queue drops it when it reaches it). `onDue(item)` runs once,
 * from the timer, for each item still due.
 */
export class DueQueue<T extends Due> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private armedFor = 0;

  constructor(private readonly onDue: (item: T) => void, private readonly timers: DueTimers = realTimers) {}

  /** Items queued (cancelled ones included until the queue reaches them). */
  get size(): number { return this.items.length - this.head; }

  add(item: T, delayMs: number): void {
    item.dueAt = this.timers.now() + delayMs;
    this.items.push(item);
    if (this.armedFor === 0) this.arm(item.dueAt);
  }

  private arm(at: number): void {
    this.armedFor = at;
    this.timers.setTimeout(this.fire, Math.max(1, Math.ceil(at - this.timers.now())));
  }

  private readonly fire = (): void => {
    this.armedFor = 0;
    const t = this.timers.now();
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (item.dueAt === 0) { this.items[this.head++] = undefined; continue; }
      if (item.dueAt > t) break;
      this.items[this.head++] = undefined;
      item.dueAt = 0;
      this.onDue(item);
    }
    if (this.head === this.items.length) { this.items.length = 0; this.head = 0; return; }
    // Compact once the fired prefix dominates, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    this.arm(this.items[this.head]!.dueAt);
  };
}
