import { Socket } from 'node:net';
import { CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW, type Server as TlsServer, type SecureContext } from 'node:tls';
import { setNoDelayOnListener } from '../util/listener-nodelay.js';
import { tick, track, untrack, type Timed } from '../util/deadlines.js';
import { processBinding, uv } from '../net/uv.js';

/*
 * The fast engine's TLS accept path: the handshake runs on Node's TLSWrap (the C++ object every
 * TLSSocket drives) straight from the accepted TCP handle, and the handshaken connection becomes a
 * plain net.Socket over that TLSWrap, which reads and writes cleartext like a TLSSocket does.
 *
 * Why: tls.Server makes a net.Socket of every accepted handle and a TLSSocket on top of it. For a
 * resumed handshake that object work is most of the CPU (a CPU profile: building the TLSSocket a
 * quarter of the worker's time, its teardown a fifth, against the handshake's own crypto). Here a
 * connection costs one net.Socket, made once the handshake succeeded.
 *
 * What this path does is what `lib/_tls_wrap.js` does for a server socket, for the features the
 * https listeners use: certificate by SNI (oncertcb), ALPN, TLS 1.2 session-ID resumption through
 * the server's 'newSession'/'resumeSession' listeners (the shared Redis cache), session tickets
 * (they live in the SecureContext), the client-renegotiation limit, a handshake deadline. Not
 * offered here (tls.Server's own path has them): client certificates, OCSP stapling, PSK, keylog.
 */

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/** Node's C++ TLSWrap, as `lib/_tls_wrap.js` drives it (Node 20). */
interface TlsWrap {
  onhandshakestart: (this: TlsWrap, now: number) => void;
  onhandshakedone: (this: TlsWrap) => void;
  onclienthello: (this: TlsWrap, hello: { sessionId: Buffer; tlsTicket: boolean }) => void;
  oncertcb: (this: TlsWrap, info: { servername?: string }) => void;
  onnewsession: (this: TlsWrap, id: Buffer, session: Buffer) => void;
  onerror: (this: TlsWrap, err: Error) => void;
  onread: ((this: TlsWrap, buf: ArrayBuffer | undefined) => void) | null;
  lastHandshakeTime: number;
  handshakes: number;
  reading: boolean;
  sni_context?: unknown;
  /** Read by TLSWrap.prototype.close (lib/_tls_wrap.js): the TCP handle under this TLSWrap, and the context. */
  _parent: AcceptedHandle;
  _parentWrap: null;
  _secureContext: SecureContext;
  /** This module's per-connection state. */
  hs: Handshake;
  readStart(): number;
  enableCertCb(): void;
  enableSessionCallbacks(): void;
  setALPNProtocols(protocols: Buffer): void;
  certCbDone(): void;
  loadSession(session: Buffer): void;
  endParser(): void;
  newSessionDone(): void;
  getALPNNegotiatedProtocol(): string | false;
  getServername(): string | false;
  isSessionReused(): boolean;
  destroySSL(): void;
  close(cb?: () => void): void;
}

interface AcceptedHandle {
  setNoDelay(on: boolean): number;
  close(cb?: () => void): void;
  /** Keeps the TLSWrap alive as long as the TCP handle is open (see `acceptWithoutNetSocket`). */
  tlsWrap?: TlsWrap;
}

interface AcceptingHandle {
  onconnection: (err: number, handle: AcceptedHandle | undefined) => void;
  setNoDelay?: (on: boolean) => number;
}

interface TlsBindings {
  wrap(handle: AcceptedHandle, context: unknown, isServer: boolean, hasActiveWrite: boolean): TlsWrap;
  /** The byte count or error of the read being reported (TLSWrap is a stream like TCP's: uv.ts). */
  readResult(): number;
}

function loadBindings(): TlsBindings | null {
  try {
    if (uv === null) return null;
    const tlsWrap = processBinding('tls_wrap');
    if (tlsWrap === null) return null;
    const TLSWrap = tlsWrap.TLSWrap as { prototype: Record<string, unknown> } | undefined;
    const methods = ['enableCertCb', 'enableSessionCallbacks', 'setALPNProtocols', 'certCbDone', 'loadSession', 'endParser',
      'newSessionDone', 'getALPNNegotiatedProtocol', 'getServername', 'isSessionReused', 'destroySSL', 'readStart', 'close', 'getpeername'];
    if (typeof tlsWrap.wrap !== 'function' || TLSWrap === undefined || !methods.every((m) => typeof TLSWrap.prototype[m] === 'function')) return null;
    return { wrap: tlsWrap.wrap as TlsBindings['wrap'], readResult: uv.readResult };
  } catch {
    return null;
  }
}

