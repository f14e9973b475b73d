import { createHash } from 'node:crypto';
import { Gcra, type RateShape, type Verdict } from './gcra.js';
import { KeyTable } from './key-table.js';
import type { FleetLink } from './fleet-link.js';
import type { KeyFn } from './limit-key.js';
import type { RateLimitCounters } from '../observe/stats.js';

/*
 * One configured rate limit in one worker process: the GCRA state of its keys (local scope), or
 * for fleet scope the slice of each key's fleet-wide budget this process has leased from Redis.
 *
 * Fleet scope (the request path never waits for Redis): every `syncInterval` the sync loop
 * (fleet-sync.ts) settles each key this process saw with one Lua call per process — it takes
 * from the key's fleet-wide token bucket in Redis about 1.5× the demand of the last interval
 * (a lease), and gives back what an idle key still holds. A request is admitted from the lease.
 * A key not yet synced since the link came (back) up is decided by the per-process share
 * (rate ÷ participants) and what it admitted that way is debited at the next sync. Error bound:
 * the fleet admits at most rate × t + burst over any time t, plus at most one sync interval of
 * share-decided requests per key (≤ burst + rate × interval fleet-wide) when a key first appears,
 * which is debited afterwards (the bucket may go down to −burst). It admits less than the limit
 * while leases sit unused on idle processes (≤ 1.5 × one interval's demand per process, returned
 * at the next sync) and when a process's demand jumps (one interval until its lease grows).
 * Redis unreachable (`link.healthy` false): every key is decided by the per-process share,
 * counted in `counters.fallback`.
 */

/** A limit as the limiter runs it. `periodMs`, `rate` and `burst` are the node-wide (local) or fleet-wide (fleet) values. */
export interface LimitSettings {
  /** Unique per config: `route:NAME:LIMIT` or `service:NAME:LIMIT`. */
  readonly id: string;
  readonly name: string;
  readonly shape: RateShape;
  readonly scope: 'local' | 'fleet';
  readonly key: KeyFn;
}

/** One key's state. `tat`: GCRA state (local scope, or the share while unsynced / in fallback). */
export interface KeyState {
  tat: number;
  /** Requests refused (or that shadow mode would refuse) since the last top-list collection. */
  limited: number;
  // fleet scope only
  tokens: number;
  seen: number;
  unleased: number;
  epoch: number;
  dirty: boolean;
  /** Fleet-wide tokens left at the last sync, and the wait Redis gave when it had none. */
  globalLeft: number;
  retryMs: number;
}

/** A key as the admin API may show it: header and cookie values (API keys, sessions) are masked. */
export function shownKey(key: string): string {
  if (!key.startsWith('h:') && !key.startsWith('c:')) return key;
  return `${key.slice(0, 2)}${key.slice(2, 5)}…#${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

const newState = (): KeyState => ({ tat: 0, limited: 0, tokens: 0, seen: 0, unleased: 0, epoch: -1, dirty: false, globalLeft: 0, retryMs: 0 });


/**
 * One rate limit of one worker. `check` decides a request for a key without consuming anything
 * and returns the key's state; `commit` consumes it once every limit of the request passed (so
 * a request one limit refuses costs no other limit anything). `share` is how many processes
 * split a local limit (the node's workers); fleet limits split by `link.participants` only while
 * they fall back.
 */
export class RateLimiter {
  readonly table: KeyTable<KeyState>;
  /** Fleet keys touched since the last sync (bounded by the table cap). */
  dirty: [string, KeyState][] = [];
  private shareGcra: Gcra;
  private shareOf = 0;
  /** TAT the last `check` would store, and whether the share decided (read by `commit`). */
  private nextTat = 0;
  private viaShare = true;

  constructor(readonly settings: LimitSettings, readonly fingerprint: string,
    /** enforce: over the limit is refused; shadow: only counted. Set when the config it belongs to is activated. */
    public mode: 'enforce' | 'shadow', readonly counters: RateLimitCounters, maxKeys: number,
    private readonly workers: number, readonly link: FleetLink | null) {
    this.table = new KeyTable(maxKeys);
    this.shareGcra = this.gcraFor(settings.scope === 'local' ? workers : 1);
  }

  private gcraFor(parts: number): Gcra {
    const s = this.settings.shape;
    this.shareOf = parts;
    return new Gcra({ rate: s.rate / parts, periodMs: s.periodMs, burst: Math.max(1, Math.round(s.burst / parts)) });
  }

  /** Decides one request of `key` at `now` into `out` (nothing consumed); the key's state, for `commit`. */
  check(key: string, now: number, out: Verdict): KeyState {
    const e = this.table.touch(key, newState);
    const link = this.link;
    if (link !== null) { e.seen++; this.markDirty(key, e); }
    // The share decides: local limits; fleet limits while Redis is away, for a key not yet
    // synced, or one whose lease ran out while the fleet had tokens left (debited next sync).
    this.viaShare = link === null || !link.healthy || e.epoch !== link.epoch || (e.tokens < 1 && e.globalLeft >= 1);
    if (this.viaShare) {
      if (link !== null && !link.healthy) this.counters.fallback++;
      if (link !== null && this.shareOf !== link.participants) this.shareGcra = this.gcraFor(link.participants);
      this.nextTat = this.shareGcra.take(e.tat, now, out);
    } else {
      const shape = this.settings.shape;
      out.allowed = e.tokens >= 1;
      out.remaining = out.allowed ? Math.floor(e.tokens - 1 + e.globalLeft) : 0;
      out.retryAfterMs = out.allowed ? 0 : Math.max(e.retryMs, link!.intervalMs);
      out.resetMs = Math.max(0, shape.burst - out.remaining) * (shape.periodMs / shape.rate);
    }
    if (!out.allowed) e.limited++;
    return e;
  }

  /** Consumes what the last `check` of this key allowed. Call right after the checks of one request. */
  commit(e: KeyState): void {
    const link = this.link;
    if (!this.viaShare) { e.tokens--; return; }
    e.tat = this.nextTat;
    if (link === null) return;
    if (link.healthy) e.unleased++;
  }

  private markDirty(key: string, e: KeyState): void {
    if (e.dirty || this.dirty.length >= this.table.cap) return;
    e.dirty = true;
    this.dirty.push([key, e]);
  }

  /** Forgets keys whose state no longer matters (GCRA caught up, no lease held, nothing to settle). */
  sweep(now: number): void {
    this.table.sweep((e) => e.tat <= now && e.tokens <= 0 && e.unleased === 0 && !e.dirty && e.limited === 0);
  }

  /** The keys with the most refusals since the last call, most first; their counts start over. */
  takeTop(n: number): { key: string; limited: number }[] {
    const top: { key: string; limited: number }[] = [];
    for (const [key, e] of this.table.entries()) {
      if (e.limited === 0) continue;
      if (top.length < n || e.limited > top[top.length - 1].limited) {
        top.push({ key: shownKey(key), limited: e.limited });
        top.sort((a, b) => b.limited - a.limited);
        if (top.length > n) top.pop();
      }
      e.limited = 0;
    }
    return top;
  }
}
