import { TLSSocket, type Server as TlsServer, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/** The TLSSocket internals this takeover relies on (Node 20: `lib/_tls_wrap.js`). */
interface TlsSocketInternals {
  _tlsOptions: Record<PropertyKey, unknown>;
  _wrapHandle(wrap: unknown, handle: unknown, active: boolean): unknown;
  _releaseControl(): boolean;
  secureConnecting: boolean;
  connecting: boolean;
}

interface AcceptingHandle {
  onconnection: (err: number, handle: { setNoDelay(on: boolean): number; close(): void } | undefined) => void;
}

const kAccepted = Symbol('switchyard.acceptedHandle');

const proto = TLSSocket.prototype as unknown as TlsSocketInternals;
/** Whether this Node's TLSSocket has the shape the takeover needs (else tls.Server's own path stays). */
export const canAcceptWithoutNetSocket = typeof proto._wrapHandle === 'function' && proto._wrapHandle.length >= 2
  && typeof proto._releaseControl === 'function';

/**
 * A server-side TLSSocket wrapped straight around an accepted TCP handle. tls.Server first makes a
 * net.Socket of every accepted handle and then a TLSSocket on top; the net.Socket does nothing
 * for us but costs its construction, its listeners and a second destroy/close at the end (about a
 * tenth of a resumed TLS 1.2 handshake's CPU).
 */
class AcceptedTlsSocket extends TLSSocket {
  _wrapHandle(wrap: unknown, handle: unknown, active: boolean): unknown {
    const self = this as unknown as TlsSocketInternals;
    return proto._wrapHandle.call(this, null, self._tlsOptions[kAccepted] ?? handle, active);
  }
}

/** As tls.Server's own 'secure' handler: hand the handshaken socket on as 'secureConnection'. */
function onSecure(this: TLSSocket & TlsSocketInternals): void {
  if (this.destroyed || !this._releaseControl()) return;
  this.secureConnecting = false;
  (this._tlsOptions.server as TlsServer).emit('secureConnection', this);
}

function onError(this: TLSSocket): void {
  this.destroy(); // a failed handshake or a reset: only this connection goes
}

/**
 * After `server` listens: accepts its connections into `AcceptedTlsSocket`s (same options as
 * tls.Server would pass, 'secureConnection' as before; 'connection' and 'tlsClientError' are not
 * emitted). `noDelay` is set on the raw handle. False when this Node cannot (nothing changed).
 */
export function acceptWithoutNetSocket(server: TlsServer, sni: SniCallback, handshakeTimeoutMs: number): boolean {
  const handle = (server as unknown as { _handle: AcceptingHandle | null })._handle;
  const creds = (server as unknown as { _sharedCreds?: SecureContext })._sharedCreds;
  if (!canAcceptWithoutNetSocket || handle === null || typeof handle.onconnection !== 'function' || creds === undefined) return false;
  handle.onconnection = (err, client) => {
    if (err !== 0 || client === undefined) return;
    client.setNoDelay(true);
    const socket = new AcceptedTlsSocket(undefined as unknown as Socket, {
      [kAccepted]: client,
      // the current default context (certificate reloads replace it with setSecureContext)
      secureContext: (server as unknown as { _sharedCreds: SecureContext })._sharedCreds,
      isServer: true,
      server,
      requestCert: false,
      rejectUnauthorized: false,
      handshakeTimeout: handshakeTimeoutMs,
      ALPNProtocols: (server as unknown as { ALPNProtocols?: Buffer }).ALPNProtocols, // already in wire format
      SNICallback: sni,
    } as ConstructorParameters<typeof TLSSocket>[1]);
    // Without a parent socket TLSSocket assumes a client still connecting; this one is connected.
    (socket as unknown as TlsSocketInternals).connecting = false;
    socket.on('secure', onSecure);
    socket.on('error', onError);
  };
  return true;
}
