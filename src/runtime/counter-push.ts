import { countersSnapshot, type TrafficStats } from '../observe/stats.js';
import type { BackendTraffic, FromWorker } from './messages.js';

/**
 * How often a worker pushes its counters to the primary between collections: what a worker that
 * is killed outright (SIGKILL, crash) counted in its last this-many ms is missing from the node's totals.
 */
export const COUNTERS_PUSH_MS = 100;

/** A service as a push needs it: its name and its endpoints' try counters. */
export interface CountedService { name: string; endpoints: readonly { key: string; traffic: TrafficStats }[] }

export type CountersMessage = Extract<FromWorker, { type: 'counters' }>;

/**
 * A worker's counter pushes: every counter of the worker, and only the backends whose counts
 * moved since the previous push (a node may have thousands of backends, few of them busy in
 * 100 ms). Values are absolute — the primary keeps the latest — so a repeated push costs nothing.
 */
export class CounterPush {
  /** Per endpoint, its request count in the last push (every try counts a request). */
  private readonly pushed = new WeakMap<object, number>();
  private lastCounters = '';

  /** The next push, or null when nothing moved since the last one. */
  next(services: Iterable<CountedService>): CountersMessage | null {
    const backends: BackendTraffic[] = [];
    for (const s of services) {
      for (const e of s.endpoints) {
        if (this.pushed.get(e) === e.traffic.requests) continue;
        this.pushed.set(e, e.traffic.requests);
        backends.push({ service: s.name, key: e.key, traffic: e.traffic.snapshot() });
      }
    }
    const counters = countersSnapshot();
    const text = JSON.stringify(counters);
    if (backends.length === 0 && text === this.lastCounters) return null;
    this.lastCounters = text;
    return { type: 'counters', counters, backends };
  }
}
