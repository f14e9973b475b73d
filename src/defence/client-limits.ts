/*
 * Per-client connection limits at accept (nginx limit_conn, HAProxy's `sc_conn_cur` /
 * `sc_conn_rate`): how many connections one client key may hold open at once, and how many new
 * ones it may open per second (a token bucket: `rate` per second, up to `burst` at once). Pure:
 * the caller passes the time, so a unit test replays seconds in microseconds.
 *
 * Memory is bounded: a key holding no connection and a full bucket is forgotten at once (it is
 * the same as a key never seen), and past `maxTracked` keys the least recently seen idle ones are
 * dropped (forgetting a key only gives it a fresh burst). A key with open connections is never
 * dropped, and there are at most as many of those as the listener's connection cap.
 */

/** Settings of one listener's limits on one worker (already divided among workers). */
export interface ClientLimitSettings {
  /** Open connections per key; Infinity: no limit. */
  maxConnections: number;
  /** New connections per second per key; Infinity: no limit. */
  rate: number;
  /** Connections a key may open at once before `rate` applies (the bucket's size, >= 1). */
  burst: number;
  /** Keys remembered at most (idle ones beyond this are forgotten, least recent first). */
  maxTracked: number;
}

/** A refusal's reason, or `ok`. */
export type LimitVerdict = 'ok' | 'client-connections' | 'client-rate';

interface Entry { active: number; tokens: number; at: number }

/** The per-key state of one listener on one worker; `admit` and `release` pair up per connection. */
export class ClientLimiter {
  private readonly keys = new Map<string, Entry>();

  constructor(private settings: ClientLimitSettings) {}

  /** New settings (a reload); known keys keep their counts. */
  configure(s: ClientLimitSettings): void { this.settings = s; }

  get tracked(): number { return this.keys.size; }

  /** Counts a new connection of `key` at `nowMs`, or says why it is refused (nothing is counted then). */
  admit(key: string, nowMs: number): LimitVerdict {
    const s = this.settings;
    let e = this.keys.get(key);
    if (e === undefined) {
      e = { active: 0, tokens: s.burst, at: nowMs };
      if (this.keys.size >= s.maxTracked) this.evict();
    } else {
      this.keys.delete(key); // re-inserted below: the Map's order is least recently seen first
      e.tokens = Math.min(s.burst, e.tokens + ((nowMs - e.at) / 1000) * s.rate);
      e.at = nowMs;
    }
    let verdict: LimitVerdict = 'ok';
    if (e.active >= s.maxConnections) verdict = 'client-connections';
    else if (e.tokens < 1) verdict = 'client-rate';
    else { e.tokens -= 1; e.active++; }
    if (e.active > 0 || e.tokens < s.burst) this.keys.set(key, e);
    return verdict;
  }

  /** A connection `admit` counted has closed. */
  release(key: string, nowMs: number): void {
    const e = this.keys.get(key);
    if (e === undefined || e.active === 0) return;
    e.active--;
    if (e.active === 0) {
      e.tokens = Math.min(this.settings.burst, e.tokens + ((nowMs - e.at) / 1000) * this.settings.rate);
      e.at = nowMs;
      if (e.tokens >= this.settings.burst) this.keys.delete(key);
    }
  }

  /** Drops idle keys, least recently seen first, until there is room for one more (keys with open connections stay). */
  private evict(): void {
    for (const [k, e] of this.keys) {
      if (this.keys.size < this.settings.maxTracked) return;
      if (e.active === 0) this.keys.delete(k);
    }
  }
}
