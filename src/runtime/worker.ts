import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { stageResumption, type StagedResumption } from '../tls/resumption.js';
import { Snapshot, SnapshotHolder } from '../snapshot/snapshot.js';
import { ListenerSet, type PreparedListeners } from './listener-set.js';
import { listenerKinds } from './listener-kinds.js';
import { BindError } from '../net/listen.js';
import type { FromWorker, Overrides, ToWorker, WorkerStats } from './messages.js';
import { COUNTERS_PUSH_MS, CounterPush } from './counter-push.js';
import { countersSnapshot } from '../observe/stats.js';
import { setNodeReadiness } from '../observe/node-readiness.js';
import { runtimeMetrics, startRuntimeMetrics } from './runtime-metrics.js';
import type { TopKeys } from '../hotspot/top-keys.js';
import { prefixTap } from '../defence/prefix-tap.js';
import { regionsDown } from '../dns/regions-down.js';
import { fleetSync } from '../ratelimit/fleet-sync.js';

/** The heaviest keys since the last collection; the counter starts over for the next one. */
function takeTopKeys(t: TopKeys | null): { key: string; count: number }[] | undefined {
  if (t === null) return undefined;
  const top = t.top(8).map((k) => ({ key: k.key, count: k.count }));
  t.reset();
  return top;
}

/** Keys per rate limit a worker reports per collection (the admin API's top list). */
const RATE_LIMIT_TOP = 10;

/** A prepare failure as the primary reports it (a bind error names its listener and address). */
function describe(e: unknown): string {
  return e instanceof BindError ? `cannot listen: ${e.message}` : (e as Error).message;
}

/** A failed first start as the primary needs it: a bind failure stays one (not "invalid config"). */
function fatal(e: unknown): FromWorker {
  return { type: 'fatal', error: describe(e), ...(e instanceof BindError && { bind: { code: e.code, listener: e.listener, address: e.address, errno: e.errno } }) };
}
import type { Mitigation, RuntimeDeps } from '../upstream/service.js';

/** A config built and bound by `prepare`, waiting for the primary's commit or abort. */
interface Prepared {
  txn: number;
  version: number;
  snapshot: Snapshot;
  listeners: PreparedListeners;
  resumption: StagedResumption;
}

/**
 * The data plane of one worker process: applies config snapshots pushed by the primary, all or
 * nothing — `prepare` builds the snapshot and opens the new listeners while nothing live
 * changes, `commit` (once every worker prepared) makes them live in one step, `abort` disposes
 * of them — and drains on shutdown.
 */
export class Worker {
  private holder: SnapshotHolder | undefined;
  private readonly listeners: ListenerSet;
  private prepared: Prepared | undefined;
  private shuttingDown = false;

  constructor(private readonly deps: RuntimeDeps, private readonly log: Logger, private readonly workers: number,
    private readonly send: (m: FromWorker) => void) {
    this.listeners = new ListenerSet(listenerKinds, () => this.holder!, deps.clock, log, workers);
    startRuntimeMetrics();
  }

  private ticker: NodeJS.Timeout | undefined;
  private pusher: NodeJS.Timeout | undefined;
  private readonly counterPush = new CounterPush();

  async handle(msg: ToWorker): Promise<void> {
    if (msg.type === 'config') await this.applyAtOnce(msg.txn, msg.version, msg.config, msg);
    else if (msg.type === 'prepare') await this.prepareAndAnswer(msg.txn, msg.version, msg.config);
    else if (msg.type === 'commit') this.commit(msg.txn, msg);
    else if (msg.type === 'abort') await this.abort(msg.txn);
    else if (msg.type === 'health') this.holder?.current.services.get(msg.service)?.setHealth(msg.backend, msg.healthy);
    else if (msg.type === 'regions') regionsDown.set(msg.down);
    else if (msg.type === 'drain') this.holder?.current.services.get(msg.service)?.setDraining(msg.backend, msg.draining);
    else if (msg.type === 'zone-nodes') this.setZoneNodes(msg.nodes, true);
    else if (msg.type === 'mitigate') this.holder?.current.services.get(msg.service)?.setMitigation(msg.mitigation);
    else if (msg.type === 'blocks') this.listeners.setBlocks(msg.blocks);
    else if (msg.type === 'stats') this.send({ type: 'stats', id: msg.id, stats: this.stats() });
    else if (msg.type === 'runtime') this.send({ type: 'runtime', id: msg.id, pid: process.pid, metrics: await runtimeMetrics() });
    else if (msg.type === 'go-away') this.listeners.goAwayAll(msg.closeIdle);
    else if (msg.type === 'fleet-size') fleetSync.link.setMembers(msg.nodes * this.workers);
    else if (msg.type === 'readiness') { if (!this.shuttingDown) setNodeReadiness(msg); }
    else if (msg.type === 'shutdown') await this.shutdown(msg.drainMs);
  }

