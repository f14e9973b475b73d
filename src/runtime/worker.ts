import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { HttpListener } from '../http/server.js';
import { FastHttpListener } from '../http/h1/fast-listener.js';
import { TcpListener } from '../tcp/tcp-listener.js';
import { FastTcpListener } from '../tcp/fast-tcp-listener.js';
import { uv } from '../tcp/uv.js';
import { configureResumption } from '../tls/resumption.js';
import { Snapshot, SnapshotHolder } from './snapshot.js';
import type { DrainMap, FromWorker, HealthMap, ToWorker, WorkerStats } from './messages.js';
import { COUNTERS_PUSH_MS, CounterPush } from './counter-push.js';
import { countersSnapshot } from '../observe/stats.js';
import type { TopKeys } from '../hotspot/top-keys.js';

/** The heaviest keys since the last collection; the counter starts over for the next one. */
function takeTopKeys(t: TopKeys | null): { key: string; count: number }[] | undefined {
  if (t === null) return undefined;
  const top = t.top(8).map((k) => ({ key: k.key, count: k.count }));
  t.reset();
  return top;
}
import type { Mitigation, RuntimeDeps } from '../upstream/service.js';

/**
 * The data plane of one worker process: applies config snapshots pushed by the primary
 * (build completely, open new listeners, then swap; keep the old snapshot on any failure),
 * and drains on shutdown.
 */
export class Worker {
  private holder: SnapshotHolder | undefined;
  private readonly listeners = new Map<string, HttpListener | FastHttpListener | TcpListener | FastTcpListener>();
  private shuttingDown = false;

  constructor(private readonly deps: RuntimeDeps, private readonly log: Logger, private readonly workers: number,
    private readonly send: (m: FromWorker) => void) {}

  private ticker: NodeJS.Timeout | undefined;
  private pusher: NodeJS.Timeout | undefined;
  private readonly counterPush = new CounterPush();

  async handle(msg: ToWorker): Promise<void> {
    if (msg.type === 'config') await this.apply(msg.version, msg.config, msg.health, msg.drains, msg.mitigations);
    else if (msg.type === 'health') this.holder?.current.services.get(msg.service)?.setHealth(msg.backend, msg.healthy);
    else if (msg.type === 'drain') this.holder?.current.services.get(msg.service)?.setDraining(msg.backend, msg.draining);
    else if (msg.type === 'mitigate') this.holder?.current.services.get(msg.service)?.setMitigation(msg.mitigation);
    else if (msg.type === 'stats') this.send({ type: 'stats', id: msg.id, stats: this.stats() });
    else if (msg.type === 'shutdown') await this.shutdown(msg.drainMs);
  }

  /** This worker's counters and every backend's live state, for the primary. */
  private stats(): WorkerStats {
    const services = [...(this.holder?.current.services.values() ?? [])].map((s) => ({
      name: s.name,
      algorithm: s.config.balancer.algorithm,
      backends: s.endpoints.map((e) => ({
        key: e.key, weight: e.weight, zone: e.zone, healthy: e.healthy, ejected: e.ejected, draining: e.draining,
        breaker: e.breaker === null ? 'off' as const : e.breaker.state, inFlight: e.inFlight, traffic: e.traffic.snapshot(),
        topKeys: takeTopKeys(e.topKeys),
      })),
    }));
    const cpu = process.cpuUsage();
    return { counters: countersSnapshot(), services, rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system };
  }

  /** Sends the primary this worker's counters if any moved (see CounterPush). */
  private pushCounters(): void {
    const m = this.counterPush.next(this.holder?.current.services.values() ?? []);
    if (m !== null) this.send(m);
  }

  /** Time-driven resilience transitions (ejections ending, breakers half-opening) of every service; counter pushes. */
  private startTicker(): void {
    this.ticker = setInterval(() => {
      for (const s of this.holder?.current.services.values() ?? []) s.tick();
    }, 250);
    this.ticker.unref();
    this.pusher = setInterval(() => this.pushCounters(), COUNTERS_PUSH_MS);
    this.pusher.unref();
  }

  private async apply(version: number, config: Config, health: HealthMap = {}, drains: DrainMap = {}, mitigations: Record<string, Mitigation> = {}): Promise<void> {
    if (this.shuttingDown) return;
    let next: Snapshot;
    try {
      next = Snapshot.build(config, version, this.deps, this.holder?.current);
      for (const [service, states] of Object.entries(health)) {
        for (const [backend, healthy] of Object.entries(states)) next.services.get(service)?.setHealth(backend, healthy);
      }
      for (const [service, states] of Object.entries(drains)) {
        for (const [backend, draining] of Object.entries(states)) next.services.get(service)?.setDraining(backend, draining);
      }
      for (const [service, m] of Object.entries(mitigations)) next.services.get(service)?.setMitigation(m);
    } catch (e) {
      this.send({ type: 'rejected', version, error: (e as Error).message });
      return;
    }
    const first = this.holder === undefined;
    // Before listeners are (re)applied: they attach to the process's current resumption.
    configureResumption(config.tlsSessionCache, this.log);
    if (first) { this.holder = new SnapshotHolder(next); this.startTicker(); }
    const holder = this.holder!;
    // Listeners keyed by name+address: a moved listener is a new one.
    const wanted = new Map(config.listeners.map((l) => [`${l.name}@${l.address}`, l]));
    try {
      for (const [key, l] of wanted) {
        const open = this.listeners.get(key);
        if (open !== undefined) {
          const kind = open instanceof TcpListener ? 'tcp-node' : open instanceof FastTcpListener ? 'tcp-fast' : open instanceof FastHttpListener ? 'fast' : 'node';
          if (kind !== (l.protocol === 'http' || l.protocol === 'https' ? l.engine : `tcp-${uv === null ? 'node' : l.engine}`)) {
            this.log.warn({ listener: l.name }, 'changing a listener\'s protocol or engine takes effect on restart');
          }
          open.apply(l);
          continue;
        }
        const l4 = l.protocol === 'tcp' || l.protocol === 'tls-passthrough';
        if (l4 && l.engine === 'fast' && uv === null) this.log.warn({ listener: l.name }, 'this Node lacks the libuv bindings of the fast L4 engine: serving with engine: node');
        const listener = l4 ? (l.engine === 'fast' && uv !== null ? new FastTcpListener(l, holder, this.deps.clock, this.log, this.workers, uv) : new TcpListener(l, holder, this.deps.clock, this.log, this.workers))
          : l.engine === 'node' ? new HttpListener(l, holder, this.deps.clock, this.log, this.workers)
            : new FastHttpListener(l, holder, this.deps.clock, this.log, this.workers);
        await listener.listen();
        this.listeners.set(key, listener);
        this.log.debug({ listener: l.name, address: l.address }, 'listening');
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (first) { this.send({ type: 'fatal', error: `cannot listen: ${err.code ?? ''} ${err.message}` }); return; }
      this.send({ type: 'rejected', version, error: `cannot listen: ${err.message}` });
      return;
    }
    if (!first) holder.swap(next);
    for (const [key, l] of this.listeners) {
      if (!wanted.has(key)) { this.listeners.delete(key); void l.close(config.shutdown.drainTimeout); }
    }
    this.send({ type: 'applied', version });
  }

  private async shutdown(drainMs: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    clearInterval(this.ticker);
    await Promise.all([...this.listeners.values()].map((l) => l.close(drainMs)));
    await this.holder?.current.close();
    // Drained: every request this worker will count is counted; the primary keeps it all.
    clearInterval(this.pusher);
    this.pushCounters();
  }
}
