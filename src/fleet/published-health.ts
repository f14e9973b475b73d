import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { HealthBroadcast, HealthMap, HealthSource } from '../upstream/health/source.js';
import { healthKey, type HealthDocument } from './health-publisher.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/**
 * An LB node's health states when checkers run elsewhere: the zone's published document,
 * watched in etcd; each change is broadcast to the workers. When no checker has published for
 * `staleMs` (all checkers gone, or etcd unreachable) the last states stay in force (the design's
 * "health checker down → keep current state") and the node says so once.
 */
export class PublishedHealth implements HealthSource {
  private states: HealthMap = {};
  private lastAt = Date.now();
  private checker: string | undefined;
  private stale = false;
  private watcher: Watcher | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly zone: string,
    private readonly log: Logger,
    private readonly broadcast: HealthBroadcast,
    private readonly staleMs = 5000,
  ) {}

  start(): void {
    const key = healthKey(this.prefix, this.zone);
    void this.client.get(key).string().then((v) => { if (v !== null) this.receive(v); }, () => undefined);
    void this.client.watch().key(key).create().then((w) => {
      this.watcher = w;
      w.on('put', (kv) => this.receive(kv.value.toString()));
      w.on('error', () => undefined);
    }, (e: Error) => this.log.warn({ err: describeEtcdError(e) }, 'published health: watch failed'));
    this.timer = setInterval(() => this.checkStale(), 500);
    this.timer.unref();
  }

  apply(_config: Config): void {
    // States come from the checkers, who follow the same config.
  }

  snapshot(): HealthMap {
    return this.states;
  }

  private receive(text: string): void {
    let doc: HealthDocument;
    try { doc = JSON.parse(text) as HealthDocument; } catch { this.log.warn('published health: unreadable document ignored'); return; }
    this.lastAt = Date.now();
    if (this.stale || doc.checker !== this.checker) {
      this.log.info({ zone: this.zone, checker: doc.checker }, `published health: following checker ${doc.checker}`);
    }
    this.stale = false;
    this.checker = doc.checker;
    const next = doc.states ?? {};
    for (const [svc, m] of Object.entries(next)) {
      for (const [backend, healthy] of Object.entries(m)) {
        if (this.states[svc]?.[backend] !== healthy) this.broadcast(svc, backend, healthy);
      }
    }
    // A backend no longer listed is no longer checked: healthy again.
    for (const [svc, m] of Object.entries(this.states)) {
      for (const backend of Object.keys(m)) if (next[svc]?.[backend] === undefined && m[backend] === false) this.broadcast(svc, backend, true);
    }
    this.states = next;
  }

  private checkStale(): void {
    if (this.stale || Date.now() - this.lastAt < this.staleMs) return;
    this.stale = true;
    this.log.warn({ zone: this.zone, lastChecker: this.checker, silentMs: Date.now() - this.lastAt },
      'published health: no checker has published recently; keeping the last published states');
  }

  stop(): void {
    clearInterval(this.timer);
    void this.watcher?.cancel();
  }
}
