import type { Server } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/schema.js';
import type { ListenerCounters } from '../observe/stats.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { FleetResumption } from '../tls/resumption.js';
import type { Clock } from '../util/clock.js';

/**
 * One listener of a worker, whatever its protocol and engine. A reload drives it in two phases
 * (runtime/listener-set.ts): `listen` binds it while the config is only prepared (connections
 * are held on `acceptor` until the commit), `apply` takes a committed config's settings and
 * cannot fail, `close` drains it. Each request or connection reads the holder's current snapshot.
 */
export interface Listener {
  readonly name: string;
  /** Binds the configured address; rejects (nothing to undo but `close(0)`) when it cannot. */
  listen(): Promise<void>;
  /** The server whose accepted connections a prepare holds back (net/listen.ts holdConnections). */
  readonly acceptor: Server;
  /** Applies the settings of a committed config of this listener (caps, timeouts, certificates, resumption). */
  apply(cfg: ListenerConfig): void;
  /**
   * Tells clients to go while still accepting (HTTP: `Connection: close` on every further
   * response, GOAWAY; idle connections closed unless `closeIdle` is false); absent where a protocol cannot tell (L4 pipes).
   */
  goAway?(closeIdle?: boolean): void;
  /** Stops accepting; open connections get up to `drainMs` to finish, then are cut. */
  close(drainMs: number): Promise<void>;
  /** This listener's connection and byte counters (the worker reports them to the primary). */
  readonly counters: ListenerCounters;
}

/** What every listener is made with. */
export interface ListenerContext {
  holder: SnapshotHolder;
  clock: Clock;
  log: Logger;
  /** Workers sharing the socket: per-worker caps are the configured ones divided by this. */
  workers: number;
  /** The TLS resumption a TLS listener attaches to (a reload passes the one it staged). */
  resumption: FleetResumption | null;
}

/**
 * One implementation of listener protocols on one engine: registered once
 * (runtime/listener-kinds.ts), chosen by a listener config's `protocol` and `engine`.
 */
export interface ListenerKind {
  /** Stable name; a kept listener whose config now resolves to another kind keeps its own until a restart. */
  readonly name: string;
  readonly protocols: readonly ListenerConfig['protocol'][];
  readonly engine: ListenerConfig['engine'];
  /** Why this Node cannot run the kind (null: it can); the node engine's kind of the protocol serves instead. */
  unavailable(): string | null;
  create(cfg: ListenerConfig, ctx: ListenerContext): Listener;
}
