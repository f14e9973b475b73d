import { createServer, type Server, type Socket } from 'node:net';
import { TlsFront } from '../../tls/tls-front.js';
import { currentResumption, type FleetResumption } from '../../tls/resumption.js';
import { H2Frontend } from '../h2/h2-frontend.js';
import type { Logger } from 'pino';
import { countAccepted, countClosed, listenerCounters, type ListenerCounters } from '../../observe/stats.js';
import type { ListenerConfig } from '../../config/schema.js';
import { listenOn } from '../../net/listen.js';
import type { SnapshotHolder } from '../../snapshot/snapshot.js';
import type { Clock } from '../../util/clock.js';
import { proxyUpgrade, type UpgradeRequest } from '../upgrade.js';
import { ClientConnection, type ConnectionContext } from './client-connection.js';
import { SlotList } from '../../util/slot-list.js';
import type { Listener, ListenerKind } from '../../listener/listener.js';

/**
 * An HTTP/1.1 listener on the fast path (`engine: fast`, the default): raw `net` sockets with
 * Node's llhttp parser and Switchyard's own keep-alive upstream pools, instead of node:http's
 * request/response objects and undici's client. Same routing, same checks, same answers as the
 * node engine (the integration tests run against both).
 */
export class FastHttpListener implements ConnectionContext, Listener {
  readonly name: string;
  readonly counters: ListenerCounters;
  readonly address: string;
  config: ListenerConfig;
  draining = false;
  private readonly server: Server;
  /** A SlotList, not a Set: one member per connection (see slot-list.ts). */
  private readonly conns = new SlotList<'listSlot', ClientConnection>('listSlot');
  private maxConnections = 1;
  private open = 0;
  private drained: (() => void) | null = null;

  constructor(cfg: ListenerConfig, readonly holder: SnapshotHolder, readonly clock: Clock, readonly log: Logger, private readonly workers: number,
    /** The TLS resumption to attach to (a reload passes the one it staged). */
    resumption: FleetResumption | null = currentResumption()) {
    this.name = cfg.name;
    this.counters = listenerCounters(cfg.name);
    this.listener = cfg.name;
    this.address = cfg.address;
    this.config = cfg;
    this.proto = cfg.protocol === 'https' ? 'https' : 'http';
    if (cfg.protocol === 'https' && cfg.tls !== undefined) {
      const h2 = cfg.http2.enabled ? new H2Frontend(cfg, holder, clock, log, 'fast') : null;
      this.h2 = h2;
      this.tls = new TlsFront(cfg.tls, h2 !== null, cfg.name, log, {
        http1: (socket) => this.accept(socket),
        http2: (socket) => {
          if (!this.admit(socket)) return;
          socket.on('close', () => this.connectionClosed(socket));
          h2!.handle(socket);
        },
      }, resumption, () => this.config.timeouts.header);
      this.server = this.tls.server;
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    }
    this.apply(cfg);
  }

  readonly listener: string;
  readonly proto: string;
  private readonly tls: TlsFront | null = null;
  private readonly h2: H2Frontend | null = null;

  /**
   * Counts a connection against the cap (here, not with server.maxConnections: in a cluster
   * worker that would hand the connection back to the primary to wait for another worker
   * instead of closing it). False: refused and closed. A connection arriving while draining is
   * still served (with `Connection: close`): the cluster handed it over before our listener
   * closed, and refusing it would fail a client during a rolling restart. An admitted socket's
   * 'close' must call connectionClosed (ClientConnection does: one listener per connection, not three).
   */
  private admit(socket: Socket): boolean {
    if (this.open >= this.maxConnections) { socket.destroy(); return false; }
    this.open++;
    countAccepted(this.counters);
    return true;
  }

  connectionClosed(socket: Socket): void {
    countClosed(this.counters, socket);
    this.open--;
    if (this.open === 0) this.drained?.();
  }

  private accept(socket: Socket): void {
    if (this.admit(socket)) this.conns.add(new ClientConnection(socket, this));
  }

  upgrade(up: UpgradeRequest, socket: Socket, head: Buffer): void {
    proxyUpgrade(up, socket, head, this.clock, this.log);
  }

  closed(conn: ClientConnection): void {
    this.conns.delete(conn);
  }

  apply(cfg: ListenerConfig): void {
    if (this.tls !== null && cfg.tls !== undefined && JSON.stringify(cfg.tls) !== JSON.stringify(this.config.tls)) this.tls.update(cfg.tls);
    this.h2?.apply(cfg);
    this.tls?.setResumption(currentResumption());
    this.config = cfg;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
  }

  /** The server that listens (its connections can be held while a reload prepares: net/listen.ts). */
  get acceptor(): Server { return this.server; }

  async listen(): Promise<void> {
    await listenOn(this.server, this.address, this.log, this.name, this.config.backlog);
    if (this.tls !== null && !this.tls.acceptDirect()) this.log.debug({ listener: this.name }, 'tls: this Node keeps tls.Server\'s own accept path');
  }


  /**
   * Tells clients to go while still accepting: every later response (new connections too) carries
   * `Connection: close`, HTTP/2 sessions get GOAWAY, and with `closeIdle` idle connections close
   * now, busy ones after their response. The anycast drain does this before it withdraws the VIP.
   */
  goAway(closeIdle = true): void {
    this.draining = true;
    if (closeIdle) for (const c of this.conns.toArray()) c.drain();
    this.h2?.drain();
  }

  /** Stops accepting; idle connections close now, busy ones after their response; the rest are cut at `drainMs`. */
  async close(drainMs: number): Promise<void> {
    this.server.close();
    this.goAway();
    if (this.open > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.drained = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); }),
      ]);
      clearTimeout(timer);
    }
    for (const c of this.conns.toArray()) c.socket.destroy();
    this.h2?.destroyAll();
    this.tls?.close();
  }
}

/** `http` and `https` listeners on the fast engine (the default). */
export const fastHttpKind: ListenerKind = {
  name: 'http-fast', protocols: ['http', 'https'], engine: 'fast', unavailable: () => null,
  create: (cfg, c) => new FastHttpListener(cfg, c.holder, c.clock, c.log, c.workers, c.resumption),
};
