import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ConfigError, SwitchyardError } from '../util/errors.js';
import { Snapshot } from '../snapshot/snapshot.js';
import { systemClock } from '../util/clock.js';
import { systemRandom } from '../util/random.js';
import type { FromWorker, ToWorker } from './messages.js';
import { HealthSupervisor } from './health-supervisor.js';
import type { DrainMap, Overrides, WorkerStats } from './messages.js';
import type { HealthBroadcast, HealthMap, HealthSource } from '../upstream/health/source.js';
import type { ConfigLoader } from '../config/source.js';
import { parseHostPort } from '../config/address.js';
import { BindError } from '../net/listen.js';
import { CounterLedger, type Collection } from './counter-ledger.js';
import type { Mitigation } from '../upstream/service.js';
import { evaluateReadiness, type Readiness } from './readiness.js';
import { workerExecArgv } from './worker-flags.js';
import { TemporaryBlockList, type AddResult } from '../defence/block-list.js';
import type { TemporaryBlock } from '../defence/access-list.js';
import type { RuntimeMetric } from './runtime-metrics.js';

export interface PrimaryOptions {
  loader: ConfigLoader;
  log: Logger;
  /** Overrides `workers` from the config. */
  workers?: number;
  /** This node's zone (`--zone`), handed to the workers for zone-aware balancing. */
  zone?: string;
  /** How long `start` waits for every worker to apply the first config before it fails (default 30 s). */
  startTimeoutMs?: number;
  /** Called once every worker applied the first config. */
  onReady?: () => void;
  /** Awaited before the node reports "ready" (e.g. to bind the admin listener first). */
  beforeReady?: () => Promise<void>;
  /** Health states from elsewhere (fleet checkers); default: this node's own active checks. */
  health?: (broadcast: HealthBroadcast) => HealthSource;
  /** Called with the outcome of each reload asked for by SIGHUP; `signal` counts the SIGHUPs received (see cli/reload-outcome.ts). */
  onSignalReload?: (signal: number, result: ReloadResult) => void;
  /** Called after every config applied by all workers (e.g. to report it in the fleet record). */
  onApplied?: (config: Config) => void;
  /** Called once the workers are gone, before the process exits (leave the fleet cleanly). */
  onStopped?: () => Promise<void>;
  /** Called whenever readiness may have changed (health, workers, reload, drain): read `readiness()`. */
  onReadinessChange?: () => void;
  /**
   * Awaited on shutdown after readiness is lost and before any listener closes: the anycast
   * drain (withdraw the VIP, give routers time to move new flows). Bounded by its own timeouts.
   */
  beforeDrain?: () => Promise<void>;
}

