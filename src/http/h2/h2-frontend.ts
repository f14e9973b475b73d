import { createServer as createH2Server, constants, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../../config/schema.js';
import type { SnapshotHolder } from '../../snapshot/snapshot.js';
import type { Clock } from '../../util/clock.js';
import { createH2Handler } from '../node-engine.js';
import { createH2StreamHandler } from './h2-streams.js';
import { SessionIdle } from './session-idle.js';

/**
 * HTTP/2 for an https listener, on either engine: connections whose ALPN settled on `h2` are
 * handed here by the TLS front. node:http2 does the framing, flow control and HPACK; each
 * stream goes through the same routing, balancing and resilience as HTTP/1.1 and reaches
 * backends over HTTP/1.1: on the fast engine through node:http2's core stream API and H1Pool
 * (h2-streams.ts), on the node engine through the compatibility API and undici pools. The
 * server never listens itself.
 *
 * Sessions idle (no open stream) for `timeouts.keepAlive` get a GOAWAY (session-idle.ts). The fast
 * engine's stream handler counts a session's streams with the 'close' listener it has anyway; the
 * node engine's streams are counted here.
 */
export class H2Frontend {
  private readonly server: Http2Server;
  private readonly sessions = new Map<ServerHttp2Session, SessionIdle>();
  private readonly engine: 'fast' | 'node';
  private config: ListenerConfig;
  private draining = false;

  constructor(cfg: ListenerConfig, holder: SnapshotHolder, clock: Clock, log: Logger, engine: 'fast' | 'node') {
    this.config = cfg;
    this.engine = engine;
    this.server = createH2Server({
      settings: sessionSettings(cfg),
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100,
    });
    // No 'request' listener on the fast engine: node:http2 then builds no compatibility objects.
    if (engine === 'fast') this.server.on('stream', createH2StreamHandler(holder, cfg.name, clock, log, () => this.draining, (s) => this.sessions.get(s as ServerHttp2Session)));
    else this.server.on('request', createH2Handler(holder, cfg.name, clock, log, () => this.draining));
    this.server.on('session', (session: ServerHttp2Session) => this.track(session));
    this.server.on('sessionError', () => undefined); // the session is destroyed; its socket with it
  }

  /** A reload's settings: new sessions announce them; open ones keep theirs, as HTTP/1.1 connections keep their parser. */
  apply(cfg: ListenerConfig): void {
    this.config = cfg;
    this.server.updateSettings(sessionSettings(cfg));
  }

  /** Takes over a TLS connection that negotiated h2. */
  handle(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  private track(session: ServerHttp2Session): void {
    const idle = new SessionIdle(session, () => this.config.timeouts.keepAlive);
    this.sessions.set(session, idle);
    if (this.engine === 'node') {
      session.on('stream', (stream) => {
        idle.opened();
        stream.once('close', () => idle.closed());
      });
    }
    session.on('error', () => undefined);
    session.once('close', () => { idle.stop(); this.sessions.delete(session); });
    if (this.draining) session.close();
  }

  /** GOAWAY to every session: open streams finish, no new ones start. */
  drain(): void {
    this.draining = true;
    for (const s of this.sessions.keys()) s.close();
  }

  /** Cuts what is left after the drain timeout. */
  destroyAll(): void {
    for (const s of this.sessions.keys()) s.destroy(undefined, constants.NGHTTP2_CANCEL);
  }
}

/** The SETTINGS a session of this listener announces. */
function sessionSettings(cfg: ListenerConfig): { maxConcurrentStreams: number; maxHeaderListSize: number } {
  return { maxConcurrentStreams: cfg.http2.maxConcurrentStreams, maxHeaderListSize: cfg.maxHeaderSize };
}
