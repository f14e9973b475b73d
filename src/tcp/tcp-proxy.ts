import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Service } from '../upstream/service.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Clock } from '../util/clock.js';
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

/**
 * Pipes one client connection to a backend of `service`: pick (hashing the client address when
 * the service hashes on `client-ip`), connect with the service's connect timeout, retry the
 * connect on other backends (`retries.connectRetries`), optionally send a PROXY header, then
 * relay both ways with backpressure (`pipe`) and half-close: when one side ends its writing, the
 * other side's write half is ended and the opposite direction keeps flowing until it ends too.
 * `idleMs` of silence in both directions closes both.
 */
export function proxyTcp(client: TcpClient, service: Service, clock: Clock, log: Logger, idleMs: number): void {
  const tried = new Set<Endpoint>();
  const hashKey = service.hashKey?.source === 'client-ip' ? client.source.address : undefined;
  const sock = client.socket;
  sock.pause();
  let closed = false;
  sock.once('close', () => { closed = true; });

  const attempt = (n: number): void => {
    if (closed) return;
    const ep = service.pick({ attempt: n, hashKey, tried });
    if (ep === undefined) {
      log.debug({ service: service.name }, 'tcp: no usable backend');
      sock.destroy();
      return;
    }
    const started = clock.now();
    ep.begin();
    let connected = false;
    let ended = false;
    const end = (ok: boolean | null) => {
      if (ended) return;
      ended = true;
      ep.end(clock.now() - started, clock);
      if (ok !== null) service.recordOutcome(ep, ok);
    };
    const up = connect({ host: ep.host, port: ep.port, allowHalfOpen: true, noDelay: true });
    up.setTimeout(service.config.timeouts.connect);
    up.once('timeout', () => up.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    up.once('error', (err: NodeJS.ErrnoException) => {
      if (connected) { sock.destroy(); end(null); return; }
      end(false);
      tried.add(ep);
      const retries = service.config.retries;
      if (retries.enabled && n < retries.connectRetries) attempt(n + 1);
      else { log.debug({ service: service.name, backend: ep.key, err: err.code }, 'tcp: connect failed'); sock.destroy(); }
    });
    up.once('connect', () => {
      connected = true;
      end(true); // the connect succeeded: that is the outcome breakers and ejection see for L4
      ep.begin(); // …while the connection itself stays counted in flight until it closes
      up.setTimeout(0);
      if (closed) { up.destroy(); ep.end(0, clock); return; }
      const p = service.config.sendProxyProtocol;
      try {
        if (p === 'v1') up.write(encodeProxyV1(client.source, client.destination));
        else if (p === 'v2') up.write(encodeProxyV2(client.source, client.destination));
      } catch {
        // The client's address was unreadable (it reset before we looked): nothing to tell the backend.
        up.destroy(); sock.destroy(); ep.end(0, clock);
        return;
      }
      if (client.head.length > 0) up.write(client.head);
      relay(sock, up, idleMs, () => ep.end(clock.now() - started, clock));
      sock.resume();
    });
  };
  attempt(0);
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