/** An endpoint's key (`host:port`, IPv6 in brackets) from a configured address. */
function backendKey(address: string): string {
  const { host, port } = parseHostPort(address)!;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The bounds of the temporary block list from a config. */
const blockLimits = (c: Config) => ({ max: c.access.temporaryBlocks.max, maxTtlMs: c.access.temporaryBlocks.maxTtl });

/** Default for PrimaryOptions.startTimeoutMs. */
const START_CONFIRM_MS = 30_000;
/** What a reload did (all or nothing: a config is applied by every worker or by none). */
export interface ReloadResult { result: 'applied' | 'rejected' | 'unchanged'; version: number; errors?: readonly string[] }

/** Workers' answers awaited for one step of a config transaction. */
interface Pending { waiting: Set<number>; errors: string[]; done: () => void }

/** The answers to one step: errors, and the workers that did not answer in time. */
interface Reports { errors: string[]; missing: number[] }

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/**
 * The control plane of one node: loads and validates the config, forks one worker per core,
 * pushes each validated config to every worker, reloads on change or SIGHUP (keeping the last
 * good config when the new one is rejected), respawns crashed workers and drains on SIGTERM.
 */
export class Primary {
  private config!: Config;
  private version = 0;
  private shuttingDown = false;
  private reloading: Promise<void> = Promise.resolve();
  /** Pending steps by transaction id (`txn` in messages). */
  private readonly pending = new Map<number, Pending>();
  private txnSeq = 0;
  /** The transaction that made `config` current (sent with it to workers that start later). */
  private configTxn = 0;
  /** Workers that said hello: they receive messages (earlier ones would be lost). */
  private readonly greeted = new Set<number>();
  private readonly recentCrashes: number[] = [];
  /** A listener the first config could not bind: start fails with it, not with "invalid config". */
  private bindFailure: BindError | undefined;
  private stopWatch: () => void = () => undefined;
  private ready = false;
  private readonly health: HealthSource;
  /** Workers being replaced by a rolling restart: their exit is expected, not respawned. */
  private readonly retiring = new Set<number>();
  /** Resolvers waiting for a given worker's first `applied` (rolling restart). */
  private readonly firstApplied = new Map<number, () => void>();
  private restarting: Promise<void> | null = null;
  /** The fleet's LB nodes per zone (fleet nodes only), re-sent with every config. */
  private zoneNodes: Record<string, number> | undefined;
  /** Admin drain overrides, re-sent with every config so they outlive reloads. */
  private readonly drains: DrainMap = {};
  /** Hot-spot mitigations in force, likewise re-sent. */
  private readonly mitigations: Record<string, Mitigation> = {};
  /** Temporary blocks (admin API, spike mitigation), likewise re-sent; expiry is checked where they apply. */
  private readonly blocks = new TemporaryBlockList({ max: 1000, maxTtlMs: 86_400_000 });
  private readonly statsWaiters = new Map<number, (worker: number, s: WorkerStats) => void>();
  /** What every worker counted, exited ones included (metrics never fall). */
  private readonly ledger = new CounterLedger();
  private statsSeq = 0;
  private readonly startedAt = Date.now();
  /** Reload outcomes since start (metrics). */
  readonly reloads = { applied: 0, rejected: 0, unchanged: 0 };
  private regionsDown: string[] = [];
  /** Workers that exited unexpectedly (crash, kill) and were respawned, since start (metrics: crash loops). */
  workerRestarts = 0;
  private readonly runtimeWaiters = new Map<number, (w: ClusterWorker, a: { pid: number; metrics: RuntimeMetric[] }) => void>();

  constructor(private readonly opts: PrimaryOptions) {
    const broadcast: HealthBroadcast = (service, backend, healthy) => {
      for (const w of this.liveWorkers()) this.sendTo(w, { type: 'health', service, backend, healthy });
      this.readinessMayHaveChanged();
    };
    this.health = opts.health?.(broadcast) ?? new HealthSupervisor(opts.log, broadcast);
  }

  private workerCount(): number {
    const w = this.opts.workers ?? this.config.workers;
    return w === 'auto' ? availableParallelism() : w;
  }

  /** Loads the first config (throws ConfigError when invalid), forks workers and installs signals. */
  async start(): Promise<void> {
    this.config = await this.opts.loader.load();
    await Snapshot.build(this.config, 0, { clock: systemClock, random: systemRandom }).close();
    this.version = 1;
    this.health.apply(this.config);
    this.blocks.configure(blockLimits(this.config));
    // Round-robin hand-off through the primary spreads connections evenly over workers but costs
    // an IPC round per connection (a third of a worker's time under short connections); with one
    // worker there is nothing to spread, so the worker accepts itself.
    const d = this.config.acceptDistribution;
    cluster.schedulingPolicy = d === 'kernel' || (d === 'auto' && this.workerCount() === 1) ? cluster.SCHED_NONE : cluster.SCHED_RR;
    cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
    const n = this.workerCount();
    this.configTxn = ++this.txnSeq;
    const forked = Array.from({ length: n }, (_, i) => this.fork(i + 1).id);
    const { errors, missing } = await this.awaitReports(this.configTxn, forked, this.opts.startTimeoutMs ?? START_CONFIRM_MS);
    if (missing.length > 0) {
      // A worker that never answers (stuck, or failing before it could) must not leave a node
      // with no listener and no admin API that looks alive: stop them all and fail the start.
      this.shuttingDown = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      throw new SwitchyardError('SWY_START_TIMEOUT', `${errors.join('; ')}; the node did not start (see the log above; --start-timeout sets the wait)`);
    }
    if (this.bindFailure !== undefined) throw this.bindFailure;
    if (errors.length > 0) throw new ConfigError(this.opts.loader.name, errors);
    const gone = n - this.liveWorkers().length;
    if (gone > 0) throw new SwitchyardError('SWY_START_FAILED', `${gone} of ${n} worker(s) exited before applying the config; the node did not start (see the log above)`);
    this.ready = true;
    await this.opts.beforeReady?.();
    this.opts.log.info({ version: this.version, workers: n, listeners: this.config.listeners.map((l) => `${l.name}=${l.address}`) }, 'ready');
    let sighups = 0;
    process.on('SIGHUP', () => {
      const n = ++sighups;
      this.opts.log.info('SIGHUP: reloading');
      void this.reload().then((r) => this.opts.onSignalReload?.(n, r));
    });
    process.on('SIGUSR2', () => { this.opts.log.info('SIGUSR2: rolling restart of workers'); void this.rollingRestart(); });
    process.on('SIGTERM', () => void this.shutdown('SIGTERM'));
    process.on('SIGINT', () => void this.shutdown('SIGINT'));
    this.stopWatch = this.opts.loader.watch(() => void this.reload(), (msg) => this.opts.log.warn(msg));
    this.opts.onApplied?.(this.config);
    this.opts.onReady?.();
    this.readinessMayHaveChanged();
  }

  /** This node's readiness (runtime/readiness.ts): what /readyz, the anycast announcer and the fleet record report. */
  readiness(): Readiness {
    return evaluateReadiness({
      started: this.ready, liveWorkers: this.liveWorkers().length, draining: this.shuttingDown,
      config: this.config, health: this.health.snapshot(), drains: this.drains,
    });
  }

  private readinessMayHaveChanged(): void {
    this.pushReadiness();
    try { this.opts.onReadinessChange?.(); } catch (e) { this.opts.log.error({ err: (e as Error).message }, 'readiness listener failed'); }
  }

  /** The verdict last sent to the workers (key: ready + code), so only changes are sent. */
  private pushedReadiness = '';

  /** Tells every worker the node's readiness when it changed (their listeners' monitorPath answers it). */
  private pushReadiness(worker?: ClusterWorker): void {
    const r = this.readiness();
    const m: ToWorker = { type: 'readiness', ready: r.ready, code: r.code ?? 'ready' };
    if (worker !== undefined) { this.sendTo(worker, m); return; }
    const key = `${m.ready} ${m.code}`;
    if (key === this.pushedReadiness) return;
    this.pushedReadiness = key;
    for (const w of this.liveWorkers()) if (this.greeted.has(w.id)) this.sendTo(w, m);
  }

  private fork(id: number): ClusterWorker {
    const env = {
      SWITCHYARD_WORKERS: String(this.workerCount()),
      SWITCHYARD_WORKER_ID: String(id),
      SWITCHYARD_LOG_LEVEL: this.config.logLevel,
      ...(this.opts.zone !== undefined ? { SWITCHYARD_ZONE: this.opts.zone } : {}),
    };
    const w = cluster.fork(env);
    (w as ClusterWorker & { slot?: number }).slot = id;
    w.on('message', (m: FromWorker) => this.onWorkerMessage(w, m));
    w.on('error', (err: Error) => this.opts.log.debug({ worker: w.id, err: err.message }, 'worker channel error'));
    w.on('exit', (code, signal) => this.onWorkerExit(w, id, code, signal));
    return w;
  }

  /**
   * Sends a control message. A worker can die between the connected check and the write (the
   * once-a-second stats request makes that likely after a crash): the failure is passed to the
   * callback, since an 'error' event nobody handles would take the primary down with it. The
   * exit handler deals with the dead worker.
   */
  private sendTo(w: ClusterWorker, m: ToWorker): void {
    if (!w.isConnected()) return;
    w.send(m, (err: Error | null) => { if (err) this.opts.log.debug({ worker: w.id, err: err.message }, 'message to a worker that is gone'); });
  }

  private onWorkerMessage(w: ClusterWorker, m: FromWorker): void {
    if (m.type === 'hello') {
      this.greeted.add(w.id);
      this.sendConfig(w);
      this.pushReadiness(w);
      return;
    }
    if (m.type === 'fatal') {
      this.opts.log.fatal({ worker: w.id, error: m.error }, 'worker cannot start');
      if (m.bind !== undefined) this.bindFailure ??= new BindError(m.bind.listener, m.bind.address, m.bind.errno);
      const p = this.pending.get(this.configTxn);
      if (p !== undefined && !this.ready) { p.errors.push(`(listeners): ${m.error}`); p.done(); }
      return;
    }
    if (m.type === 'stats') { this.ledger.report(w.id, m.stats); this.statsWaiters.get(m.id)?.(w.id, m.stats); return; }
    if (m.type === 'runtime') { this.runtimeWaiters.get(m.id)?.(w, { pid: m.pid, metrics: m.metrics }); return; }
    if (m.type === 'counters') { this.ledger.push(w.id, m.counters, m.backends); return; }
    if (m.type === 'applied') { this.firstApplied.get(w.id)?.(); this.firstApplied.delete(w.id); this.readinessMayHaveChanged(); }
    const p = this.pending.get(m.txn);
    if (p === undefined || !p.waiting.delete(w.id)) {
      if (m.type === 'rejected') this.opts.log.error({ worker: w.id, version: m.version, error: m.error }, 'a worker could not apply the current config');
      return;
    }
    if (m.type === 'rejected') p.errors.push(`(worker ${w.id}): ${m.error}`);
    if (p.waiting.size === 0) p.done();
  }

  /** The current config, both phases at once: a worker that starts, or one that missed a reload while starting. */
  private sendConfig(w: ClusterWorker): void {
    this.sendTo(w, { type: 'config', txn: this.configTxn, version: this.version, config: this.config, ...this.overrides() });
    if (this.fleetNodes !== undefined) this.sendTo(w, { type: 'fleet-size', nodes: this.fleetNodes });
  }

  private fleetNodes: number | undefined;

  /** A fleet node's count of LB nodes in the membership, for the workers' fleet rate-limit fallback. */
  setFleetSize(nodes: number): void {
    if (nodes === this.fleetNodes) return;
    this.fleetNodes = nodes;
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'fleet-size', nodes });
  }

  /** Regions the fleet holds down (fleet/region-monitor.ts): every worker's GeoDNS answers skip them. */
  setRegionsDown(down: string[]): void {
    this.regionsDown = [...down];
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'regions', down: this.regionsDown });
  }

  /** What workers apply over the config: health states, admin drains, mitigations, regions down, blocks, the fleet's nodes per zone. */
  private overrides(): Overrides {
    return { health: this.health.snapshot(), drains: this.drains, mitigations: this.mitigations, regionsDown: this.regionsDown, blocks: this.blocks.list(Date.now()), ...(this.zoneNodes !== undefined ? { zoneNodes: this.zoneNodes } : {}) };
  }


  /** The fleet's LB nodes per zone (from the member list) for zone-aware balancing; sent to the workers when it changes. */
  setZoneNodes(nodes: Record<string, number>): void {
    if (JSON.stringify(nodes) === JSON.stringify(this.zoneNodes)) return;
    this.zoneNodes = nodes;
    this.opts.log.info({ zones: nodes }, 'zone-aware balancing: fleet nodes per zone');
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'zone-nodes', nodes });
  }

  private onWorkerExit(w: ClusterWorker, slot: number, code: number | null, signal: string | null): void {
    this.greeted.delete(w.id);
    this.ledger.retire(w.id);
    for (const p of [...this.pending.values()]) {
      if (p.waiting.delete(w.id) && p.waiting.size === 0) p.done();
    }
    this.firstApplied.get(w.id)?.();
    this.firstApplied.delete(w.id);
    this.readinessMayHaveChanged();
    if (this.retiring.delete(w.id)) return;
    if (this.shuttingDown || !this.ready) return;
    const now = Date.now();
    this.workerRestarts++;
    this.recentCrashes.push(now);
    while (this.recentCrashes.length > 0 && now - this.recentCrashes[0] > 60_000) this.recentCrashes.shift();
    // Back off when workers crash in a loop, so a poison config or bug does not spin the CPU.
    const delay = this.recentCrashes.length > 5 ? Math.min(30_000, 500 * 2 ** (this.recentCrashes.length - 5)) : 0;
    this.opts.log.error({ worker: w.id, code, signal, respawnInMs: delay }, 'worker exited; respawning');
    setTimeout(() => { if (!this.shuttingDown) this.fork(slot); }, delay);
  }

  /**
   * Resolves once each of `workers` answered step `txn` (prepared, applied or rejected), with the
   * errors; a worker that exits is no longer waited for, one that has not answered after
   * `timeoutMs` is reported missing (an error too).
   */
  private awaitReports(txn: number, workers: readonly number[], timeoutMs?: number): Promise<Reports> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const missing: number[] = [];
      const entry: Pending = {
        waiting: new Set(workers), errors: [],
        done: () => { clearTimeout(timer); this.pending.delete(txn); resolve({ errors: entry.errors, missing }); },
      };
      this.pending.set(txn, entry);
      if (workers.length === 0) { entry.done(); return; }
      // A worker that never answers must not hold every later reload behind this one.
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          missing.push(...entry.waiting);
          entry.errors.push(`${missing.length} worker(s) (#${missing.join(', #')}) did not answer within ${timeoutMs} ms`);
          entry.done();
        }, timeoutMs);
      }
    });
  }

  private liveWorkers(): ClusterWorker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is ClusterWorker => w !== undefined && w.isConnected());
  }

  /**
   * Re-reads the source; an invalid config is logged with every `path: reason` and the running
   * one stays. A valid one is built once here (to catch build errors), then applied by every
   * worker or by none (see `applyEverywhere`). Serialized: a reload requested during another
   * runs after it.
   */
  reload(): Promise<ReloadResult> {
    const r = this.reloading.then(() => this.reloadNow());
    this.reloading = r.then(() => undefined);
    return r;
  }

  private async reloadNow(): Promise<ReloadResult> {
    if (this.shuttingDown) return { result: 'rejected', version: this.version, errors: ['shutting down'] };
    let next: Config;
    try {
      next = await this.opts.loader.load();
      await Snapshot.build(next, this.version + 1, { clock: systemClock, random: systemRandom }).close();
    } catch (e) {
      return this.rejected(e instanceof ConfigError ? e.errors : [(e as Error).message]);
    }
    // Compared with the config in force: one rejected earlier is tried again when saved again.
    if (JSON.stringify(next) === JSON.stringify(this.config)) {
      this.opts.log.debug('config unchanged');
      this.reloads.unchanged++;
      return { result: 'unchanged', version: this.version };
    }
    if ((this.opts.workers ?? next.workers) !== (this.opts.workers ?? this.config.workers)) {
      this.opts.log.warn({ workers: next.workers }, 'a change of `workers` takes effect on restart');
    }
    const errors = await this.applyEverywhere(next);
    if (errors.length > 0) return this.rejected(errors);
    this.opts.log.info({ version: this.version, workers: this.liveWorkers().length }, 'config applied');
    this.opts.onApplied?.(next);
    this.reloads.applied++;
    this.readinessMayHaveChanged();
    return { result: 'applied', version: this.version };
  }

  private rejected(errors: readonly string[]): ReloadResult {
    this.opts.log.error({ source: this.opts.loader.name, errors, keptVersion: this.version }, `config rejected, keeping version ${this.version}: ${errors.join('; ')}`);
    this.reloads.rejected++;
    return { result: 'rejected', version: this.version, errors };
  }

  /**
   * Two-phase commit over the workers: each prepares `next` (builds its snapshot, opens the new
   * listeners, changes nothing live) and answers; only when all did within `reloadTimeout` is it
   * adopted here and committed everywhere, else every worker aborts (disposes of what it
   * prepared; a slow one does so once its prepare ends, messages being handled in order) and
   * the errors are returned. A commit cannot fail; a worker that does not confirm it in time is
   * restarted, and comes back with the adopted config, as does one that started meanwhile.
   */
  private async applyEverywhere(next: Config): Promise<string[]> {
    const txn = ++this.txnSeq;
    const version = this.version + 1;
    const timeoutMs = this.config.reloadTimeout;
    const live = this.liveWorkers().filter((w) => this.greeted.has(w.id));
    const prepared = this.awaitReports(txn, live.map((w) => w.id), timeoutMs);
    for (const w of live) this.sendTo(w, { type: 'prepare', txn, version, config: next });
    const { errors } = await prepared;
    if (errors.length > 0) {
      for (const w of this.liveWorkers()) this.sendTo(w, { type: 'abort', txn });
      return errors;
    }
    this.version = version;
    this.config = next;
    this.configTxn = txn;
    this.health.apply(next);
    this.blocks.configure(blockLimits(next));
    const overrides = this.overrides();
    const members = new Set(live.map((w) => w.id));
    const inTime = live.filter((w) => w.isConnected());
    const committed = this.awaitReports(txn, inTime.map((w) => w.id), timeoutMs);
    for (const w of this.liveWorkers()) {
      if (members.has(w.id)) this.sendTo(w, { type: 'commit', txn, ...overrides });
      else if (this.greeted.has(w.id)) this.sendConfig(w);
    }
    const { missing } = await committed;
    for (const w of inTime) {
      if (!missing.includes(w.id) || w.isDead()) continue;
      this.opts.log.error({ worker: w.id, version }, 'a worker did not confirm the commit in time: restarting it');
      w.process.kill('SIGKILL');
    }
    return [];
  }

  /**
   * Replaces every worker, one at a time, without refusing a connection: a fresh worker is
   * forked and must apply the current config (listening on the shared sockets) before the old
   * one is told to drain; the cluster stops handing the old one connections as soon as its
   * listeners close. Picks up new code on disk (e.g. after an upgrade) without a node restart.
   */
  rollingRestart(): Promise<void> {
    this.restarting ??= this.rollNow().finally(() => { this.restarting = null; });
    return this.restarting;
  }

  private async rollNow(): Promise<void> {
    const drainMs = this.config.shutdown.drainTimeout;
    let replaced = 0;
    for (const old of this.liveWorkers()) {
      if (this.shuttingDown) return;
      const slot = (old as ClusterWorker & { slot?: number }).slot ?? 1;
      const fresh = this.fork(slot);
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 15_000);
        this.firstApplied.set(fresh.id, () => { clearTimeout(timer); resolve(!fresh.isDead()); });
      });
      if (!ok) {
        this.opts.log.error({ worker: fresh.id }, 'rolling restart stopped: a new worker did not come up; the old ones keep serving');
        if (!fresh.isDead()) { this.retiring.add(fresh.id); fresh.process.kill('SIGKILL'); }
        return;
      }
      this.retiring.add(old.id);
      const exited = new Promise<void>((resolve) => old.once('exit', () => resolve()));
      this.sendTo(old, { type: 'shutdown', drainMs });
      const hardStop = setTimeout(() => old.process.kill('SIGKILL'), drainMs + 5000);
      await exited;
      clearTimeout(hardStop);
      replaced++;
    }
    this.opts.log.info({ replaced }, 'rolling restart done');
  }

  /**
   * Every worker's stats and what exited workers counted. A worker that does not answer within
   * `timeoutMs` is represented by its last known stats and pushed counters (never left out).
   */
  collectStats(timeoutMs = 500): Promise<Collection> {
    const id = ++this.statsSeq;
    const live = this.liveWorkers();
    const out = new Map<number, WorkerStats>();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.statsWaiters.delete(id);
        // Taken in one go, so a worker that exited since it answered is counted once, as retired.
        const c = this.ledger.snapshot();
        for (const [w, s] of out) if (c.workers.has(w)) c.workers.set(w, s);
        resolve(c);
      };
      const timer = setTimeout(done, timeoutMs);
      this.statsWaiters.set(id, (worker, s) => { out.set(worker, s); if (out.size >= live.length) done(); });
      if (live.length === 0) done();
      for (const w of live) this.sendTo(w, { type: 'stats', id });
    });
  }

  /** A worker's slot (1..workers): kept by the worker that replaces it. */
  private slotOf(w: ClusterWorker): number {
    return (w as ClusterWorker & { slot?: number }).slot ?? w.id;
  }

  /**
   * Every live worker's runtime metrics (process_*, nodejs_*) and pid, by worker slot, and the
   * slots alive now. A worker that does not answer within `timeoutMs` is left out of `answers`;
   * while a rolling restart has two workers in a slot, the newer one speaks for it.
   */
  collectRuntime(timeoutMs = 1000): Promise<{ answers: Map<number, { pid: number; metrics: RuntimeMetric[] }>; live: Set<number> }> {
    const id = ++this.statsSeq;
    const live = this.liveWorkers().filter((w) => this.greeted.has(w.id));
    const answers = new Map<number, { pid: number; metrics: RuntimeMetric[] }>();
    const from = new Map<number, number>();
    let answered = 0;
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.runtimeWaiters.delete(id); resolve({ answers, live: new Set(this.liveWorkers().map((w) => this.slotOf(w))) }); };
      const timer = setTimeout(done, timeoutMs);
      this.runtimeWaiters.set(id, (w, a) => {
        const slot = this.slotOf(w);
        if ((from.get(slot) ?? -1) < w.id) { from.set(slot, w.id); answers.set(slot, a); }
        if (++answered >= live.length) done();
      });
      if (live.length === 0) done();
      for (const w of live) this.sendTo(w, { type: 'runtime', id });
    });
  }

  /** Sets (or clears) an operator's drain of a backend on every worker, now and after reloads. False: unknown backend. */
  setDrain(service: string, backend: string, draining: boolean): boolean {
    const svc = this.config.services[service];
    if (svc === undefined || !svc.backends.some((b) => b.address === backend || backendKey(b.address) === backend)) return false;
    const key = backendKey(svc.backends.find((b) => b.address === backend || backendKey(b.address) === backend)!.address);
    (this.drains[service] ??= {})[key] = draining;
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'drain', service, backend: key, draining });
    this.readinessMayHaveChanged();
    return true;
  }

  /** Applies a hot-spot mitigation of a service on every worker (an empty one clears it). */
  setMitigation(service: string, m: Mitigation): void {
    const empty = m.boundedLoad === null && m.weightFactors.length === 0;
    if (empty) delete this.mitigations[service]; else this.mitigations[service] = m;
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'mitigate', service, mitigation: empty ? null : m });
  }

  /** The temporary blocks in force, soonest expiry first. */
  listBlocks(): TemporaryBlock[] {
    return this.blocks.list(Date.now());
  }

  /**
   * Adds (or extends) a temporary block on every worker, resolving once every worker applied it
   * (their answer to a later stats request proves it, as for drains).
   */
  async addBlock(cidr: string, ttlMs: number, source: TemporaryBlock['source'], reason?: string): Promise<AddResult> {
    const r = this.blocks.add(cidr, ttlMs, Date.now(), source, reason);
    if (r.ok) await this.pushBlocks();
    return r;
  }

  /** Removes a temporary block everywhere (acknowledged like addBlock); false when there is none. */
  async removeBlock(cidr: string): Promise<boolean> {
    if (!this.blocks.remove(cidr)) return false;
    await this.pushBlocks();
    return true;
  }

  private async pushBlocks(): Promise<void> {
    const blocks = this.blocks.list(Date.now());
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'blocks', blocks });
    await this.collectStats(2000);
  }

  /**
   * setDrain, resolving once every worker applied it: a worker handles control messages in
   * order, so its answer to a stats request sent after the drain proves the drain is in force.
   */
  async setDrainAcked(service: string, backend: string, draining: boolean): Promise<boolean> {
    if (!this.setDrain(service, backend, draining)) return false;
    await this.collectStats(2000);
    return true;
  }

  /** Every worker tells its HTTP clients to go (Connection: close, GOAWAY) while its listeners keep accepting; closeIdle: idle keep-alive connections are closed too. */
  goAway(closeIdle = true): void {
    for (const w of this.liveWorkers()) this.sendTo(w, { type: 'go-away', closeIdle });
  }

  /** What the admin API reports about this node's control plane. */
  /** The last health change per service and backend with its reason (empty when the health source does not say). */
  healthChanges(): ReturnType<NonNullable<HealthSource['changes']>> {
    return this.health.changes?.() ?? {};
  }

  status(): { version: number; workers: number; uptimeS: number; startedAt: string; config: Config } {
    return { version: this.version, workers: this.liveWorkers().length, uptimeS: Math.round((Date.now() - this.startedAt) / 1000), startedAt: new Date(this.startedAt).toISOString(), config: this.config };
  }

  /**
   * Drains, in the order that fails no client: readiness is lost (/readyz answers 503), then
   * `beforeDrain` (the anycast withdrawal and its wait; listeners still serve meanwhile), then
   * every worker stops accepting and tells clients to go (Connection: close, GOAWAY) while
   * in-flight requests finish up to the drain timeout; then exits 0.
   */
  async shutdown(reason: string): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopWatch();
    this.readinessMayHaveChanged();
    // Readiness fails first: probes (/readyz, monitor paths) answer 503 while the listeners still
    // serve, for shutdown.readinessDelay and the anycast withdrawal, whichever is longer.
    const delayMs = this.config.shutdown.readinessDelay;
    if (delayMs > 0) this.opts.log.info({ reason, delayMs }, 'shutting down: not ready; serving on until the readiness delay passes');
    const unready = new Promise<void>((resolve) => { setTimeout(resolve, delayMs); });
    if (this.opts.beforeDrain !== undefined) {
      this.opts.log.info({ reason }, 'shutting down: leaving the fleet\'s front door first');
      await this.opts.beforeDrain().catch((e: Error) => this.opts.log.error({ err: e.message }, 'pre-drain step failed; draining anyway'));
    }
    await unready;
    this.health.stop();
    const drainMs = this.config.shutdown.drainTimeout;
    this.opts.log.info({ reason, drainMs }, 'shutting down: draining');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is ClusterWorker => w !== undefined);
    const exited = Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) { resolve(); return; }
      w.once('exit', () => resolve());
      this.sendTo(w, { type: 'shutdown', drainMs });
    })));
    const hardStop = setTimeout(() => {
      this.opts.log.warn('drain timeout passed; killing workers');
      for (const w of workers) w.process.kill('SIGKILL');
    }, drainMs + 5000);
    await exited;
    clearTimeout(hardStop);
    await this.opts.onStopped?.().catch(() => undefined);
    this.opts.log.info('stopped');
    process.exit(0);
  }
}
