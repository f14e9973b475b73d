import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { CertificateStore, type TlsSettings } from './certificates.js';

/** What the TLS front hands a connection to, by the protocol ALPN settled on. */
export interface TlsFrontHandlers {
  http1(socket: TLSSocket): void;
  http2(socket: TLSSocket): void;
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

  constructor(settings: TlsSettings, http2: boolean, private readonly listener: string, log: Logger, handlers: TlsFrontHandlers,
    /** Called after the server's default context was replaced (session-ticket hooks live on it). */
    private readonly onContextReplaced: (server: TlsServer) => void = () => undefined) {
    let server: TlsServer | undefined;
    settings = { ...settings, sessionIdContext: sessionIdContext(listener) };
    this.certs = new CertificateStore(settings,
      (err) => log.error({ listener, err: err.message }, 'certificate reload failed; keeping the previous certificates'),
      (s) => {
        const d = s.certificates[0];
        server?.setSecureContext({ cert: readFileSync(d.cert), key: readFileSync(d.key), minVersion: s.minVersion, ciphers: s.ciphers, sessionIdContext: sessionIdContext(listener) });
        if (server !== undefined) this.onContextReplaced(server);
        log.info({ listener }, 'certificates reloaded');
      });
    const first = settings.certificates[0];
    server = createTlsServer({
      cert: readFileSync(first.cert), key: readFileSync(first.key), minVersion: settings.minVersion, ciphers: settings.ciphers,
      ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      SNICallback: (name, cb) => cb(null, this.certs.contextFor(name)),
      sessionIdContext: sessionIdContext(listener),
    }, (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') handlers.http2(socket);
      else handlers.http1(socket);
    });
    server.on('tlsClientError', () => undefined);
    this.server = server;
    this.certs.watch();
  }

  /** New TLS settings from a config reload (the previous ones stay if the new files fail). */
  update(settings: TlsSettings): void {
    this.certs.update({ ...settings, sessionIdContext: sessionIdContext(this.listener) });
  }

  close(): void {
    this.certs.unwatch();
  }
}

/**
 * The TLS session-ID context: the same on every node for a listener name, so a session made on
 * one node can resume on another. (Node's default derives it from the process's command line,
 * which differs between nodes.)
 */
export function sessionIdContext(listener: string): string {
  return `switchyard:${listener}`.slice(0, 32);
}
