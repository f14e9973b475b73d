import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { listenerCounters, trackConnection, type ListenerCounters } from '../observe/stats.js';
import type { ListenerConfig } from '../config/schema.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Clock } from '../util/clock.js';
import { listenOn } from '../net/listen.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { parseClientHello } from './sni.js';
import { proxyTcp, type TcpClient } from './tcp-proxy.js';
import type { Listener, ListenerKind } from '../listener/listener.js';

/** Strips an IPv4-mapped IPv6 prefix so `::ffff:10.0.0.1` hashes and logs as `10.0.0.1`. */
function plainAddress(a: string | undefined): string {
  return a === undefined ? '' : a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * An L4 listener (`protocol: tcp`): every accepted connection is piped to a backend of the
 * listener's service, read from the current snapshot per connection (so reloads, health and
 * ejections apply to new connections; established ones are left alone). With
 * `acceptProxyProtocol`, a PROXY v1/v2 header is required first (within `timeouts.header`).
 */
export class TcpListener implements Listener {
  readonly name: string;
  readonly counters: ListenerCounters;
  readonly address: string;
  private config: ListenerConfig;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private maxConnections = 1;
  private draining = false;
  private drained: (() => void) | null = null;

  constructor(cfg: ListenerConfig, private readonly holder: SnapshotHolder, private readonly clock: Clock,
    private readonly log: Logger, private readonly workers: number) {
    this.name = cfg.name;
    this.counters = listenerCounters(cfg.name);
    this.address = cfg.address;
    this.config = cfg;
    this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    this.apply(cfg);
  }

  apply(cfg: ListenerConfig): void {
    this.config = cfg;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
  }

  /** The server that listens (its connections can be held while a reload prepares: net/listen.ts). */
  get acceptor(): Server { return this.server; }

  listen(): Promise<void> {
    return listenOn(this.server, this.address, this.log, this.name, this.config.backlog);
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.maxConnections) { socket.destroy(); return; } // late arrivals while draining are still served
    this.sockets.add(socket);
    trackConnection(this.counters, socket);
    socket.once('close', () => { this.sockets.delete(socket); if (this.sockets.size === 0) this.drained?.(); });
    socket.on('error', () => undefined);
    const local = { address: plainAddress(socket.localAddress), port: socket.localPort ?? 0 };
    const peer = { address: plainAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
    if (!this.config.acceptProxyProtocol) {
      this.start({ socket, head: Buffer.alloc(0), source: peer, destination: local });
      return;
    }
    this.readProxyHeader(socket, peer, local);
  }

  /** Reads the front tier's PROXY header; anything malformed or late closes the connection. */
  private readProxyHeader(socket: Socket, peer: TcpClient['source'], local: TcpClient['destination']): void {
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), this.config.timeouts.header);
    const onData = (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      if (r.kind !== 'ok') {
        this.log.debug({ listener: this.name, reason: r.kind === 'invalid' ? r.reason : 'no PROXY header' }, 'tcp: PROXY header refused');
        socket.destroy();
        return;
      }
      this.start({
        socket, head: buf.subarray(r.headerLength),
        source: r.source ?? peer, destination: r.destination ?? local,
      });
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  }

  private start(client: TcpClient): void {
    if (this.config.protocol === 'tls-passthrough') { this.readClientHello(client); return; }
    this.proxyTo(this.config.service, client);
  }

  private proxyTo(serviceName: string | undefined, client: TcpClient): void {
    const service = serviceName === undefined ? undefined : this.holder.current.services.get(serviceName);
    if (service === undefined) { client.socket.destroy(); return; }
    proxyTcp(client, service, this.clock, this.log, this.config.timeouts.idle);
  }

  /**
   * TLS passthrough: peeks the ClientHello (kept byte for byte and sent on first), routes on its
   * server name, never decrypts. A malformed, truncated or late hello closes the connection.
   */
  private readClientHello(client: TcpClient): void {
    const socket = client.socket;
    let buf: Buffer = client.head;
    const timer = setTimeout(() => socket.destroy(), this.config.timeouts.header);
    const decide = (): boolean => {
      const r = parseClientHello(buf);
      if (r.kind === 'incomplete') return false;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      if (r.kind === 'invalid') {
        this.log.debug({ listener: this.name, reason: r.reason }, 'tls-passthrough: invalid ClientHello');
        socket.destroy();
        return true;
      }
      this.proxyTo(sniService(this.config, r.serverName), { ...client, head: buf });
      return true;
    };
    const onData = (d: Buffer) => { buf = buf.length === 0 ? d : Buffer.concat([buf, d]); decide(); };
    socket.once('close', () => clearTimeout(timer));
    if (buf.length > 0 && decide()) return;
    socket.on('data', onData);
    socket.resume();
  }

  /** Stops accepting; open connections may finish for `drainMs`, then they are cut. */
  async close(drainMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    if (this.sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.drained = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); }),
      ]);
      clearTimeout(timer);
    }
    for (const s of this.sockets) s.destroy();
  }
}

/** The service for a server name: the first `sni` entry whose hosts match (exact or `*.` suffix), else `service`. */
export function sniService(cfg: ListenerConfig, serverName: string | undefined): string | undefined {
  if (serverName !== undefined) {
    for (const e of cfg.sni) {
      for (const h of e.hosts) {
        const host = h.toLowerCase();
        if (host === serverName) return e.service;
        if (host.startsWith('*.') && serverName.length > host.length - 1 && serverName.endsWith(host.slice(1))) return e.service;
      }
    }
  }
  return cfg.service;
}

/** `tcp` and `tls-passthrough` listeners on the node engine (net.Socket pipes). */
export const nodeTcpKind: ListenerKind = {
  name: 'tcp-node', protocols: ['tcp', 'tls-passthrough'], engine: 'node', unavailable: () => null,
  create: (cfg, c) => new TcpListener(cfg, c.holder, c.clock, c.log, c.workers),
};
