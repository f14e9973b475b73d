import type { Logger } from 'pino';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { Listener, ListenerKind } from '../listener/listener.js';
import type { ListenerRegistry } from '../listener/registry.js';
import { holdConnections, type HeldConnections } from '../net/listen.js';
import { listenerCounters } from '../observe/stats.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import { loadCertificates } from '../tls/certificates.js';
import type { FleetResumption } from '../tls/resumption.js';
import type { Clock } from '../util/clock.js';
import { AcceptGate, type GateShared } from '../listener/accept-gate.js';
import { BlockSet, type TemporaryBlock } from '../defence/access-list.js';

/** An open listener, the kind that made it and its accept checks. */
interface Open { listener: Listener; kind: ListenerKind; gate: AcceptGate }

/** Listeners opened for a config that is not live yet (see ListenerSet.prepare), and the connections they hold. */
export interface PreparedListeners {
  readonly config: Config;
  readonly opened: ReadonlyMap<string, Open>;
  readonly held: readonly HeldConnections[];
}

/** Listeners are keyed by name and address: a moved listener is a new one. */
const keyOf = (l: ListenerConfig) => `${l.name}@${l.address}`;
const nameOf = (key: string) => key.slice(0, key.lastIndexOf('@'));

/**
 * The listeners of one worker, changed all or nothing: `prepare` opens (binds) every listener a
 * new config adds — or none, closing those it opened when one fails — and checks the new
 * certificates of those it keeps, without changing any open listener; what connects to a new
 * listener meanwhile is held. `commit` then applies the new settings to the kept ones, releases
 * the held connections to the new config and closes the removed listeners; `discard` closes what
 * a rejected reload opened, held connections first. Closing a listener whose bind failed also releases the handle the cluster
 * primary made for it (see net/listen.ts).
 */
export class ListenerSet {
  private readonly open = new Map<string, Open>();
  /** The temporary blocks every listener's accept checks read. */
  private readonly shared: GateShared = { blocks: new BlockSet() };

  /** `kinds`: the listener implementations by protocol and engine (runtime/listener-kinds.ts). */
  constructor(private readonly kinds: ListenerRegistry, private readonly holder: () => SnapshotHolder, private readonly clock: Clock,
    private readonly log: Logger, private readonly workers: number) {}

  /** Opens the listeners `config` adds; throws (having closed them again) when one cannot be made or bound. */
  async prepare(config: Config, resumption: FleetResumption | null): Promise<PreparedListeners> {
    const opened = new Map<string, Open>();
    const held: HeldConnections[] = [];
    try {
      for (const l of config.listeners) {
        const open = this.open.get(keyOf(l));
        if (open !== undefined) {
          // Certificates an open listener would switch to must load now; at commit it is too late to refuse.
          if (l.tls !== undefined) loadCertificates(l.tls);
          continue;
        }
        const { kind, fallback } = this.kinds.resolve(l);
        if (fallback !== null) this.log.warn({ listener: l.name }, `${fallback}: serving with engine: ${kind.engine}`);
        const listener = kind.create(l, { holder: this.holder(), clock: this.clock, log: this.log, workers: this.workers, resumption });
        const gate = new AcceptGate(this.shared, listener.counters, this.workers);
        opened.set(keyOf(l), { listener, kind, gate });
        await listener.listen();
        // In front of the engine's accept; the hold in front of both, so held connections meet the committed rules.
        gate.install(listener.acceptor);
        held.push(holdConnections(listener.acceptor));
        this.log.debug({ listener: l.name, address: l.address }, 'listening (prepared)');
      }
    } catch (e) {
      await this.discard({ config, opened, held });
      throw e;
    }
    return { config, opened, held };
  }

  /** Makes prepared listeners live and applies `config`'s settings to the kept ones; closes the ones it drops. */
  commit(p: PreparedListeners): void {
    for (const [key, l] of p.opened) this.open.set(key, l);
    const wanted = new Map(p.config.listeners.map((l) => [keyOf(l), l]));
    for (const [key, l] of wanted) {
      const open = this.open.get(key)!;
      if (!p.opened.has(key) && this.kinds.resolve(l).kind !== open.kind) {
        this.log.warn({ listener: l.name }, 'changing a listener\'s protocol or engine takes effect on restart');
      }
      open.listener.apply(l); // also moves TLS listeners to the resumption installed at commit
      open.gate.configure(l, p.config.access);
    }
    for (const [key, o] of this.open) {
      if (!wanted.has(key)) { this.open.delete(key); listenerCounters(nameOf(key)).engines = {}; void o.listener.close(p.config.shutdown.drainTimeout); }
    }
    // After the removals: a listener moved to a new address keeps its name and gets its engine again.
    for (const [key, o] of this.open) listenerCounters(nameOf(key)).engines = { [o.kind.engine]: 1 };
    for (const h of p.held) h.release();
  }

  /** Closes what `prepare` opened for a config that will not be committed. */
  async discard(p: PreparedListeners): Promise<void> {
    for (const h of p.held) h.drop();
    await Promise.all([...p.opened.values()].map((o) => o.listener.close(0)));
  }

  /** Replaces the temporary blocks in force: the next connection accepted on any listener is checked against them. */
  setBlocks(blocks: readonly TemporaryBlock[]): void {
    this.shared.blocks = new BlockSet(blocks);
  }

  /** Tells every HTTP listener's clients to go, listeners still open (L4 pipes cannot be told); closeIdle: idle keep-alive connections closed too. */
  goAwayAll(closeIdle = true): void {
    for (const o of this.open.values()) o.listener.goAway?.(closeIdle);
  }

  /** Drains and closes every listener (worker shutdown). */
  async closeAll(drainMs: number): Promise<void> {
    await Promise.all([...this.open.values()].map((o) => o.listener.close(drainMs)));
  }
}
