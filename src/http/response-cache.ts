/*
 * The degradation cache (scalability-and-reliability.md, "Graceful Degradation": all backends
 * down → return cached response): the last good copy of responses, kept in memory per worker, LRU
 * by bytes. It is not an HTTP cache that serves fresh hits: entries are only read back, stale, when
 * no backend can answer, and are then sent with `degradedHeaders` (Age + Warning 110).
 *
 * Response-side rules are applied here (what may be stored); request-side ones are the caller's:
 * store only responses to GET requests without `Authorization` (or `Cache-Control: no-store`),
 * and build the key from what selects the representation (method, host, path + query, and the
 * request headers named by the response's Vary, e.g. Accept-Encoding).
 */

/** Statuses stored: 200, 203 and the stable, heuristically cacheable 301, 308, 404, 410 (RFC 9110 §15.1). */
export const STALE_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([200, 203, 301, 308, 404, 410]);

/** Options of a ResponseCache. */
export interface ResponseCacheOptions {
  /** Accounted bytes of all entries (default 64 MiB); least recently used entries are evicted beyond it. */
  readonly maxBytes?: number;
  /** Accounted bytes of one entry (default 1 MiB); larger responses are not stored. */
  readonly maxEntryBytes?: number;
  /** Entries older than this (response age, ms) are never returned and are dropped (default 24 h). */
  readonly maxStaleMs?: number;
}

/** A stored response as getStale returns it. `headers` is flat [name, value, ...]; do not mutate it or `body`. */
export interface StaleResponse {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** Age of the response in whole seconds: upstream Age at store time + time held here. */
  readonly ageSeconds: number;
}

/** What `store` did: 'stored', or why not. */
export type StoreOutcome =
  | 'stored'
  /** Status not in STALE_CACHEABLE_STATUSES; an earlier entry for the key is kept. */
  | 'status'
  /** Cache-Control no-store, private, no-cache, must-revalidate or proxy-revalidate; an earlier entry is removed. */
  | 'cache-control'
  /** Vary: * (the response cannot be reused); an earlier entry is removed. */
  | 'vary'
  /** The response sets a cookie (replaying it to other clients would leak it); an earlier entry is removed. */
  | 'set-cookie'
  /** Larger than maxEntryBytes; an earlier entry is kept. */
  | 'too-large';

/** Fixed per-entry overhead counted against the byte limits (Map slot, entry object, arrays). */
export const ENTRY_OVERHEAD_BYTES = 128;

/** Hop-by-hop headers (RFC 9110 §7.6.1): not stored (the body is stored de-chunked). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

interface Entry {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** `now` passed to store, ms. */
  readonly storedAt: number;
  /** The upstream's Age header at store time, ms. */
  readonly initialAgeMs: number;
  /** Accounted size. */
  readonly bytes: number;
}

/**
 * `new ResponseCache({ maxBytes = 64 MiB, maxEntryBytes = 1 MiB, maxStaleMs = 24 h })`; RangeError
 * for a non-positive limit or maxEntryBytes > maxBytes. Single-threaded, per worker.
 *
 * An entry's accounted size is body bytes + characters of key and header names/values (header
 * strings are latin1, one byte per character on the wire) + ENTRY_OVERHEAD_BYTES.
 * `now` arguments are milliseconds from one clock (a monotonic Clock.now() is fine: only
 * differences are used). Counters: `size` (entries), `bytes`, `evictions` (LRU evictions).
 */
export class ResponseCache {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly maxStaleMs: number;
  /** Accounted bytes of all entries. */
  bytes = 0;
  /** Entries evicted to make room (not counting replacements, deletions or maxStale drops). */
  evictions = 0;
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry>();

