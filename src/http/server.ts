import { createServer, type Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenerCounters, trackConnection, type ListenerCounters } from '../observe/stats.js';
import type { ListenerConfig } from '../config/schema.js';
import { listenOn } from '../net/listen.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Clock } from '../util/clock.js';
import { createHttpHandler } from './node-engine.js';
import { proxyUpgrade } from './upgrade.js';
import { allowedOffer, upgradeOffer, withoutUpgrade } from './upgrade-offer.js';
import { routeRequest } from './proxy.js';
import { sendRawError } from './error-response.js';
import type { IncomingMessage } from 'node:http';
import { TlsFront } from '../tls/tls-front.js';
import { currentResumption, type FleetResumption } from '../tls/resumption.js';
import { H2Frontend } from './h2/h2-frontend.js';
import type { Listener, ListenerKind } from '../listener/listener.js';

/** Answers for requests Node's parser refused; they never reach routing. */
function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const [status, text] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] :
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] :
    [400, 'Bad Request'];
  const body = `${status} ${text}: ${err.code ?? 'malformed request'}\n`;
  return `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * Gives an upgrade request that will not become a tunnel back to node:http as a plain request:
 * its head is re-serialized without the upgrade headers and put back in front of the unread
 * bytes (its body, anything pipelined), and node:http's own connection handler parses the socket
 * again from there, with the same strict parser and checks as any request.
 */
function servePlain(req: IncomingMessage, socket: Socket, head: Buffer, reattach: (socket: Socket) => void): void {
  const raw = withoutUpgrade(req.rawHeaders);
  let text = `${req.method} ${req.url} HTTP/1.${req.httpVersionMinor}\r\n`;
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  socket.unshift(head.length > 0 ? Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), head]) : Buffer.from(`${text}\r\n`, 'latin1'));
  reattach(socket);
}

/**
 * One HTTP listener in a worker (`engine: node`): a node:http server whose handlers read the
 * current snapshot per request; for https, behind the shared TLS front (and HTTP/2 beside it). Timeouts against slow clients (head, whole request, keep-alive idle) and the
 * connection cap come from the listener config and follow reloads.
 */
export class HttpListener implements Listener {
  readonly name: string;
  readonly counters: ListenerCounters;
  readonly address: string;
  private readonly server: Server;
  private draining = false;
  private open = 0;
  private maxConnections = 1;

  /** `workers` divides the connection cap, since every worker accepts on the shared socket. */
  constructor(cfg: ListenerConfig, holder: SnapshotHolder, clock: Clock, private readonly log: Logger, private readonly workers: number,
    /** The TLS resumption to attach to (a reload passes the one it staged). */
    resumption: FleetResumption | null = currentResumption()) {
    this.name = cfg.name;
    this.counters = listenerCounters(cfg.name);
    this.address = cfg.address;
    this.server = createServer({
      maxHeaderSize: cfg.maxHeaderSize,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      insecureHTTPParser: false,
      // How often header/request timeouts are enforced (Node's default, 30 s, lets a slowloris
      // client hold a connection far beyond `timeouts.header`).
      connectionsCheckingInterval: 500,
    });
    // The connection cap is counted here rather than with `server.maxConnections`: in a cluster
    // worker, a connection refused that way goes back to the primary and waits for another
    // worker instead of being closed.
    this.server.on('connection', (socket: Socket) => { this.admit(socket); });
    if (cfg.protocol === 'https' && cfg.tls !== undefined) {
      const h2 = cfg.http2.enabled ? new H2Frontend(cfg, holder, clock, log, 'node') : null;
      this.h2 = h2;
      // TLS is terminated in front of node:http, which then sees plain HTTP/1.1 on the socket.
      this.tls = new TlsFront(cfg.tls, h2 !== null, cfg.name, log, {
        http1: (socket) => this.server.emit('connection', socket),
        http2: (socket) => { if (this.admit(socket)) h2!.handle(socket); },
      }, resumption, () => (this.config ?? cfg).timeouts.header);
    }
    const proto = cfg.protocol === 'https' ? 'https' : 'http';
    this.server.on('request', createHttpHandler(holder, cfg.name, proto, clock, log, () => this.draining));
    // node:http hands every request carrying `Connection: upgrade` over here with its body unread.
    const httpConnection = this.server.listeners('connection')[0] as (socket: Socket) => void;
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const offered = upgradeOffer(req.method!, req.rawHeaders);
      if (offered !== undefined) {
        const routed = routeRequest(holder, cfg.name, proto, req, false);
        if ('code' in routed) { sendRawError(socket, routed.code, routed.detail, routed.requestId); return; }
        const protocols = allowedOffer(offered, routed.upgrades);
        if (protocols.length > 0) { proxyUpgrade({ method: req.method!, routed, protocols }, socket, head, clock, log); return; }
      }
      servePlain(req, socket, head, (s) => httpConnection.call(this.server, s));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      log.debug({ code: err.code, listener: this.name }, 'client error');
      if (socket.writable && (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent !== true) {
        socket.end(clientErrorResponse(err));
      } else {
        socket.destroy();
      }
    });
    this.apply(cfg);
  }

  private readonly tls: TlsFront | null = null;
  private readonly h2: H2Frontend | null = null;
  private config: ListenerConfig | undefined;
  private allGone: (() => void) | null = null;

  /**
   * The connection cap is counted here rather than with `server.maxConnections`: in a cluster
   * worker, a connection refused that way goes back to the primary and waits for another
   * worker instead of being closed. False: refused and destroyed.
   */
  private admit(socket: Socket): boolean {
    if (this.open >= this.maxConnections) { socket.destroy(); return false; }
    this.open++;
    trackConnection(this.counters, socket);
    socket.once('close', () => { if (--this.open === 0) this.allGone?.(); });
    return true;
  }

  /** Applies the settings that can change without rebinding (timeouts, connection cap, certificates). */
  apply(cfg: ListenerConfig): void {
    if (this.tls !== null && cfg.tls !== undefined && this.config !== undefined && JSON.stringify(cfg.tls) !== JSON.stringify(this.config.tls)) this.tls.update(cfg.tls);
    this.h2?.apply(cfg);
    this.tls?.setResumption(currentResumption());
    this.config = cfg;
    this.server.headersTimeout = cfg.timeouts.header;
    this.server.requestTimeout = cfg.timeouts.request;
    this.server.keepAliveTimeout = cfg.timeouts.keepAlive;
    // node:http reads the server's maxHeaderSize for each new connection (createServer only sets
    // it), so a reload applies to new connections; the reload-listeners test guards this.
    (this.server as Server & { maxHeaderSize: number }).maxHeaderSize = cfg.maxHeaderSize;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
  }

  /** The server that listens (its connections can be held while a reload prepares: net/listen.ts). */
  get acceptor(): NetServer { return this.tls?.server ?? this.server; }

  /** Binds (through the cluster primary when in a worker). */
  listen(): Promise<void> {
    return listenOn(this.tls?.server ?? this.server, this.address, this.log, this.name, this.config?.backlog);
  }


  /**
   * Tells clients to go while still accepting: `Connection: close` on every further response (new
   * connections too), GOAWAY to HTTP/2 sessions, idle connections closed with `closeIdle` (see FastHttpListener).
   */
  goAway(closeIdle = true): void {
    this.draining = true;
    this.h2?.drain();
    if (closeIdle) this.server.closeIdleConnections();
  }

  /**
   * Stops accepting, tells keep-alive clients to go (`Connection: close` on every further
   * response, idle connections closed) and resolves once every connection is gone or `drainMs`
   * passed, after which the rest are cut.
   */
  async close(drainMs: number): Promise<void> {
    this.goAway();
    // Done when every connection is gone (the node:http server alone does not see HTTP/2 ones,
    // and behind TLS it never listened).
    const closed = new Promise<void>((resolve) => { this.allGone = resolve; if (this.open === 0) resolve(); });
    this.tls?.server.close();
    this.server.close();
    const sweep = setInterval(() => this.server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); });
    await Promise.race([closed, timeout]);
    clearInterval(sweep);
    clearTimeout(timer);
    this.server.closeAllConnections();
    this.h2?.destroyAll();
    this.tls?.close();
  }
}

/** `http` and `https` listeners on the node engine (node:http, undici). */
export const nodeHttpKind: ListenerKind = {
  name: 'http-node', protocols: ['http', 'https'], engine: 'node', unavailable: () => null,
  create: (cfg, c) => new HttpListener(cfg, c.holder, c.clock, c.log, c.workers, c.resumption),
};
