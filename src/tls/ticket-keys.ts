import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { SecureContext, Server } from 'node:tls';
import type { Redis } from 'ioredis';
import { redisReady, watchRedisHealth, type CacheLog } from './session-cache.js';

/*
 * Session-ticket keys shared by the fleet through Redis, so a ticket (TLS 1.3, or TLS 1.2 with
 * tickets) issued by one node resumes on any other. Keys rotate on a schedule; a node encrypts
 * with `current` and decrypts tickets under `current`, `next` and `previous`:
 *
 *   rotation N:  previous = K(N-1)   current = K(N)    next = K(N+1)
 *   rotation N+1:previous = K(N)     current = K(N+1)  next = K(N+2)
 *
 * `next` is published one interval before any node encrypts with it, so the node that rotates
 * first issues tickets every other node can already read, although they learn of the rotation
 * only at their next poll. `previous` keeps tickets issued just before a rotation valid for one
 * more interval (keep the interval ≥ the session lifetime); they are accepted with "renew", so the
 * client gets a fresh ticket under the current key.
 *
 * The Redis record is one hash (gen, created, previous, current, next), changed only by a Lua
 * script that also decides whether a rotation is due, using Redis's clock: rotations are atomic,
 * happen once per interval fleet-wide, and node clock skew does not matter.
 *
 * Node's public API holds a single key per context (`setTicketKeys`). To accept several, this
 * uses the internal hook Node's own tests use (`SecureContext#enableTicketKeyCallback` +
 * `onticketkeycallback`), verified on Node 20 for TLS 1.2 and 1.3, with and without SNICallback
 * contexts (Node's SNI copies only certificate and key into the connection; tickets stay with the
 * server's default context). Without the hook it falls back to `setTicketKeys(current)`.
 */

/** Redis key of the fleet's ticket-key record. */
export const DEFAULT_TICKET_KEYS_KEY = 'switchyard:tls:ticket-keys';
/** How often the fleet's encryption key changes. */
export const DEFAULT_ROTATE_EVERY_MS = 12 * 3_600_000;
/** How often a node asks Redis for the record (and rotates it when due). */
export const DEFAULT_POLL_EVERY_MS = 5000;
/** Longest wait for one poll (off the handshake path). */
const SYNC_TIMEOUT_MS = 1000;

const ROTATE_SCRIPT = `
local h = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gen = tonumber(redis.call('HGET', h, 'gen') or '0')
local created = tonumber(redis.call('HGET', h, 'created') or '0')
if gen == 0 then
  redis.call('DEL', h)
  redis.call('HSET', h, 'gen', 1, 'created', now, 'current', ARGV[2], 'next', ARGV[3])
elseif now - created >= tonumber(ARGV[1]) or (ARGV[4] ~= '' and tonumber(ARGV[4]) == gen) then
  local cur = redis.call('HGET', h, 'current')
  local nxt = redis.call('HGET', h, 'next')
  redis.call('HSET', h, 'gen', gen + 1, 'created', now, 'previous', cur, 'current', nxt, 'next', ARGV[2])
end
local r = redis.call('HMGET', h, 'gen', 'created', 'previous', 'current', 'next')
return {tonumber(r[1]), tonumber(r[2]), r[3], r[4], r[5]}
`;
const SCRIPT_NAME = 'switchyardTicketKeys';
type ScriptReply = [number, number, Buffer | null, Buffer | null, Buffer | null];
interface ScriptClient { switchyardTicketKeysBuffer(key: string, rotateMs: number, a: Buffer, b: Buffer, forceGen: string): Promise<ScriptReply> }

/** The keys a node uses; each key is 48 bytes: 16 name, 16 HMAC secret, 16 AES-128 key. */
export interface TicketKeySet {
  /** Fleet generation; 0 for a node-local key (Redis never reached). */
  readonly generation: number;
  /** Redis time (ms) when `current` became current; 0 for a local key. */
  readonly createdAt: number;
  readonly current: Buffer;
  readonly next?: Buffer;
  readonly previous?: Buffer;
  /** True once the keys come from Redis (every node has them). */
  readonly shared: boolean;
}

/** How a server got the keys: the multi-key hook, or the single-key public API. */
export type TicketKeyMode = 'callback' | 'set-ticket-keys';