  constructor(opts: ResponseCacheOptions = {}) {
    const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    const maxEntryBytes = opts.maxEntryBytes ?? 1024 * 1024;
    const maxStaleMs = opts.maxStaleMs ?? 24 * 60 * 60 * 1000;
    if (!(maxBytes > 0)) throw new RangeError(`response cache maxBytes must be > 0, got ${maxBytes}`);
    if (!(maxEntryBytes > 0 && maxEntryBytes <= maxBytes)) {
      throw new RangeError(`response cache maxEntryBytes must be > 0 and ≤ maxBytes, got ${maxEntryBytes}`);
    }
    if (!(maxStaleMs > 0)) throw new RangeError(`response cache maxStaleMs must be > 0, got ${maxStaleMs}`);
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxEntryBytes;
    this.maxStaleMs = maxStaleMs;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Offers a complete response for `key` (see the module comment for what the caller must check
   * first). `headers` is flat [name, value, ...]; `now` in ms. Stored when the status is in
   * STALE_CACHEABLE_STATUSES and Cache-Control/Vary/Set-Cookie allow it (see StoreOutcome, which
   * also says when an earlier entry is removed) and it fits maxEntryBytes; a stored entry replaces
   * the key's earlier one, becomes most recently used, and least recently used entries are evicted
   * until the total fits maxBytes. Copies the headers (without hop-by-hop ones) and the body, so
   * the caller may reuse its buffers. O(headers + body); called once per cacheable response, off
   * the request hot path. Does not throw.
   */
  store(key: string, status: number, headers: readonly string[], body: Buffer, now: number): StoreOutcome {
    if (!STALE_CACHEABLE_STATUSES.has(status)) return 'status';
    const scan = scanResponseHeaders(headers);
    if (scan.refusal !== undefined) {
      this.delete(key);
      return scan.refusal;
    }
    let bytes = ENTRY_OVERHEAD_BYTES + body.length + key.length;
    for (let i = 0; i < scan.kept.length; i++) bytes += scan.kept[i].length;
    if (bytes > this.maxEntryBytes) return 'too-large';
    // Own copy in its own ArrayBuffer: not a view pinning a larger (pooled) buffer, not shared with the caller.
    const copy = Buffer.allocUnsafeSlow(body.length);
    body.copy(copy);
    this.delete(key);
    this.entries.set(key, { status, headers: scan.kept, body: copy, storedAt: now, initialAgeMs: scan.ageSeconds * 1000, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k); // never `key` itself: it fits maxEntryBytes ≤ maxBytes and is last
      this.bytes -= e.bytes;
      this.evictions++;
    }
    return 'stored';
  }

  /**
   * The stored copy for `key`, whatever its freshness (the caller uses it because no backend can
   * answer), marking it most recently used; undefined when absent or when its age (upstream Age
   * at store time + now − stored time) exceeds maxStaleMs, in which case it is also dropped.
   * Allocates the small result object. Does not throw.
   */
  getStale(key: string, now: number): StaleResponse | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    const held = now - e.storedAt;
    const ageMs = e.initialAgeMs + (held > 0 ? held : 0);
    if (ageMs > this.maxStaleMs) {
      this.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return { status: e.status, headers: e.headers, body: e.body, ageSeconds: Math.floor(ageMs / 1000) };
  }

  /** Removes the entry for `key`; true if there was one. */
  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/**
 * Headers to send with a stale entry: its headers without any Age or Content-Length, then
 * `Content-Length: <body length>`, `Age: <ageSeconds>` and `Warning: 110 - "Response is Stale"`
 * (RFC 7234 §5.5.1; Warning is obsolete in RFC 9111 but still understood). New flat array.
 */
export function degradedHeaders(entry: StaleResponse): string[] {
  const out: string[] = [];
  const h = entry.headers;
  for (let i = 0; i < h.length; i += 2) {
    const lower = h[i].toLowerCase();
    if (lower === 'age' || lower === 'content-length') continue;
    out.push(h[i], h[i + 1]);
  }
  out.push('Content-Length', String(entry.body.length), 'Age', String(entry.ageSeconds), 'Warning', '110 - "Response is Stale"');
  return out;
}

/** Result of one pass over response headers. */
interface ResponseScan {
  refusal: 'cache-control' | 'vary' | 'set-cookie' | undefined;
  /** Headers to store (flat), without hop-by-hop ones. */
  kept: string[];
  /** Upstream Age in seconds (0 when absent or invalid). */
  ageSeconds: number;
}

/** Cache-Control response directives that forbid storing, or serving a stale copy (RFC 9111 §5.2.2). */
const FORBIDDING_DIRECTIVES = new Set(['no-store', 'private', 'no-cache', 'must-revalidate', 'proxy-revalidate']);

/** One pass over flat response headers: refusal reason, headers to keep, Age. */
function scanResponseHeaders(headers: readonly string[]): ResponseScan {
  const kept: string[] = [];
  let connection: string | undefined;
  let ageSeconds = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    const lower = name.toLowerCase();
    switch (lower) {
      case 'cache-control':
        if (cacheControlForbids(value)) return { refusal: 'cache-control', kept, ageSeconds };
        break;
      case 'vary':
        if (value.split(',').some((t) => t.trim() === '*')) return { refusal: 'vary', kept, ageSeconds };
        break;
      case 'set-cookie':
        return { refusal: 'set-cookie', kept, ageSeconds };
      case 'age':
        // RFC 9111 §5.1: delta-seconds; an invalid value is ignored.
        if (/^\d+$/.test(value.trim())) ageSeconds = Number(value.trim());
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        continue;
    }
    if (HOP_BY_HOP.has(lower)) continue;
    kept.push(name, value);
  }
  if (connection !== undefined) {
    // Headers nominated by Connection are hop-by-hop too (RFC 9110 §7.6.1).
    const nominated = new Set(connection.split(',').map((t) => t.trim().toLowerCase()));
    for (let i = kept.length - 2; i >= 0; i -= 2) if (nominated.has(kept[i].toLowerCase())) kept.splice(i, 2);
  }
  return { refusal: undefined, kept, ageSeconds };
}

/**
 * Whether one Cache-Control header value contains a directive that forbids keeping a stale copy:
 * no-store, private, no-cache, must-revalidate, proxy-revalidate — with or without an argument
 * (the qualified forms `private="set-cookie"` / `no-cache="x"` are treated like the bare ones).
 * Directive names are case-insensitive; quoted arguments may contain commas. Does not throw.
 */
export function cacheControlForbids(value: string): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    // Skip separators and whitespace before a directive.
    while (i < n && (value[i] === ',' || value[i] === ' ' || value[i] === '\t')) i++;
    const start = i;
    while (i < n && value[i] !== '=' && value[i] !== ',' && value[i] !== ' ' && value[i] !== '\t') i++;
    if (i > start && FORBIDDING_DIRECTIVES.has(value.slice(start, i).toLowerCase())) return true;
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    if (i < n && value[i] === '=') {
      i++;
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      if (value[i] === '"') {
        // Quoted string with backslash escapes.
        i++;
        while (i < n && value[i] !== '"') i += value[i] === '\\' ? 2 : 1;
        i++;
      }
    }
    // Skip to the next comma (rest of a token argument, or junk).
    while (i < n && value[i] !== ',') i++;
  }
  return false;
}
