import type { Server } from 'node:tls';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { attachSessionCache, createCacheRedis, type CacheLog, type SessionCache, type SessionCacheStats } from './session-cache.js';
import { SharedTicketKeys } from './ticket-keys.js';

/** The config's `tlsSessionCache` block (durations in ms). */
export interface ResumptionSettings {
  redis: string;
  ttl: number;
  timeout: number;
  keyPrefix: string;
  ticketKeyRotation: number;
}

/**
 * Fleet-wide TLS resumption for one worker process: one Redis client shared by every https
 * listener, a session-ID cache on each TLS server and the shared, rotated ticket keys. One per
 * settings value; a reload that changes them replaces it (listeners re-attach).
 */
export class FleetResumption {
  private readonly redis: Redis;
  private readonly keys: SharedTicketKeys;
  private readonly caches = new Map<Server, SessionCache>();
  private readonly retired: SessionCacheStats = { fullHandshakes: 0, resumedHandshakes: 0, hits: 0, misses: 0, errors: 0, stored: 0 };

  constructor(readonly settings: ResumptionSettings, private readonly log: Logger) {
    const cacheLog: CacheLog = (level, msg, fields) => log[level](fields ?? {}, `tls session cache: ${msg}`);
    this.redis = createCacheRedis(settings.redis, { timeoutMs: settings.timeout, log: cacheLog });
    this.keys = new SharedTicketKeys({ redis: this.redis, key: `${settings.keyPrefix}ticket-keys`, rotateEveryMs: settings.ticketKeyRotation, log: cacheLog });
    void this.keys.start();
  }

  attach(server: Server): void {
    if (this.caches.has(server)) return;
    this.caches.set(server, attachSessionCache(server, {
      redis: this.redis, keyPrefix: `${this.settings.keyPrefix}sess:`, ttlMs: this.settings.ttl, timeoutMs: this.settings.timeout,
    }));
    const mode = this.keys.attach(server);
    if (mode !== 'callback') this.log.warn('tls session cache: this Node has no ticket-key hook; only the current ticket key is accepted');
  }

  /** After `server.setSecureContext` (a certificate reload): the ticket hook lives on the default context. */
  reattach(server: Server): void {
    if (this.caches.has(server)) this.keys.reattach(server);
  }

  detach(server: Server): void {
    const c = this.caches.get(server);
    if (c === undefined) return;
    for (const k of Object.keys(this.retired) as (keyof SessionCacheStats)[]) this.retired[k] += c.stats[k];
    c.detach();
    this.caches.delete(server);
    this.keys.detach(server);
  }

  /** Handshake counters of this process, summed over its servers (full handshakes include Redis outages). */
  stats(): SessionCacheStats {
    const sum = { ...this.retired };
    for (const c of this.caches.values()) for (const k of Object.keys(sum) as (keyof SessionCacheStats)[]) sum[k] += c.stats[k];
    return sum;
  }

  close(): void {
    for (const s of [...this.caches.keys()]) this.detach(s);
    this.keys.close();
    this.redis.disconnect();
  }
}

let current: FleetResumption | null = null;

/** A resumption set up for a config, not yet the process's: a reload installs it at commit or discards it. */
export interface StagedResumption {
  /** What listeners of the new config attach to (null: none). */
  readonly resumption: FleetResumption | null;
  /** Makes it the process's (listeners re-attach in their apply()); the previous one closes after they moved. */
  install(): void;
  /** Drops it (a rejected reload): closes it unless it is the one in use. */
  discard(): void;
}

/** Stages `settings` (undefined: none): the current resumption when they did not change, else a new one. */
export function stageResumption(settings: ResumptionSettings | undefined, log: Logger): StagedResumption {
  const same = settings === undefined ? current === null : current !== null && JSON.stringify(current.settings) === JSON.stringify(settings);
  if (same) return { resumption: current, install: () => undefined, discard: () => undefined };
  const next = settings === undefined ? null : new FleetResumption(settings, log);
  return {
    resumption: next,
    install() {
      const old = current;
      current = next;
      if (old !== null && old !== next) setTimeout(() => old.close(), 1000).unref();
    },
    discard() { if (next !== current) next?.close(); },
  };
}

export function currentResumption(): FleetResumption | null {
  return current;
}
