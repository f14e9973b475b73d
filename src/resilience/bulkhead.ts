/*
 * Per-service bulkhead (scalability-and-reliability.md, "Bulkhead Pattern"): a service gets at most
 * `maxConcurrent` requests in flight and a bounded FIFO of waiters, so one slow service cannot take
 * every connection and event-loop turn from the others.
 *
 * Callback-based so the uncontended path allocates nothing (no promise, no ticket): `acquire` runs
 * `onGranted` synchronously when a slot is free. Only a request that has to wait gets a Ticket
 * (a node of an intrusive doubly-linked list, so `cancel` is O(1)) and a queue-timeout timer.
 */

/** Cancels a scheduled callback; calling it after the callback ran, or twice, is harmless. */
export type Cancel = () => void;

/** Runs `fn` once after `ms` milliseconds; returns a canceller. Injected so tests need no real time. */
export type Schedule = (fn: () => void, ms: number) => Cancel;

/** Production scheduler: an unref'd setTimeout (a pending queue timeout does not keep the process alive). */
export const timerSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** Why a queued or would-be-queued request was turned away. */
export type RejectReason = 'full' | 'timeout';

/** Options of a Bulkhead. */
export interface BulkheadOptions {
  /** Requests in flight at once, integer ≥ 1 (required). */
  readonly maxConcurrent: number;
  /** Waiters allowed in the FIFO, integer ≥ 0 (default 0: reject as soon as all slots are taken). */
  readonly maxQueued?: number;
  /** How long a waiter may wait before it is rejected with 'timeout', ms > 0, or Infinity for no limit (default 1000). */
  readonly queueTimeoutMs?: number;
}

declare const ticketBrand: unique symbol;

/** Handle of a queued request, for `cancel`. Opaque. */
export interface Ticket {
  readonly [ticketBrand]: true;
}

/** A waiter: list node, callbacks and its timer. */
class Waiter {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  /** True while in the queue (false once granted, rejected or cancelled). */
  queued = true;
  cancelTimer: Cancel | null = null;
  constructor(
    readonly owner: Bulkhead,
    readonly onGranted: () => void,
    readonly onRejected: (reason: RejectReason) => void,
  ) {}
}

/**
 * `new Bulkhead({ maxConcurrent, maxQueued = 0, queueTimeoutMs = 1000 }, schedule = timerSchedule)`.
 * Throws RangeError for invalid options. Counters are plain fields for metrics: `active`,
 * `queued`, `rejectedFull`, `rejectedTimeout`, `cancelled`, `unbalanced` (releases with no slot held).
 *
 * Callbacks run after the bulkhead's state is updated, so they may call acquire/release/cancel
 * re-entrantly; an exception from a callback propagates to the caller of the method that ran it.
 */
export class Bulkhead {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  /** Slots in use. */
  active = 0;
  /** Waiters in the queue. */
  queued = 0;
  /** Requests rejected because the queue was full. */
  rejectedFull = 0;
  /** Waiters rejected because they waited longer than queueTimeoutMs. */
  rejectedTimeout = 0;
  /** Waiters removed by cancel(). */
  cancelled = 0;
  /** release() calls with no slot in use (a caller bug; ignored, counted). */
  unbalanced = 0;
  private head: Waiter | null = null;
  private tail: Waiter | null = null;

  constructor(opts: BulkheadOptions, private readonly schedule: Schedule = timerSchedule) {
    const { maxConcurrent } = opts;
    const maxQueued = opts.maxQueued ?? 0;
    const queueTimeoutMs = opts.queueTimeoutMs ?? 1000;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`bulkhead maxConcurrent must be an integer ≥ 1, got ${maxConcurrent}`);
    }
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new RangeError(`bulkhead maxQueued must be an integer ≥ 0, got ${maxQueued}`);
    if (!(queueTimeoutMs > 0)) throw new RangeError(`bulkhead queueTimeoutMs must be > 0 (or Infinity), got ${queueTimeoutMs}`);
    this.maxConcurrent = maxConcurrent;
    this.maxQueued = maxQueued;
    this.queueTimeoutMs = queueTimeoutMs;
  }

  /**
   * Asks for a slot. Free slot (and nobody queued): takes it, runs `onGranted` synchronously and
   * returns null (hot path: no allocation). Otherwise, if fewer than maxQueued are waiting: queues
   * the request and returns its Ticket; `onGranted` runs later from `release()`, or
   * `onRejected('timeout')` from the timer after queueTimeoutMs. Queue full: runs
   * `onRejected('full')` synchronously and returns null. Exactly one callback runs per call,
   * unless the ticket is cancelled first. A granted request must call `release()` once.
   */
  acquire(onGranted: () => void, onRejected: (reason: RejectReason) => void): Ticket | null {
    if (this.active < this.maxConcurrent && this.head === null) {
      this.active++;
      onGranted();
      return null;
    }
    return this.enqueue(onGranted, onRejected);
  }

  /**
   * acquire's contended path, kept out of line so the uncontended path stays small: with it
   * inline, V8's optimised caller was measured allocating ~100 B per acquire/release pair once the
   * queue paths had run (bulkhead.test.ts checks this).
   */
  private enqueue(onGranted: () => void, onRejected: (reason: RejectReason) => void): Ticket | null {
    if (this.queued >= this.maxQueued) {
      this.rejectedFull++;
      onRejected('full');
      return null;
    }
    const w = new Waiter(this, onGranted, onRejected);
    w.prev = this.tail;
    if (this.tail === null) this.head = w;
    else this.tail.next = w;
    this.tail = w;
    this.queued++;
    if (this.queueTimeoutMs !== Infinity) w.cancelTimer = this.schedule(() => this.expire(w), this.queueTimeoutMs);
    return w as unknown as Ticket;
  }

  /**
   * Frees a slot held by a granted request and, if someone is queued, grants it to the oldest
   * waiter (running its onGranted synchronously). Hot path: no allocation. A release with no slot
   * in use is ignored and counted in `unbalanced`.
   */
  release(): void {
    if (this.active === 0) {
      this.unbalanced++;
      return;
    }
    this.active--;
    if (this.head !== null) this.grantNext();
  }

  /** release's contended path: hands the freed slot to the oldest waiter. */
  private grantNext(): void {
    const w = this.head;
    if (w === null || this.active >= this.maxConcurrent) return;
    this.unlink(w);
    this.active++;
    w.onGranted();
  }

  /**
   * Removes a queued request (its client went away) without running either callback. Returns
   * true if it was still queued; false if it was already granted, rejected or cancelled, or
   * belongs to another bulkhead (a granted request releases its slot with `release()` instead).
   */
  cancel(ticket: Ticket): boolean {
    const w = ticket as unknown as Waiter;
    if (!(w instanceof Waiter) || w.owner !== this || !w.queued) return false;
    this.unlink(w);
    this.cancelled++;
    return true;
  }

  /** Queue timeout of `w`. */
  private expire(w: Waiter): void {
    if (!w.queued) return;
    w.cancelTimer = null; // already fired
    this.unlink(w);
    this.rejectedTimeout++;
    w.onRejected('timeout');
  }

  /** Takes `w` out of the queue and stops its timer. */
  private unlink(w: Waiter): void {
    if (w.prev === null) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === null) this.tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = null;
    w.next = null;
    w.queued = false;
    this.queued--;
    const cancel = w.cancelTimer;
    if (cancel !== null) {
      w.cancelTimer = null;
      cancel();
    }
  }
}
