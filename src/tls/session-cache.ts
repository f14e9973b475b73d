import { createHash } from 'node:crypto';
import type { Server, TLSSocket } from 'node:tls';
import type { Redis } from 'ioredis';
import { lazyModule } from '../util/lazy-module.js';
import { systemClock, type Clock } from '../util/clock.js';

const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

/*
 * The fleet-wide TLS 1.2 session-ID cache (the design's "L2 cache: TLS sessions, TTL 1 hour"):
 * a session made on any node resumes on any other. Resumption is an optimisation, so Redis is
 * never allowed to hold a handshake: a store is fire-and-forget, a lookup gives up after a few
 * tens of milliseconds, and a stalled Redis is bypassed for a while. Any failure just means a
 * full handshake. TLS 1.3 (and TLS 1.2 with tickets) resume statelessly through the shared
 * ticket keys of `ticket-keys.ts`, not through this cache.
 */

/** Redis key prefix of stored sessions; the session ID (hex) follows. */
export const DEFAULT_SESSION_KEY_PREFIX = 'switchyard:tls:sess:';
/** How long a session can be resumed: one hour, as the design says. */
export const DEFAULT_SESSION_TTL_MS = 3_600_000;
/** How long a handshake may wait for a Redis lookup before it goes on as a full handshake. */
export const DEFAULT_REDIS_TIMEOUT_MS = 75;

/** Optional log sink; called at most once per state change (never per handshake). */
export type CacheLog = (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;

/**
 * The TLS session ID context every node of a fleet must use (≤ 32 bytes, here 32 hex chars).
 * OpenSSL only resumes a session (by ID or ticket) whose context equals the server's, and Node's
 * default is a hash of `process.argv`: nodes started with different command lines (paths,
 * flags, config file names) would silently never resume each other's sessions. `scope` separates
 * listeners that must not share sessions (e.g. different client-certificate policies).
 */
export function sessionIdContext(scope = 'switchyard'): string {
  return createHash('sha256').update(`switchyard-tls-session:${scope}`).digest('hex').slice(0, 32);
}

/**
 * Options to spread into `tls.createServer(...)` AND into every `server.setSecureContext(...)`
 * (which otherwise resets `sessionIdContext` to the argv hash): the fleet's session ID context and
 * a session lifetime equal to the cache TTL (OpenSSL refuses sessions older than
 * `sessionTimeout`, Node's default being 300 s, whatever Redis still holds).
 */
export function resumptionServerOptions(opts: { scope?: string; ttlMs?: number } = {}): { sessionIdContext: string; sessionTimeout: number } {
  return { sessionIdContext: sessionIdContext(opts.scope), sessionTimeout: Math.ceil((opts.ttlMs ?? DEFAULT_SESSION_TTL_MS) / 1000) };
}

const watched = new WeakSet<Redis>();

/**
 * Gives a client an 'error' listener (ioredis reports every failed reconnect as an 'error' event)
 * and logs reachability once per change: warn when it goes down, info when it is back.
 * Idempotent per client; the cache and the ticket keys both call it.
 */
export function watchRedisHealth(redis: Redis, log: CacheLog = () => undefined): void {
  if (watched.has(redis)) return;
  watched.add(redis);
  let up: boolean | undefined;
  const down = (reason: string): void => {
    if (up === false) return;
    up = false;
    log('warn', 'tls resumption: redis unreachable; sessions from other nodes cannot resume until it is back', { reason });
  };
  redis.on('ready', () => { if (up !== true) { up = true; log('info', 'tls resumption: redis reachable'); } });
  redis.on('error', (err: Error) => down(err.message));
  redis.on('reconnecting', () => down('connection lost')); // not emitted after quit()/disconnect()
}

/**
 * An ioredis client fit for the handshake path: commands fail at once while disconnected (no
 * offline queue, no retry of in-flight commands), time out after `timeoutMs`, and the connection
 * is re-established in the background with back-off (50 ms doubling to 2 s). Never emits an
 * unhandled 'error'. The caller owns it and calls `quit()`/`disconnect()` at shutdown.
 */
export function createCacheRedis(url: string, opts: { timeoutMs?: number; log?: CacheLog } = {}): Redis {
  const redis = new (ioredis().Redis)(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    connectionName: 'switchyard-tls',
  });
  watchRedisHealth(redis, opts.log);
  return redis;
}

/**
 * Resolves true once the client is connected (at once if it already is), false after `timeoutMs`
 * or when the connection attempt fails. For start-up: commands sent before 'ready' fail at once
 * on a `createCacheRedis` client.
 */
export function redisReady(redis: Redis, timeoutMs = 2000): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onFail);
      redis.off('end', onFail);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const onFail = (): void => done(false);
    const timer = setTimeout(onFail, timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onFail);
    redis.on('end', onFail);
  });
}

/** Counters of one attached server since attach; read them any time (plain numbers). */
export interface SessionCacheStats {
  /** Handshakes that negotiated new keys (whatever the reason: new client, miss, Redis down). */
  fullHandshakes: number;
  /** Handshakes that resumed a session, by ID or by ticket. */
  resumedHandshakes: number;
  /** Lookups that found the session in Redis. */
  hits: number;
  /** Lookups Redis answered with nothing (includes TLS 1.3 clients' random legacy IDs). */
  misses: number;
  /** Lookups and stores that could not use Redis: disconnected, failed, timed out or bypassed. */
  errors: number;
  /** Sessions written to Redis. */
  stored: number;
}