const bindings = loadBindings();

/** Whether this Node has the TLSWrap shape this path needs (else tls.Server's own path stays). */
export const canAcceptWithoutNetSocket = bindings !== null;

/**
 * A handshaken TLS connection: a net.Socket reading and writing cleartext through its TLSWrap,
 * with what the https listeners read of a TLSSocket.
 */
export class TlsConnection extends Socket {
  readonly encrypted = true;
  /** Read by TLSWrap.prototype.close: its SSL is freed once the TCP handle closed. */
  ssl: TlsWrap | null;
  readonly alpnProtocol: string | false;
  readonly servername: string | false;
  private readonly reused: boolean;

  constructor(ssl: TlsWrap) {
    // The TLSWrap already reads (the handshake needed it): no second readStart.
    super({ handle: ssl, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
    this.ssl = ssl;
    this.alpnProtocol = ssl.getALPNNegotiatedProtocol();
    this.servername = ssl.getServername();
    this.reused = ssl.isSessionReused();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.ssl !== null) this.ssl.hs.closed = true; // late session callbacks find it closed
    super._destroy(err, cb);
  }

  isSessionReused(): boolean {
    return this.reused;
  }
}

/** One connection's handshake: its TLSWrap, the server whose listeners it serves, its deadline. */
class Handshake implements Timed {
  deadline: number;
  sweepSlot = -1;
  socket: TlsConnection | null = null;
  closed = false;
  newSessionPending = false;
  securePending = false;

  constructor(readonly ssl: TlsWrap, readonly server: TlsServer, readonly sni: SniCallback, timeoutMs: number) {
    this.deadline = tick() + timeoutMs;
    track(this);
  }

  onDeadline(): void {
    this.abort(); // the handshake did not finish in time
  }

  /** The handshake succeeded: the connection goes on as a net.Socket over the TLSWrap. */
  finish(): void {
    if (this.closed || this.socket !== null) return; // TLS 1.3 reports post-handshake messages as handshakes too
    untrack(this);
    this.deadline = 0;
    this.ssl.reading = true;
    const socket = new TlsConnection(this.ssl);
    this.socket = socket;
    this.server.emit('secureConnection', socket);
  }

