import cluster from 'node:cluster';
import type { Server } from 'node:net';
import type { Logger } from 'pino';
import { parseHostPort } from '../config/address.js';
import { SwitchyardError } from '../util/errors.js';

/**
 * A listener that could not bind: which one, which address, and why (SWY_LISTEN_BUSY: another
 * process holds the address; SWY_LISTEN_DENIED: a privileged port or an address this host lacks;
 * SWY_LISTEN_FAILED: anything else). The message keeps the errno code (EADDRINUSE…) for grep.
 */
export class BindError extends SwitchyardError {
  constructor(readonly listener: string, readonly address: string, readonly errno: string) {
    const why = errno === 'EADDRINUSE' ? 'is already in use (another process listens there)'
      : errno === 'EACCES' ? 'needs privileges (ports below 1024: run as root or grant CAP_NET_BIND_SERVICE)'
        : errno === 'EADDRNOTAVAIL' ? 'is not an address of this host' : 'cannot be bound';
    super(errno === 'EADDRINUSE' ? 'SWY_LISTEN_BUSY' : errno === 'EACCES' || errno === 'EADDRNOTAVAIL' ? 'SWY_LISTEN_DENIED' : 'SWY_LISTEN_FAILED',
      `listener ${listener}: ${address} ${why} (${errno})`, 'config');
    this.name = 'BindError';
  }
}

const bindError = (err: NodeJS.ErrnoException, listener: string, address: string): Error =>
  (err.syscall === 'bind' || err.syscall === 'listen' ? new BindError(listener, address, err.code ?? 'unknown') : err);

/**
 * Listening handles the cluster primary sent this worker, by port, while a listen on that port
 * is under way. In cluster's shared-handle mode (SCHED_NONE, our default with one worker) the
 * primary binds and sends the handle; libuv reports EADDRINUSE only later, and Node's worker side
 * then rejects the listen *without closing that handle* — so each failed listen would leave a
 * socket open here and another in the primary (which closes its own when ours is closed). We
 * keep the handles to close them on such a failure.
 */
const sentHandles = new Map<number, { close(): void }[]>();

if (cluster.isWorker) {
  // Cluster's own listener (registered when the worker started) has run first: the handle's
  // close() is already the one that tells the primary.
  process.on('internalMessage', (m: { cmd?: string; key?: unknown }, handle?: { close?: () => void }) => {
    if (m?.cmd !== 'NODE_CLUSTER' || typeof m.key !== 'string' || typeof handle?.close !== 'function') return;
    // key: `${address}:${port}:${addressType}:${fd}:${index}` (the address may hold colons).
    const port = Number(m.key.split(':').at(-4));
    sentHandles.get(port)?.push(handle as { close(): void });
  });
}

/** listen(2)'s backlog when a listener sets none: Node's own default. */
export const DEFAULT_BACKLOG = 511;

/**
 * Binds `server` to a listener address (through the cluster primary when in a worker) with a
 * queue of `backlog` connections not yet accepted (the kernel caps it at net.core.somaxconn). Rejects
 * with a BindError (EADDRINUSE, EACCES…), having released every socket the attempt made (here
 * and in the primary); later server errors are logged, not thrown.
 */
export function listenOn(server: Server, address: string, log: Logger, listener: string, backlog = DEFAULT_BACKLOG): Promise<void> {
  const { host, port } = parseHostPort(address, true)!;
  const sent: { close(): void }[] = [];
  if (cluster.isWorker && port !== 0) sentHandles.set(port, sent);
  return new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      if (err.syscall !== 'bind') { reject(bindError(err, listener, address)); return; } // a failure of listen() itself closes the handle
      // A `bind` failure leaves it open. It is reported from inside cluster's message listener,
      // before ours has seen the handle: close it once that message is through.
      setImmediate(() => { for (const h of sent) h.close(); reject(bindError(err, listener, address)); });
    };
    server.once('error', failed);
    server.listen({ host, port, backlog }, () => {
      server.off('error', failed);
      server.on('error', (err) => log.error({ err, listener }, 'listener error'));
      resolve();
    });
  }).finally(() => { if (sentHandles.get(port) === sent) sentHandles.delete(port); });
}

/** What accepts a listener's connections: net.Server's listening handle (or cluster's round-robin stand-in). */
interface Acceptor { onconnection: (this: Acceptor, err: number, client?: { close(): void }) => void }

/** Connections held on a listener that is bound but not live yet (see `holdConnections`). */
export interface HeldConnections {
  /** Hands every held connection to the listener, in order, and lets later ones through. */
  release(): void;
  /** Closes the held connections unanswered (the listener is about to close). */
  drop(): void;
}

/**
 * Holds every connection `server` (listening) accepts from now on, at most `max` — later ones
 * are closed at once — until `release()` or `drop()`. For a reload's prepare phase: a listener
 * the new config adds is bound before the config is live, and what connects meanwhile must be
 * served by the new config or by nothing, not by the old one (which knows no such listener).
 * Wraps the handle's `onconnection`, so it also holds for listeners that replaced it (fast engines).
 */
export function holdConnections(server: Server, max = 1024): HeldConnections {
  const handle = (server as unknown as { _handle: Acceptor | null })._handle;
  if (handle === null || typeof handle.onconnection !== 'function') return { release: () => undefined, drop: () => undefined };
  const deliver = handle.onconnection;
  const held: [number, { close(): void } | undefined][] = [];
  handle.onconnection = (err, client) => {
    if (held.length < max) held.push([err, client]); else client?.close();
  };
  return {
    release() {
      handle.onconnection = deliver;
      for (const [err, client] of held.splice(0)) deliver.call(handle, err, client);
    },
    drop() {
      handle.onconnection = deliver;
      for (const [, client] of held.splice(0)) client?.close();
    },
  };
}
