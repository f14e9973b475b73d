import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { CertificateStore } from '../../tls/certificates.js';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../../config/schema.js';
import { listenOn } from '../listen.js';
import type { SnapshotHolder } from '../../runtime/snapshot.js';
import type { Service } from '../../upstream/service.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { Clock } from '../../util/clock.js';
import { createUpgradeHandler } from '../upgrade.js';
import { ClientConnection, type ConnectionContext } from './client-connection.js';
import { H1Pool } from './h1-pool.js';
import type { H1Request } from './h1-request.js';

/**
 * An HTTP/1.1 listener on the fast path (`engine: fast`, the default): raw `net` sockets with
 * Node's llhttp parser and Switchyard's own keep-alive upstream pools, instead of node:http's
 * request/response objects and undici's client. Same routing, same checks, same answers as the
 * node engine (the integration tests run against both).
 */
export class FastHttpListener implements ConnectionContext {
  readonly name: string;
  readonly address: string;
  config: ListenerConfig;
  draining = false;
  private readonly server: Server;
  private readonly conns = new Set<ClientConnection>();
  private readonly upgradeHandler: ReturnType<typeof createUpgradeHandler>;
  private maxConnections = 1;
  private open = 0;
  private drained: (() => void) | null = null;

  constructor(cfg: ListenerConfig, readonly holder: SnapshotHolder, readonly clock: Clock, readonly log: Logger, private readonly workers: number) {
    this.name = cfg.name;
    this.listener = cfg.name;
    this.address = cfg.address;
    this.config = cfg;
    this.proto = cfg.protocol === 'https' ? 'https' : 'http';
    this.upgradeHandler = createUpgradeHandler(holder, cfg.name, this.proto, clock, log);
    if (cfg.protocol === 'https' && cfg.tls !== undefined) {
      let tls: ReturnType<typeof createTlsServer> | undefined;
      const certs = new CertificateStore(cfg.tls,
        (err) => log.error({ listener: cfg.name, err: err.message }, 'certificate reload failed; keeping the previous certificates'),
        (s) => {
          const d = s.certificates[0];
          tls?.setSecureContext({ cert: readFileSync(d.cert), key: readFileSync(d.key), minVersion: s.minVersion, ciphers: s.ciphers });
          log.info({ listener: cfg.name }, 'certificates reloaded');
        });
      this.certs = certs;
      const first = cfg.tls.certificates[0];
      tls = createTlsServer({
        cert: readFileSync(first.cert), key: readFileSync(first.key), minVersion: cfg.tls.minVersion, ciphers: cfg.tls.ciphers,
        ALPNProtocols: ['http/1.1'],
        SNICallback: (name, cb) => cb(null, certs.contextFor(name)),
      }, (socket: TLSSocket) => this.accept(socket));
      tls.on('tlsClientError', () => undefined); // a failed handshake closes only that connection
      this.server = tls;
      certs.watch();
    } else {
      this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    }
    this.apply(cfg);
  }

  readonly listener: string;
  readonly proto: string;
  private readonly certs: CertificateStore | null = null;

  private accept(socket: Socket): void {
    // Counted here, not with server.maxConnections: in a cluster worker that would hand the
    // connection back to the primary to wait for another worker instead of closing it.
    if (this.open >= this.maxConnections || this.draining) { socket.destroy(); return; }
    this.open++;
    socket.once('close', () => { this.open--; if (this.open === 0) this.drained?.(); });
    this.conns.add(new ClientConnection(socket, this));
  }

  /** The pool for a routed request: the service's fast-path pool for that endpoint. */
  poolFor(routed: { service: Service; endpoint: Endpoint }): H1Pool {
    return routed.service.h1PoolOf(routed.endpoint);
  }

  upgrade(req: H1Request, socket: Socket, head: Buffer): void {
    this.upgradeHandler(req, socket, head);
  }

  closed(conn: ClientConnection): void {
    this.conns.delete(conn);
  }

  apply(cfg: ListenerConfig): void {
    if (this.certs !== null && cfg.tls !== undefined && JSON.stringify(cfg.tls) !== JSON.stringify(this.config.tls)) this.certs.update(cfg.tls);
    this.config = cfg;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.address, this.log, this.name);
  }


  /** Stops accepting; idle connections close now, busy ones after their response; the rest are cut at `drainMs`. */
  async close(drainMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    for (const c of [...this.conns]) c.drain();
    if (this.open > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.drained = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); }),
      ]);
      clearTimeout(timer);
    }
    for (const c of this.conns) c.socket.destroy();
    this.certs?.unwatch();
  }
}
