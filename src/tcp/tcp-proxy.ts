import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Service } from '../upstream/service.js';
import type { Clock } from '../util/clock.js';
import { dialBackend, type Dial } from './backend-dial.js';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.js';

/** The client end of an L4 connection, after any PROXY header from a front tier was read. */
export interface TcpClient {
  socket: Socket;
  /** Bytes received before the upstream was connected (sent first, in order). */
  head: Buffer;
  /** The real client (from the PROXY header when accepted, else the socket peer). */
  source: { address: string; port: number };
  /** The address the client connected to. */
  destination: { address: string; port: number };
}

/** net.connect with a connect timeout (the `engine: node` L4 path). */
const dialNet: Dial<Socket> = (ep, timeoutMs, done) => {
  const up = connect({ host: ep.host, port: ep.port, allowHalfOpen: true, noDelay: true });
  up.setTimeout(timeoutMs);
  const onTimeout = () => { up.destroy(); finish('ETIMEDOUT'); };
  const onError = (err: NodeJS.ErrnoException) => finish(err.code ?? err.message);
  const finish = (err: string | null) => {
    up.off('timeout', onTimeout);
    up.off('error', onError);
    up.setTimeout(0);
    done(err, err === null ? up : null);
  };
  up.once('timeout', onTimeout);
  up.once('error', onError);
  up.once('connect', () => finish(null));
};

/**
 * Pipes one client connection to a backend of `service` over net.Socket (see `dialBackend` for
 * picking and retries): optionally sends a PROXY header, then relays both ways with backpressure
 * (`pipe`) and half-close: when one side ends its writing, the other side's write half is ended
 * and the opposite direction keeps flowing until it ends too. `idleMs` of silence in both
 * directions closes both.
 */
export function proxyTcp(client: TcpClient, service: Service, clock: Clock, log: Logger, idleMs: number): void {
  const hashKey = service.hashKey?.source === 'client-ip' ? client.source.address : undefined;
  const sock = client.socket;
  sock.pause();
  let closed = false;
  sock.once('close', () => { closed = true; });
  dialBackend(service, hashKey, clock, log, dialNet, {
    clientGone: () => closed,
    failed: () => sock.destroy(),
    connected(up, _ep, finished) {
      up.on('error', () => undefined); // until relay() takes over
      if (closed) { up.destroy(); finished(); return; }
      let header: Buffer | null;
      try {
        header = proxyHeader(service.config.sendProxyProtocol, client);
      } catch {
        // The client's address was unreadable (it reset before we looked): nothing to tell the backend.
        up.destroy(); sock.destroy(); finished();
        return;
      }
      if (header !== null) up.write(header);
      if (client.head.length > 0) up.write(client.head);
      relay(sock, up, idleMs, finished);
      sock.resume();
    },
  });
}

/** The PROXY header a service sends its backends, or null. Throws when an address is unusable. */
export function proxyHeader(version: 'off' | 'v1' | 'v2', client: Pick<TcpClient, 'source' | 'destination'>): Buffer | null {
  if (version === 'v1') return Buffer.from(encodeProxyV1(client.source, client.destination), 'latin1');
  if (version === 'v2') return encodeProxyV2(client.source, client.destination);
  return null;
}

/** Relays both ways with backpressure and half-close; `onDone` once both sockets are gone. */
function relay(a: Socket, b: Socket, idleMs: number, onDone: () => void): void {
  a.pipe(b); // pipe ends b's write half when a ends (allowHalfOpen keeps b readable)
  b.pipe(a);
  let closes = 0;
  const closed = () => { if (++closes === 2) onDone(); };
  a.once('close', () => { b.destroySoon(); closed(); });
  b.once('close', () => { a.destroySoon(); closed(); });
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  if (idleMs > 0) {
    // One socket's inactivity timer sees both directions: everything the backend sends is
    // written to `a`, everything the client sends is read from `a`. Node keeps these timers in
    // shared lists, cheaper per connection than a timer and two data listeners of our own.
    a.setTimeout(idleMs);
    a.once('timeout', () => { a.destroy(); b.destroy(); });
  }
}
