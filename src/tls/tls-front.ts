import { createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CertificateStore, type TlsSettings } from './certificates.js';
import { resumptionServerOptions } from './session-cache.js';
import { tlsHandshakes } from '../observe/stats.js';
import type { FleetResumption } from './resumption.js';
import { acceptWithoutNetSocket, type TlsConnection } from './tls-accept.js';

/** What the TLS front hands a connection to, by the protocol ALPN settled on. */
export interface TlsFrontHandlers {
  http1(socket: Socket): void;
  http2(socket: Socket): void;
}

/**
 * The TLS side of an https listener, shared by both engines: certificates by SNI (hot-reloaded),
 * protocol floor and ciphers, and ALPN, which offers `h2` (when enabled) before `http/1.1`.
 * Each handshaken connection goes to the HTTP/1.1 or HTTP/2 handler; a client without ALPN is
 * HTTP/1.1. A failed handshake closes only its own connection.
 */
export class TlsFront {
  readonly server: TlsServer;
  private readonly certs: CertificateStore;

  private resumption: FleetResumption | null = null;
  private readonly sni: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

  /**
   * `handshakeMs`: how long a client may take to complete its handshake (the listener's
   * `timeouts.header`, as nginx's client_header_timeout covered it) instead of Node's 120 s.
   */
  constructor(settings: TlsSettings, http2: boolean, private readonly listener: string, log: Logger, handlers: TlsFrontHandlers,
    resumption: FleetResumption | null, private readonly handshakeMs: () => number) {
    let server: TlsServer | undefined;
    settings = { ...settings, sessionIdContext: sessionIdContext(listener) };
    // Session lifetime as the shared cache keeps it (OpenSSL refuses older sessions anyway).
    const resume = resumptionServerOptions({ scope: listener, ttlMs: resumption?.settings.ttl });
    this.certs = new CertificateStore(settings,
      (err) => log.error({ listener, err: err.message }, 'certificate reload failed; keeping the previous certificates'),
      (s) => {
        const d = s.certificates[0];
        server?.setSecureContext({ cert: readFileSync(d.cert), key: readFileSync(d.key), minVersion: s.minVersion, ciphers: s.ciphers, ...resume });
        // A new default context has fresh ticket keys and no hook: hand it the fleet's again.
        if (server !== undefined) this.resumption?.reattach(server);
        log.info({ listener }, 'certificates reloaded');
      });
    const first = settings.certificates[0];
    this.sni = (name, cb) => cb(null, this.certs.contextFor(name));
    server = createTlsServer({
      cert: readFileSync(first.cert), key: readFileSync(first.key), minVersion: settings.minVersion, ciphers: settings.ciphers,
      ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      noDelay: true, // on the accepted TCP handle, before TLS wraps it
      SNICallback: this.sni,
      handshakeTimeout: handshakeMs(), // the node engine's path: fixed when the listener starts
      ...resume,
    }, (socket: TLSSocket | TlsConnection) => {
      if (socket.isSessionReused()) tlsHandshakes.resumed++; else tlsHandshakes.full++;
      if (socket.alpnProtocol === 'h2') handlers.http2(socket);
      else handlers.http1(socket);
    });
    // A failed handshake is already destroyed by Node; one that timed out is not (Node leaves that
    // to this listener): without the destroy a client that never finishes stays open.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    this.server = server;
    this.certs.watch();
    this.setResumption(resumption);
  }

  /**
   * Once listening (fast engine): handshakes run on a TLSWrap made straight from each accepted
   * handle, without a TLSSocket (see tls-accept.ts). False when this Node cannot.
   */
  acceptDirect(): boolean {
    return acceptWithoutNetSocket(this.server, this.sni, this.handshakeMs);
  }

  /** Attaches the fleet's shared session cache and ticket keys (null: this process's own only). */
  setResumption(r: FleetResumption | null): void {
    if (r === this.resumption) return;
    this.resumption?.detach(this.server);
    this.resumption = r;
    r?.attach(this.server);
  }

  /** New TLS settings from a config reload (the previous ones stay if the new files fail). */
  update(settings: TlsSettings): void {
    this.certs.update({ ...settings, sessionIdContext: sessionIdContext(this.listener) });
  }

  close(): void {
    this.certs.unwatch();
    this.resumption?.detach(this.server);
  }
}

/**
 * The TLS session-ID context: the same on every node for a listener name, so a session made on
 * one node can resume on another. (Node's default derives it from the process's command line,
 * which differs between nodes.)
 */
export function sessionIdContext(listener: string): string {
  return resumptionServerOptions({ scope: listener }).sessionIdContext;
}
