import { createServer, isIP, type Server } from 'node:net';
import { lookup } from 'node:dns';
import type { Logger } from 'pino';
import { listenerCounters, type ListenerCounters } from '../observe/stats.js';
import type { ListenerConfig } from '../config/schema.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Clock } from '../util/clock.js';
import { listenOn } from '../net/listen.js';
import { dialBackend, type Dial } from './backend-dial.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { parseClientHello } from './sni.js';
import { proxyHeader } from './tcp-proxy.js';
import { sniService } from './tcp-listener.js';
import { uv, type UvAddress, type UvBindings, type UvTcp } from '../net/uv.js';
import { readBeforeConnected, UvConnection } from './uv-relay.js';
import { tick, track, untrack, type Timed } from '../util/deadlines.js';
import { setNoDelayOnListener } from '../util/listener-nodelay.js';
import { SlotList } from '../util/slot-list.js';
import type { Listener, ListenerKind } from '../listener/listener.js';

type Address = { address: string; port: number };

/** The listening handle as net.Server keeps it (a TCPWrap, or cluster's round-robin stand-in). */
interface ServerHandle {
  onconnection: (err: number, client: UvTcp | undefined) => void;
  setNoDelay?: (on: boolean) => number;
}

/**
 * An L4 listener (`protocol: tcp` / `tls-passthrough`) on the fast engine: net.Server binds (so
 * cluster sharing and listen errors work as everywhere else), then its accept callback is taken
 * over and each accepted handle is relayed by `UvConnection` without ever becoming a net.Socket.
 * Behaves like `TcpListener` (the net.Socket path): services are read from the current snapshot
 * per connection, `acceptProxyProtocol` requires a PROXY header within `timeouts.header`,
 * passthrough routes on the ClientHello's server name, `close` drains then cuts.
 */
export class FastTcpListener implements Listener {
  readonly name: string;
  readonly address: string;
  private config: ListenerConfig;
  private readonly server: Server;
  /** A SlotList, not a Set: one member per connection (see slot-list.ts). */
  private readonly conns = new SlotList<'listSlot', UvConnection>('listSlot');
  readonly counters: ListenerCounters;
  private maxConnections = 1;
  private drained: (() => void) | null = null;
  private lastAcceptWarning = 0;
  private readonly dial: Dial<UvTcp>;
  /** TCP_NODELAY is set on the listening socket, and accepted sockets inherit it. */
  private noDelayInherited = false;

  constructor(cfg: ListenerConfig, private readonly holder: SnapshotHolder, private readonly clock: Clock,
    private readonly log: Logger, private readonly workers: number, private readonly uv: UvBindings) {
    this.name = cfg.name;
    this.address = cfg.address;
    this.config = cfg;
    this.counters = listenerCounters(cfg.name);
    // net.Server only binds; connections never reach its own handler.
    this.server = createServer(() => undefined);
    this.dial = dialUv(uv);
    this.apply(cfg);
  }

  apply(cfg: ListenerConfig): void {
    this.config = cfg;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
  }

  /** The server that listens (its connections can be held while a reload prepares: net/listen.ts). */
  get acceptor(): Server { return this.server; }

  async listen(): Promise<void> {
    await listenOn(this.server, this.address, this.log, this.name, this.config.backlog);
    const handle = (this.server as unknown as { _handle: ServerHandle | null })._handle;
    if (handle === null || typeof handle.onconnection !== 'function') throw new Error('listening handle not found (this Node is not supported by the fast L4 engine; use engine: node)');
    handle.onconnection = (err, client) => this.accept(err, client);
    this.noDelayInherited = setNoDelayOnListener(handle);
  }

  private accept(err: number, client: UvTcp | undefined): void {
    if (err !== 0 || client === undefined) {
      // (at most once a second: out of file descriptors, every accept fails)
      const t = Date.now();
      if (t - this.lastAcceptWarning >= 1000) {
        this.lastAcceptWarning = t;
        this.log.warn({ listener: this.name, err: this.uv.errname(err) }, 'tcp: accept failed');
      }
      return;
    }
    // late arrivals while draining are still served, like every other listener
    if (this.conns.size >= this.maxConnections) { client.close(); return; }
    const conn = new UvConnection(this.uv, client, (c) => this.closed(c));
    this.conns.add(conn);
    this.counters.accepted++;
    this.counters.active++;
    if (!this.noDelayInherited) client.setNoDelay(true);
    if (this.config.acceptProxyProtocol) this.readProxyHeader(conn);
    else this.start(conn, undefined, undefined);
  }

  private closed(c: UvConnection): void {
    this.counters.active--;
    this.counters.bytesIn += c.client.bytesRead;
    this.counters.bytesOut += c.client.bytesWritten;
    this.conns.delete(c);
    if (this.conns.size === 0) this.drained?.();
  }

  /** Reads the front tier's PROXY header; anything malformed or late closes the connection. */
  private readProxyHeader(conn: UvConnection): void {
    conn.readPrelude(this.config.timeouts.header, (buf) => {
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return false;
      if (r.kind !== 'ok') {
        this.log.debug({ listener: this.name, reason: r.kind === 'invalid' ? r.reason : 'no PROXY header' }, 'tcp: PROXY header refused');
        conn.destroy();
        return true;
      }
      conn.head = buf.subarray(r.headerLength);
      // The decision is made after the prelude reader stopped reading.
      queueMicrotask(() => this.start(conn, r.source, r.destination));
      return true;
    });
  }

  private start(conn: UvConnection, source: Address | undefined, destination: Address | undefined): void {
    if (conn.closed) return;
    if (this.config.protocol === 'tls-passthrough') { this.readClientHello(conn, source, destination); return; }
    this.proxyTo(this.config.service, conn, source, destination);
  }