export interface SessionCacheOptions {
  /** A client from `createCacheRedis` (or any ioredis client; it gets an 'error' listener). */
  redis: Redis;
  keyPrefix?: string;
  /** Lifetime of a stored session (SET PX); default one hour. Match the server's `sessionTimeout`. */
  ttlMs?: number;
  /** Longest wait of a handshake for Redis; default 75 ms. */
  timeoutMs?: number;
  /** After this many timeouts in a row Redis is considered stalled (default 3)… */
  stallAfter?: number;
  /** …and is left alone for this long (default 1000 ms): handshakes skip it entirely. */
  stallPauseMs?: number;
  log?: CacheLog;
  clock?: Clock;
}

/** The cache installed on one server. */
export interface SessionCache {
  readonly stats: Readonly<SessionCacheStats>;
  /** Removes the handlers from the server (the Redis client is left open: the caller owns it). */
  detach(): void;
}

const TLS13 = 0x0304;

/**
 * The protocol version inside a DER-encoded SSL_SESSION (what 'newSession' hands over):
 * SEQUENCE { INTEGER version, INTEGER ssl_version, ... }. Undefined if it does not parse.
 */
export function sessionProtocolVersion(der: Buffer): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  let i = 2;
  if (der[1] & 0x80) i += der[1] & 0x7f; // long-form length
  for (let field = 0; field < 2; field++) {
    if (der[i] !== 0x02) return undefined;
    const len = der[i + 1];
    if (len === undefined || len > 4 || i + 2 + len > der.length) return undefined;
    if (field === 1) return der.readUIntBE(i + 2, len);
    i += 2 + len;
  }
  return undefined;
}

/**
 * Installs Redis-backed `newSession`/`resumeSession` handlers on a TLS server (effective for
 * connections accepted from then on) and counts handshakes via 'secureConnection'.
 *
 * Never blocks a handshake on Redis: `newSession` lets the handshake go on at once and writes in
 * the background; `resumeSession` answers `null` (full handshake) when Redis is not connected,
 * fails, takes longer than `timeoutMs`, or has been stalling. TLS 1.3 sessions are not stored:
 * OpenSSL reports one per ticket, and TLS 1.3 resumes by ticket, never by ID.
 * Session-ID resumption only happens when the server issues no tickets to the client (e.g.
 * `secureOptions: SSL_OP_NO_TICKET`, or a client without ticket support); otherwise TLS 1.2
 * resumes by ticket as well.
 */
export function attachSessionCache(server: Server, opts: SessionCacheOptions): SessionCache {
  const { redis } = opts;
  const prefix = opts.keyPrefix ?? DEFAULT_SESSION_KEY_PREFIX;
  const ttlMs = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const stallAfter = opts.stallAfter ?? 3;
  const stallPauseMs = opts.stallPauseMs ?? 1000;
  const log = opts.log ?? (() => undefined);
  const clock = opts.clock ?? systemClock;
  watchRedisHealth(redis, log);

  const stats: SessionCacheStats = { fullHandshakes: 0, resumedHandshakes: 0, hits: 0, misses: 0, errors: 0, stored: 0 };
  let timeoutsInARow = 0;
  let stalledUntil = -Infinity;
  let stalled = false; // logged once until Redis answers again

  const usable = (): boolean => redis.status === 'ready' && clock.now() >= stalledUntil;
  const failed = (timeout: boolean): void => {
    stats.errors++;
    if (!timeout) return;
    if (++timeoutsInARow < stallAfter) return;
    timeoutsInARow = 0;
    stalledUntil = clock.now() + stallPauseMs;
    if (!stalled) log('warn', 'tls session cache: redis is not answering in time; skipping it for a while', { timeoutMs, pauseMs: stallPauseMs });
    stalled = true;
  };
  /** Settles once: with the reply, or as a failure when Redis errs or `timeoutMs` passes first. */
  const bounded = <T>(reply: Promise<T>, ok: (v: T) => void, fail: () => void): void => {
    let settled = false;
    const timer = setTimeout(() => { settled = true; failed(true); fail(); }, timeoutMs);
    reply.then((v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      timeoutsInARow = 0;
      if (stalled) log('info', 'tls session cache: redis answers in time again');
      stalled = false;
      ok(v);
    }, (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      failed(/timed out/i.test(err.message)); // ioredis's own commandTimeout
      fail();
    });
  };

  const onNewSession = (id: Buffer, data: Buffer, done: () => void): void => {
    done(); // the handshake never waits for the write
    if (sessionProtocolVersion(data) === TLS13) return;
    if (!usable()) { stats.errors++; return; }
    bounded(redis.set(prefix + id.toString('hex'), data, 'PX', ttlMs), () => { stats.stored++; }, () => undefined);
  };

  const onResumeSession = (id: Buffer, done: (err: Error | null, data: Buffer | null) => void): void => {
    if (!usable()) { stats.errors++; done(null, null); return; }
    bounded(redis.getBuffer(prefix + id.toString('hex')), (data) => {
      if (data === null) stats.misses++; else stats.hits++;
      done(null, data);
    }, () => done(null, null));
  };

  const onSecure = (socket: TLSSocket): void => {
    if (socket.isSessionReused()) stats.resumedHandshakes++; else stats.fullHandshakes++;
  };

  server.on('newSession', onNewSession);
  server.on('resumeSession', onResumeSession);
  server.on('secureConnection', onSecure);
  return {
    stats,
    detach(): void {
      server.off('newSession', onNewSession);
      server.off('resumeSession', onResumeSession);
      server.off('secureConnection', onSecure);
    },
  };
}
