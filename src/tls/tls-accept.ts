import { TLSSocket, type Server as TlsServer, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import { setNoDelayOnListener } from '../util/listener-nodelay.js';
import { tick, track, untrack, type Timed } from '../util/deadlines.js';

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
  setNoDelay?: (on: boolean) => number;
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
class AcceptedTlsSocket extends TLSSocket implements Timed {
  /**
   * The handshake's deadline on the fast engine's shared sweep, instead of Node's handshake
   * timer: that one is armed per connection and refreshed on every read and write of the
   * handshake.
   */
  deadline = 0;

  _wrapHandle(wrap: unknown, handle: unknown, active: boolean): unknown {
    const self = this as unknown as TlsSocketInternals;
    return proto._wrapHandle.call(this, null, self._tlsOptions[kAccepted] ?? handle, active);
  }

  onDeadline(): void {
    if (!this.destroyed) this.destroy(); // the handshake did not finish in time
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.deadline !== 0) { this.deadline = 0; untrack(this); }
    super._destroy(err, cb);
  }
}

/** As tls.Server's own 'secure' handler: hand the handshaken socket on as 'secureConnection'. */
function onSecure(this: AcceptedTlsSocket & TlsSocketInternals): void {
  if (this.deadline !== 0) { this.deadline = 0; untrack(this); }
  if (this.destroyed || !this._releaseControl()) return;
  this.secureConnecting = false;
  (this._tlsOptions.server as TlsServer).emit('secureConnection', this);
}

function onError(this: TLSSocket): void {
  this.destroy(); // a failed handshake or a reset: only this connection goes
}

/**
 * After `server` listens: accepts its connections into `AcceptedTlsSocket`s (same options as
 * tls.Server would pass, a handshake unfinished after `handshakeMs()` is closed, 'secureConnection' as before; 'connection' and 'tlsClientError' are not
 * emitted). `noDelay` is set on the listener (inherited) or else on each raw handle. False when this Node cannot (nothing changed).
 */
export function acceptWithoutNetSocket(server: TlsServer, sni: SniCallback, handshakeMs: () => number): boolean {
  const handle = (server as unknown as { _handle: AcceptingHandle | null })._handle;
  const creds = (server as unknown as { _sharedCreds?: SecureContext })._sharedCreds;
  if (!canAcceptWithoutNetSocket || handle === null || typeof handle.onconnection !== 'function' || creds === undefined) return false;
  const noDelayInherited = setNoDelayOnListener(handle);
  handle.onconnection = (err, client) => {
    if (err !== 0 || client === undefined) return;
    if (!noDelayInherited) client.setNoDelay(true);
    const socket = new AcceptedTlsSocket(undefined as unknown as Socket, {
      [kAccepted]: client,
      // the current default context (certificate reloads replace it with setSecureContext)
      secureContext: (server as unknown as { _sharedCreds: SecureContext })._sharedCreds,
      isServer: true,
      server,
      requestCert: false,
      rejectUnauthorized: false,
      handshakeTimeout: 0, // see AcceptedTlsSocket.deadline
      ALPNProtocols: (server as unknown as { ALPNProtocols?: Buffer }).ALPNProtocols, // already in wire format
      SNICallback: sni,
    } as ConstructorParameters<typeof TLSSocket>[1]);
    // Without a parent socket TLSSocket assumes a client still connecting; this one is connected.
    (socket as unknown as TlsSocketInternals).connecting = false;
    socket.on('secure', onSecure);
    socket.on('error', onError);
    socket.deadline = tick() + handshakeMs();
    track(socket);
  };
  return true;
}
