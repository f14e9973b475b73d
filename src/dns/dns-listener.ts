import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/schema.js';
import { parseHostPort } from '../config/address.js';
import { listenerCounters, trackConnection, type ListenerCounters } from '../observe/stats.js';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Clock } from '../util/clock.js';
import { systemRandom } from '../util/random.js';
import { listenOn } from '../net/listen.js';
import type { Listener, ListenerKind } from '../listener/listener.js';
import { geoZoneOf } from './geo-zone.js';
import { respond, type QueryContext } from './responder.js';
import { regionsDown } from './regions-down.js';
import { SourceRate } from './source-rate.js';

/** Response bytes a TCP client may leave unread before its connection is closed. */
const MAX_TCP_BACKLOG = 64 * 1024;

const plain = (a: string | undefined) => (a === undefined ? '' : a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

/**
 * A `protocol: dns` listener: the GeoDNS responder of the config's `dns` block on UDP and TCP of
 * the same address. Bounded everywhere: queries larger than `limits.maxQuerySize` and queries
 * over a source's rate are dropped, TCP connections are capped (`maxConnections`, split across
 * workers) and closed after `limits.tcpIdle` of silence.
 */
export class DnsListener implements Listener {
  readonly name: string;
  readonly counters: ListenerCounters;
  private readonly server: Server;
  private readonly udp: UdpSocket;
  private readonly sockets = new Set<Socket>();
  private readonly rate: SourceRate;
  private maxConnections = 1;

  constructor(private cfg: ListenerConfig, private readonly holder: SnapshotHolder, clock: Clock,
    private readonly log: Logger, private readonly workers: number) {
    this.name = cfg.name;
    this.counters = listenerCounters(cfg.name);
    const host = parseHostPort(cfg.address, true)!.host;
    this.udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    this.udp.on('error', (err) => this.log.error({ err, listener: this.name }, 'dns: udp socket error'));
    this.server = createServer({ noDelay: true }, (s) => this.accept(s));
    this.rate = new SourceRate(clock, 1, 1, 16);
    this.apply(cfg);
  }

  get acceptor(): Server { return this.server; }

  /** TCP first (through the cluster primary in a worker), then UDP on the port TCP got. */
  async listen(): Promise<void> {
    await listenOn(this.server, this.cfg.address, this.log, this.name);
    const { host } = parseHostPort(this.cfg.address, true)!;
    const port = (this.server.address() as { port: number }).port;
    await new Promise<void>((resolve, reject) => {
      this.udp.once('error', reject);
      this.udp.bind({ address: host, port, exclusive: false }, () => { this.udp.off('error', reject); resolve(); });
    });
  }

  apply(cfg: ListenerConfig): void {
    this.cfg = cfg;
    this.maxConnections = Math.max(1, Math.ceil(cfg.maxConnections / this.workers));
    const l = this.holder.current.config.dns?.limits;
    if (l !== undefined) this.rate.configure(Math.max(1, l.queriesPerSecond / this.workers), Math.max(1, l.burst / this.workers), l.maxSources);
  }

  /** One query's answer, or null to drop it (no zone yet, too large, over the rate, not a query). */
  private answer(query: Buffer, source: string, transport: QueryContext['transport']): Buffer | null {
    const dns = this.holder.current.config.dns;
    const drop = (why: string) => { this.count(why); return null; };
    if (dns === undefined) return drop('dropped');
    if (query.length > dns.limits.maxQuerySize) return drop('dropped-size');
    if (!this.rate.allow(source)) return drop('dropped-rate');
    const r = respond(query, geoZoneOf(dns, systemRandom), regionsDown.current, { transport, source, maxUdpPayload: dns.limits.maxUdpPayload });
    if (r === null) return drop('dropped');
    this.count(r.outcome);
    return r.wire;
  }

  private count(outcome: string): void {
    this.counters.dns[outcome] = (this.counters.dns[outcome] ?? 0) + 1;
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    this.counters.bytesIn += msg.length;
    const out = this.answer(msg, plain(address), 'udp');
    if (out === null) return;
    this.counters.bytesOut += out.length;
    this.udp.send(out, port, address);
  }

  /** TCP: 2-byte length-prefixed queries, answered in order; a frame over the size cap closes the connection. */
  private accept(socket: Socket): void {
    if (this.sockets.size >= this.maxConnections) { socket.destroy(); return; }
    this.sockets.add(socket);
    trackConnection(this.counters, socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(this.holder.current.config.dns?.limits.tcpIdle ?? 10_000, () => socket.destroy());
    const source = plain(socket.remoteAddress);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const cap = this.holder.current.config.dns?.limits.maxQuerySize ?? 512;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len > cap) { socket.destroy(); return; }
        if (buf.length < 2 + len) return;
        const out = this.answer(buf.subarray(2, 2 + len), source, 'tcp');
        buf = buf.subarray(2 + len);
        if (out === null) continue;
        // A client that asks without reading gets cut off rather than buffered for.
        if (socket.writableLength > MAX_TCP_BACKLOG) { socket.destroy(); return; }
        const head = Buffer.alloc(2);
        head.writeUInt16BE(out.length);
        socket.write(Buffer.concat([head, out]));
      }
    });
  }

  async close(drainMs: number): Promise<void> {
    try { this.udp.close(); } catch { /* never bound */ }
    this.server.close();
    if (this.sockets.size > 0 && drainMs > 0) await new Promise((r) => setTimeout(r, Math.min(drainMs, 1000)));
    for (const s of this.sockets) s.destroy();
  }
}

/** The DNS responder (one implementation, on the node engine; the fast engine config falls back to it). */
export const dnsKind: ListenerKind = {
  name: 'dns', protocols: ['dns'], engine: 'node', unavailable: () => null,
  create: (cfg, c) => new DnsListener(cfg, c.holder, c.clock, c.log, c.workers),
};

/** The same kind registered for `engine: fast` (the default), so a dns listener needs no engine setting. */
export const dnsFastKind: ListenerKind = { ...dnsKind, name: 'dns-fast', engine: 'fast' };