export interface TicketKeyStats {
  /** Tickets encrypted (callback mode only). */
  issued: number;
  /** Tickets decrypted with the current or next key. */
  accepted: number;
  /** Tickets decrypted with an older key and renewed. */
  renewed: number;
  /** Tickets under an unknown key (full handshake). */
  rejected: number;
  /** Polls that reached Redis / that failed. */
  syncs: number;
  syncErrors: number;
}

export interface SharedTicketKeysOptions {
  /** Shared with the session cache is fine (`createCacheRedis`); it gets an 'error' listener. */
  redis: Redis;
  key?: string;
  rotateEveryMs?: number;
  pollEveryMs?: number;
  log?: CacheLog;
  /** Injected for tests; default crypto.randomBytes. */
  randomBytes?: (n: number) => Buffer;
}

interface Usable { name: Buffer; hmac: Buffer; aes: Buffer; renew: boolean }

/** The internal native context handle (`secureContext.context`) as far as it is used here. */
interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, enc: boolean) => unknown[];
}

const ZERO16 = Buffer.alloc(16);

/**
 * The fleet's session-ticket keys for this process. Usable at once (with a node-local key until
 * Redis answers); `start()` syncs and keeps polling. Attach every TLS server, and attach it again
 * after each `server.setSecureContext()` (which builds a new default context without the hook).
 * Never throws on Redis failures: it keeps the last keys it had and retries at the next poll.
 */
export class SharedTicketKeys {
  readonly stats: TicketKeyStats = { issued: 0, accepted: 0, renewed: 0, rejected: 0, syncs: 0, syncErrors: 0 };
  private set: TicketKeySet;
  /** Decryption candidates, current first. */
  private usable: Usable[] = [];
  /** A key no longer in the fleet record (a local key, or one lost when Redis was emptied) kept for one change. */
  private retired: Buffer | undefined;
  private readonly servers = new Map<Server, TicketKeyMode>();
  private readonly redis: Redis;
  private readonly key: string;
  private readonly rotateEveryMs: number;
  private readonly pollEveryMs: number;
  private readonly log: CacheLog;
  private readonly random: (n: number) => Buffer;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private warnedLocal = false;

  constructor(opts: SharedTicketKeysOptions) {
    this.redis = opts.redis;
    this.key = opts.key ?? DEFAULT_TICKET_KEYS_KEY;
    this.rotateEveryMs = opts.rotateEveryMs ?? DEFAULT_ROTATE_EVERY_MS;
    this.pollEveryMs = opts.pollEveryMs ?? DEFAULT_POLL_EVERY_MS;
    this.log = opts.log ?? (() => undefined);
    this.random = opts.randomBytes ?? cryptoRandomBytes;
    watchRedisHealth(this.redis, this.log);
    this.redis.defineCommand(SCRIPT_NAME, { numberOfKeys: 1, lua: ROTATE_SCRIPT });
    this.set = { generation: 0, createdAt: 0, current: this.random(48), shared: false };
    this.rebuild();
  }

  /** The keys in use now. */
  get keys(): TicketKeySet { return this.set; }

  /**
   * Waits up to `readyTimeoutMs` (default 2000) for the connection, syncs once, then polls every
   * `pollEveryMs`. Never rejects: if Redis cannot be reached the node-local key stays in use.
   */
  async start(readyTimeoutMs = 2000): Promise<void> {
    if (this.started) return;
    this.started = true;
    const ok = await redisReady(this.redis, readyTimeoutMs) && await this.sync();
    if (!ok && !this.set.shared && !this.warnedLocal) {
      this.warnedLocal = true;
      this.log('warn', 'tls ticket keys: redis unreachable; using a node-local key (tickets resume only on this node) and retrying');
    }
    this.schedule();
  }

  /** Stops polling; attached servers keep the keys they have. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /**
   * One exchange with Redis now: creates the record if missing, rotates it when due, adopts what
   * Redis holds. Resolves true if Redis answered.
   */
  sync(): Promise<boolean> { return this.exchange(''); }

  /**
   * Rotates now, whatever the schedule, unless another node already rotated past the generation
   * this node knows (compare-and-set: concurrent calls across the fleet rotate once); a node still
   * on its local key only syncs. For operators and tests; resolves true if Redis answered.
   */
  rotate(): Promise<boolean> { return this.exchange(this.set.shared ? String(this.set.generation) : ''); }