  /** The fleet's nodes per zone changed: zone-aware balancing replans (`rebuild`: the live services now; else the next activation does). */
  private setZoneNodes(nodes: Record<string, number> | undefined, rebuild: boolean): void {
    if (nodes === undefined || this.deps.fleetZones === undefined) return;
    this.deps.fleetZones.nodes = nodes;
    if (rebuild) for (const s of this.holder?.current.services.values() ?? []) s.refresh();
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
    return { counters: countersSnapshot(), services, rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system, prefixes: prefixTap.take(),
      rateLimitTop: this.holder?.current.rateLimits.takeTop(RATE_LIMIT_TOP) };
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

  /**
   * Builds the snapshot and opens the listeners of `config` without changing anything live;
   * throws (having disposed of what it made) when any of it fails.
   */
  private async prepare(txn: number, version: number, config: Config, built?: Snapshot): Promise<Prepared> {
    if (this.prepared !== undefined) await this.abort(this.prepared.txn); // never left over by the primary; be safe
    const snapshot = built ?? Snapshot.prepare(config, version, this.deps, this.holder?.current);
    const resumption = stageResumption(config.tlsSessionCache, this.log);
    try {
      return { txn, version, snapshot, resumption, listeners: await this.listeners.prepare(config, resumption.resumption) };
    } catch (e) {
      resumption.discard();
      throw e;
    }
  }

  private async prepareAndAnswer(txn: number, version: number, config: Config): Promise<void> {
    if (this.shuttingDown || this.holder === undefined) { this.send({ type: 'rejected', txn, version, error: 'worker not serving' }); return; }
    try {
      this.prepared = await this.prepare(txn, version, config);
      this.send({ type: 'prepared', txn, version });
    } catch (e) {
      this.send({ type: 'rejected', txn, version, error: describe(e) });
    }
  }

  /** Makes the prepared config live: resumption, listeners, then the snapshot swap. Cannot fail. */
  private commit(txn: number, overrides: Overrides): void {
    if (overrides.regionsDown !== undefined) regionsDown.set(overrides.regionsDown);
    const p = this.prepared;
    if (p === undefined || p.txn !== txn) { this.log.error({ txn }, 'commit of a config this worker did not prepare'); return; }
    this.prepared = undefined;
    // Before the listeners' apply(): they attach to the process's current resumption.
    p.resumption.install();
    this.setZoneNodes(overrides.zoneNodes, false);
    if (this.holder!.current !== p.snapshot) this.holder!.commit(p.snapshot, overrides);
    this.listeners.setBlocks(overrides.blocks ?? []);
    const spikes = p.snapshot.config.spikes;
    prefixTap.configure({ enabled: spikes.enabled, ipv4Prefix: spikes.ipv4Prefix, ipv6Prefix: spikes.ipv6Prefix, sampleEvery: spikes.sampleEvery });
    this.listeners.commit(p.listeners);
    this.send({ type: 'applied', txn, version: p.version });
  }

  private async abort(txn: number): Promise<void> {
    const p = this.prepared;
    if (p === undefined || p.txn !== txn) return;
    this.prepared = undefined;
    p.resumption.discard();
    await this.listeners.discard(p.listeners);
    this.log.info({ version: p.version }, 'prepared config discarded');
  }

  /** The first config, or one this worker missed while starting: both phases at once. */
  private async applyAtOnce(txn: number, version: number, config: Config, overrides: Overrides): Promise<void> {
    if (this.shuttingDown) return;
    const first = this.holder === undefined;
    if (first) {
      // The first snapshot goes live at once: the listeners opened next serve from it.
      try {
        const snapshot = Snapshot.prepare(config, version, this.deps);
        this.setZoneNodes(overrides.zoneNodes, false);
        snapshot.activate(overrides);
        this.holder = new SnapshotHolder(snapshot);
      } catch (e) {
        this.send(fatal(e));
        return;
      }
      this.startTicker();
    }
    try {
      this.prepared = await this.prepare(txn, version, config, first ? this.holder!.current : undefined);
    } catch (e) {
      this.send(first ? fatal(e) : { type: 'rejected', txn, version, error: describe(e) });
      return;
    }
    this.commit(txn, overrides);
  }

  private async shutdown(drainMs: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    // Not ready before the listeners close: a probe on a monitor path sees the drain first.
    setNodeReadiness({ ready: false, code: 'draining' });
    clearInterval(this.ticker);
    if (this.prepared !== undefined) await this.abort(this.prepared.txn);
    await this.listeners.closeAll(drainMs);
    await this.holder?.current.close();
    // Drained: every request this worker will count is counted; the primary keeps it all.
    clearInterval(this.pusher);
    this.pushCounters();
  }
}