  /** Before the handshake finished (error, EOF, deadline): close the TCP handle, then free the SSL. */
  abort(): void {
    if (this.socket !== null) { this.socket.destroy(); return; }
    if (this.closed) return;
    this.closed = true;
    if (this.deadline !== 0) { this.deadline = 0; untrack(this); }
    const ssl = this.ssl;
    // TLSWrap.prototype.close closes `_parent`; the SSL is freed in its callback, off OpenSSL's stack.
    ssl.close(() => ssl.destroySSL());
  }
}

// The TLSWrap callbacks (`this` is the TLSWrap), after lib/_tls_wrap.js's server side.

function onHandshakeStart(this: TlsWrap, now: number): void {
  const last = this.lastHandshakeTime;
  this.lastHandshakeTime = now;
  if (last === 0) return;
  this.handshakes = now - last >= CLIENT_RENEG_WINDOW * 1000 ? 1 : this.handshakes + 1;
  if (this.handshakes > CLIENT_RENEG_LIMIT) this.hs.abort(); // renegotiation flood
}

function onHandshakeDone(this: TlsWrap): void {
  const hs = this.hs;
  if (hs.newSessionPending) { hs.securePending = true; return; }
  hs.finish();
}

/** TLS 1.2 session IDs: asks the server's 'resumeSession' listener (the shared cache) before going on. */
function onClientHello(this: TlsWrap, hello: { sessionId: Buffer; tlsTicket: boolean }): void {
  const hs = this.hs;
  let once = false;
  const onSession = (err: Error | null, session: Buffer | null): void => {
    if (once || hs.closed) return;
    once = true;
    if (err) { hs.abort(); return; }
    if (session) this.loadSession(session);
    this.endParser();
  };
  if (hello.sessionId.length <= 0 || hello.tlsTicket || !hs.server.emit('resumeSession', hello.sessionId, onSession)) this.endParser();
}

function onCertCb(this: TlsWrap, info: { servername?: string }): void {
  const hs = this.hs;
  const name = info.servername;
  if (!name) { this.certCbDone(); return; }
  let once = false;
  try {
    hs.sni(name, (err, ctx) => {
      if (once || hs.closed) return;
      once = true;
      if (err) { hs.abort(); return; }
      if (ctx) this.sni_context = (ctx as unknown as { context?: unknown }).context ?? ctx;
      this.certCbDone();
    });
  } catch {
    hs.abort();
  }
}

function onNewSession(this: TlsWrap, id: Buffer, session: Buffer): void {
  const hs = this.hs;
  let once = false;
  const done = (): void => {
    if (once || hs.closed) return;
    once = true;
    this.newSessionDone();
    hs.newSessionPending = false;
    if (hs.securePending) hs.finish();
    hs.securePending = false;
  };
  hs.newSessionPending = true;
  if (!hs.server.emit('newSession', id, session, done)) done();
}

function onTlsError(this: TlsWrap, err: Error): void {
  const hs = this.hs;
  if (hs.socket !== null) hs.socket.destroy(err);
  else hs.abort(); // a failed handshake or a reset: only this connection goes
}

/** Reads during the handshake: only its end can come here (cleartext flows once the socket exists). */
function onHandshakeRead(this: TlsWrap): void {
  if (bindings!.readResult() !== 0) this.hs.abort();
}

/**
 * After `server` listens: accepts its connections on this path (see above); a handshake
 * unfinished after `handshakeMs()` is closed. Handshaken connections are emitted as
 * 'secureConnection' (a `TlsConnection`, not a TLSSocket); 'connection' and 'tlsClientError' are
 * not emitted. `noDelay` is set on the listener (inherited) or else on each raw handle. False when
 * this Node cannot (nothing changed).
 */
export function acceptWithoutNetSocket(server: TlsServer, sni: SniCallback, handshakeMs: () => number): boolean {
  const handle = (server as unknown as { _handle: AcceptingHandle | null })._handle;
  const creds = (server as unknown as { _sharedCreds?: SecureContext })._sharedCreds;
  if (bindings === null || handle === null || typeof handle.onconnection !== 'function' || creds === undefined) return false;
  const noDelayInherited = setNoDelayOnListener(handle);
  handle.onconnection = (err, client) => {
    if (err !== 0 || client === undefined) return;
    if (!noDelayInherited) client.setNoDelay(true);
    // the current default context (certificate reloads replace it with setSecureContext)
    const context = (server as unknown as { _sharedCreds: SecureContext & { context: unknown } })._sharedCreds;
    const ssl = bindings.wrap(client, context.context, true, false);
    // libuv holds the TCP handle until it is closed, but a TLSWrap is freed by GC once no JS
    // reaches it, and freeing it detaches it from the TCP handle: the next bytes from the client
    // then abort the process (node: "onread->IsFunction()"). A connection the HTTP layer has let
    // go of while it ends (`socket.end()`, then waiting for the client's close) is reached by
    // nothing else. Node's TLSSocket has the same chain: its parent socket's 'close' listener.
    client.tlsWrap = ssl;
    ssl._parent = client;
    ssl._parentWrap = null;
    ssl._secureContext = context;
    ssl.hs = new Handshake(ssl, server, sni, handshakeMs());
    ssl.lastHandshakeTime = 0;
    ssl.handshakes = 0;
    ssl.onhandshakestart = onHandshakeStart;
    ssl.onhandshakedone = onHandshakeDone;
    ssl.onclienthello = onClientHello;
    ssl.oncertcb = onCertCb;
    ssl.onnewsession = onNewSession;
    ssl.onerror = onTlsError;
    ssl.onread = onHandshakeRead;
    if (server.listenerCount('resumeSession') > 0 || server.listenerCount('newSession') > 0) ssl.enableSessionCallbacks();
    ssl.enableCertCb();
    const alpn = (server as unknown as { ALPNProtocols?: Buffer }).ALPNProtocols; // already in wire format
    if (alpn !== undefined) ssl.setALPNProtocols(alpn);
    if (ssl.readStart() !== 0) ssl.hs.abort();
  };
  return true;
}
