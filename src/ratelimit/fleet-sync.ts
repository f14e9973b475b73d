import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { FleetLink } from './fleet-link.js';
import type { KeyState, RateLimiter } from './limiter.js';
import { LEASE_SCRIPT } from './lease-script.js';
import { lazyModule } from '../util/lazy-module.js';

const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

/** Where fleet limits settle: the Redis URL, key prefix and sync interval of the config in force. */
export interface FleetTarget { url: string; prefix: string; intervalMs: number }

/** Participants (worker processes) that did not sync for this long are not counted in the fallback share. */
const MEMBER_WINDOW_MS = 3000;
/** Buckets per Lua call, so one call never holds Redis long. */
const CHUNK = 500;

type LeaseRedis = Redis & { lease(keys: number, ...args: (string | number)[]): Promise<number[]> };

interface Pending { limiter: RateLimiter; key: string; e: KeyState; unleased: number; give: number; want: number }

/**
 * The fleet-limit sync loop of one worker process: every `intervalMs` it settles every key its
 * fleet limiters saw (one pipelined script call per 500 keys), and keeps `link` up to date. Never
 * on the request path: requests read `link` and their lease. A failed sync, a timeout or a lost
 * connection puts the link down (limits fall back to their per-process share) until a sync
 * answers again; Redis being down never fails a request. One per process: `configure` it with
 * each activated config.
 */
export class FleetSync {
  readonly link = new FleetLink(100);
  private redis: LeaseRedis | null = null;
  private target: FleetTarget | null = null;
  private limiters: readonly RateLimiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  /** `id`: this participant in Redis's member set (one per worker process). */
  constructor(private readonly id = `${hostname()}:${process.pid}`) {}

  /** Uses `target` for `limiters` (the fleet limiters of the config just activated); null: no fleet limits. */
  configure(target: FleetTarget | null, limiters: readonly RateLimiter[]): void {
    this.limiters = limiters;
    const same = target !== null && this.target !== null && target.url === this.target.url && target.intervalMs === this.target.intervalMs;
    if (target !== null && this.target !== null) this.target.prefix = target.prefix;
    if (same) return;
    this.stop();
    if (target === null || limiters.length === 0) return;
    this.target = { ...target };
    this.link.intervalMs = target.intervalMs;
    const redis = new (ioredis().Redis)(target.url, {
      enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000,
      commandTimeout: Math.max(250, target.intervalMs * 3),
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      connectionName: 'switchyard-ratelimit',
    }) as LeaseRedis;
    redis.defineCommand('lease', { lua: LEASE_SCRIPT });
    redis.on('error', () => this.link.down());
    redis.on('close', () => this.link.down());
    this.redis = redis;
    this.timer = setInterval(() => { void this.sync(); }, target.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.redis?.disconnect();
    this.redis = null;
    this.target = null;
    this.link.down();
  }

  /** One settlement round (skipped while the previous one is still out). */
  async sync(): Promise<void> {
    const redis = this.redis;
    const target = this.target;
    if (redis === null || target === null || this.busy) return;
    const batch = this.collect();
    if (redis.status !== 'ready') { this.link.down(); return; }
    this.busy = true;
    try {
      const chunks = batch.length === 0 ? [[]] : Array.from({ length: Math.ceil(batch.length / CHUNK) }, (_, i) => batch.slice(i * CHUNK, (i + 1) * CHUNK));
      const answers = await Promise.all(chunks.map((c) => redis.lease(1 + c.length, `${target.prefix}members`,
        ...c.map((p) => `${target.prefix}${p.limiter.settings.id}|${p.key}`),
        this.id, MEMBER_WINDOW_MS,
        ...c.flatMap((p) => { const s = p.limiter.settings.shape; return [s.rate / s.periodMs, s.burst, p.unleased, p.want, p.give]; }))));
      this.link.up(answers[0][0]);
      chunks.forEach((c, ci) => c.forEach((p, i) => {
        const r = answers[ci];
        p.e.tokens += r[1 + i * 3];
        p.e.globalLeft = Math.max(0, r[2 + i * 3]);
        p.e.retryMs = r[3 + i * 3];
        p.e.epoch = this.link.epoch;
        if (p.e.tokens > 0) this.requeue(p);
      }));
    } catch {
      this.link.down();
    } finally {
      this.busy = false;
    }
  }

  /** Takes every limiter's dirty keys: what each admitted unleased, gives back and wants next. */
  private collect(): Pending[] {
    const out: Pending[] = [];
    for (const limiter of this.limiters) {
      const burst = limiter.settings.shape.burst;
      for (const [key, e] of limiter.dirty) {
        e.dirty = false;
        // A lease for about 1.5 intervals of the last interval's demand; an idle key gives all back.
        const target = e.seen === 0 ? 0 : Math.min(burst, Math.ceil(e.seen * 1.5) + 1);
        const give = Math.max(0, Math.floor(e.tokens - target));
        e.tokens -= give;
        out.push({ limiter, key, e, unleased: e.unleased, give, want: Math.max(0, Math.ceil(target - e.tokens)) });
        e.unleased = 0;
        e.seen = 0;
      }
      limiter.dirty = [];
    }
    return out;
  }

  /** A key still holding tokens is settled again next round (to give them back if it goes idle). */
  private requeue(p: Pending): void {
    if (p.e.dirty || p.limiter.dirty.length >= p.limiter.table.cap) return;
    p.e.dirty = true;
    p.limiter.dirty.push([p.key, p.e]);
  }
}

/** This process's fleet sync. */
export const fleetSync = new FleetSync();