  /**
   * Installs the keys on a server's default context (`server._sharedCreds.context`), which is the
   * one OpenSSL uses for tickets also when SNICallback picks another context. Returns the mode:
   * 'callback' (current, next, previous accepted) or 'set-ticket-keys' (Node without the internal
   * hook: only the current key, re-set at every change). Call again after setSecureContext().
   */
  attach(server: Server): TicketKeyMode {
    const ctx = (server as unknown as { _sharedCreds?: SecureContext })._sharedCreds?.context as NativeContext | undefined;
    let mode: TicketKeyMode = 'set-ticket-keys';
    if (ctx !== undefined && typeof ctx.enableTicketKeyCallback === 'function') {
      ctx.enableTicketKeyCallback();
      ctx.onticketkeycallback = this.ticketKeyCallback;
      mode = 'callback';
    } else {
      server.setTicketKeys(this.set.current);
      if (!this.servers.has(server)) this.log('warn', 'tls ticket keys: no ticket-key callback in this Node; only the current key is accepted, tickets fail once per rotation');
    }
    this.servers.set(server, mode);
    return mode;
  }

  /** The same as attach(): named for the call after `server.setSecureContext()`. */
  reattach(server: Server): TicketKeyMode { return this.attach(server); }

  /** Stops updating a server (its context keeps the callback; close the server to be done with it). */
  detach(server: Server): void { this.servers.delete(server); }

  /**
   * Node's ticket-key hook (arrow: installed as a property). enc: [1, hmac, aes, name, iv] under
   * the current key. Decrypt: [1, hmac, aes] for current/next, [2, hmac, aes] (accept and issue
   * a fresh ticket) for older keys, [0, zero, zero] to refuse. Never throws and always returns the
   * two key buffers: a throw or a bare [0] makes Node fail the handshake or abort the process.
   */
  readonly ticketKeyCallback = (name: Buffer, _iv: Buffer, enc: boolean): unknown[] => {
    try {
      if (enc) {
        const k = this.usable[0];
        this.stats.issued++;
        return [1, k.hmac, k.aes, k.name, this.random(16)];
      }
      for (const k of this.usable) {
        if (!k.name.equals(name)) continue;
        if (k.renew) this.stats.renewed++; else this.stats.accepted++;
        return [k.renew ? 2 : 1, k.hmac, k.aes];
      }
    } catch { /* fall through: refuse the ticket, never fail the handshake */ }
    this.stats.rejected++;
    return [0, ZERO16, ZERO16];
  };

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => { void this.sync().then(() => this.schedule()); }, this.pollEveryMs);
    this.timer.unref();
  }

  private async exchange(forceGen: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const script = this.redis as unknown as ScriptClient;
      const reply = await Promise.race([
        script.switchyardTicketKeysBuffer(this.key, this.rotateEveryMs, this.random(48), this.random(48), forceGen),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('ticket keys: redis timed out')), SYNC_TIMEOUT_MS); }),
      ]);
      this.stats.syncs++;
      this.adopt(reply);
      return true;
    } catch {
      this.stats.syncErrors++;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private adopt([generation, createdAt, previous, current, next]: ScriptReply): void {
    const ok = (b: Buffer | null): boolean => b === null || b.length === 48;
    if (this.closed || current === null || current.length !== 48 || !ok(next) || !ok(previous)) {
      if (!this.closed) this.log('warn', 'tls ticket keys: malformed record in redis; keeping the current keys', { key: this.key });
      return;
    }
    const old = this.set;
    if (old.shared && old.current.equals(current) && old.generation === generation) return;
    const fresh: TicketKeySet = { generation, createdAt, current, next: next ?? undefined, previous: previous ?? undefined, shared: true };
    const known = [current, next, previous].some((k) => k !== null && k.equals(old.current));
    this.retired = known ? undefined : old.current;
    this.set = fresh;
    this.rebuild();
    for (const [server, mode] of this.servers) if (mode === 'set-ticket-keys') server.setTicketKeys(current);
    this.log('info', old.shared ? 'tls ticket keys: rotated' : 'tls ticket keys: using the fleet keys from redis', { generation });
  }

  private rebuild(): void {
    const split = (k: Buffer, renew: boolean): Usable => ({ name: k.subarray(0, 16), hmac: k.subarray(16, 32), aes: k.subarray(32, 48), renew });
    const s = this.set;
    this.usable = [split(s.current, false)];
    if (s.next !== undefined) this.usable.push(split(s.next, false));
    if (s.previous !== undefined) this.usable.push(split(s.previous, true));
    if (this.retired !== undefined) this.usable.push(split(this.retired, true));
  }
}