  /**
   * TLS passthrough: peeks the ClientHello (kept byte for byte and sent on first), routes on its
   * server name, never decrypts. A malformed, truncated or late hello closes the connection.
   */
  private readClientHello(conn: UvConnection, source: Address | undefined, destination: Address | undefined): void {
    const decide = (buf: Buffer): boolean => {
      const r = parseClientHello(buf);
      if (r.kind === 'incomplete') return false;
      if (r.kind === 'invalid') {
        this.log.debug({ listener: this.name, reason: r.reason }, 'tls-passthrough: invalid ClientHello');
        conn.destroy();
        return true;
      }
      this.proxyTo(sniService(this.config, r.serverName), conn, source, destination);
      return true;
    };
    if (conn.head.length > 0 && decide(conn.head)) return;
    conn.readPrelude(this.config.timeouts.header, decide);
  }

  private proxyTo(serviceName: string | undefined, conn: UvConnection, source: Address | undefined, destination: Address | undefined): void {
    if (conn.closed) return;
    const service = serviceName === undefined ? undefined : this.holder.current.services.get(serviceName);
    if (service === undefined) { conn.destroy(); return; }
    const client = conn.client;
    // Addresses cost a syscall each: read only when hashing on them or telling the backend.
    const src = () => source ??= address(client, 'getpeername');
    const hashKey = service.hashKey?.source === 'client-ip' ? src()?.address : undefined;
    const sendProxy = service.config.sendProxyProtocol;
    const idleMs = this.config.timeouts.idle;
    dialBackend(service, hashKey, this.clock, this.log, this.dial, {
      clientGone: () => conn.closed,
      failed: () => conn.destroy(),
      connected: (up, _ep, finished) => {
        up.setNoDelay(true);
        if (conn.closed) { up.close(); finished(); return; }
        conn.onFinished(finished);
        let first: Uint8Array | null = conn.head.length > 0 ? conn.head : null;
        if (sendProxy !== 'off') {
          const s = src();
          const d = destination ?? address(client, 'getsockname');
          // The client's address was unreadable (it reset before we looked): nothing to tell the backend.
          if (s === undefined || d === undefined) { up.close(); conn.destroy(); return; }
          const header = proxyHeader(sendProxy, { source: s, destination: d });
          first = header === null ? first : first === null ? header : Buffer.concat([header, first]);
        }
        conn.relay(up, first, idleMs);
      },
    });
  }

  /** Stops accepting; open connections may finish for `drainMs`, then they are cut. */
  async close(drainMs: number): Promise<void> {
    this.server.close();
    if (this.conns.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.drained = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); }),
      ]);
      clearTimeout(timer);
    }
    for (const c of this.conns.toArray()) c.destroy();
  }
}

/** The socket's peer or local address (IPv4-mapped IPv6 shown as IPv4), or undefined when unreadable. */
function address(h: UvTcp, which: 'getpeername' | 'getsockname'): Address | undefined {
  const out: UvAddress = {};
  if (h[which](out) !== 0 || out.address === undefined) return undefined;
  const a = out.address;
  return { address: a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a, port: out.port ?? 0 };
}

/** Connects a raw TCP handle to a backend (resolving a host name first) within `timeoutMs`. */
function dialUv(uv: UvBindings): Dial<UvTcp> {
  return (ep, timeoutMs, done) => new UvDial(uv, ep.host, ep.port, timeoutMs, done);
}

type ConnectReq = ReturnType<UvBindings['newConnectReq']> & { dial: UvDial };

/** One connect attempt; its timeout is a deadline on the shared sweep, not a timer of its own. */
class UvDial implements Timed {
  readonly up: UvTcp;
  deadline: number;
  sweepSlot = -1;
  private settled = false;

  constructor(private readonly uv: UvBindings, host: string, private readonly port: number, timeoutMs: number,
    private readonly done: (err: string | null, up: UvTcp | null) => void) {
    this.up = uv.newSocket();
    this.deadline = tick() + timeoutMs;
    track(this);
    const family = isIP(host);
    if (family !== 0) { this.connect(host, family); return; }
    lookup(host, (err, ip, fam) => (err ? this.settle(err.code ?? 'ENOTFOUND') : this.connect(ip, fam)));
  }

  private connect(ip: string, family: number): void {
    if (this.settled) return;
    const req = this.uv.newConnectReq() as ConnectReq;
    req.dial = this;
    req.oncomplete = onConnectDone;
    req.address = ip;
    req.port = this.port;
    const err = family === 6 ? this.up.connect6(req, ip, this.port) : this.up.connect(req, ip, this.port);
    if (err !== 0) { this.settle(this.uv.errname(err)); return; }
    readBeforeConnected(this.up);
  }

  onDeadline(): void {
    this.settle('ETIMEDOUT');
  }

  /** libuv finished the connect (0, or a negative error code). */
  connectDone(status: number): void {
    this.settle(status < 0 ? this.uv.errname(status) : null);
  }

  private settle(err: string | null): void {
    if (this.settled) return;
    this.settled = true;
    untrack(this);
    if (err !== null) this.up.close();
    this.done(err, err === null ? this.up : null);
  }
}

function onConnectDone(this: ConnectReq, status: number): void {
  this.dial.connectDone(status);
}

/** `tcp` and `tls-passthrough` listeners on the fast engine: relayed on libuv handles, where this Node exposes them. */
export const fastTcpKind: ListenerKind = {
  name: 'tcp-fast', protocols: ['tcp', 'tls-passthrough'], engine: 'fast',
  unavailable: () => uv === null ? 'this Node lacks the libuv bindings of the fast L4 engine' : null,
  create: (cfg, c) => new FastTcpListener(cfg, c.holder, c.clock, c.log, c.workers, uv!),
};
