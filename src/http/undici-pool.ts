import type { Socket } from 'node:net';
import type { buildConnector, Pool } from 'undici';
import { lazyModule } from '../util/lazy-module.js';
import type { PoolKind } from '../upstream/pool.js';

// Loaded with the first pool: a node whose listeners all run the fast engine never loads undici.
const undici = lazyModule<typeof import('undici')>('undici');

/** The node engine's upstream pools: an undici Pool per backend (HTTP/1.1, or h2c by prior knowledge). */
export const undiciPools: PoolKind<Pool> = {
  name: 'undici',
  create: (ep, cfg) => {
    // `useH2c` inside `connect`: Pool hands that object to its connector but drops a top-level useH2c.
    const h2c = { timeout: cfg.timeouts.connect, useH2c: true };
    return new (undici().Pool)(`http://${ep.key}`, {
      connections: cfg.maxConnectionsPerBackend,
      connect: cfg.backendProtocol === 'h2c' ? h2c : markingReuse(undici().buildConnector({ timeout: cfg.timeouts.connect })),
      headersTimeout: cfg.timeouts.request,
      bodyTimeout: cfg.timeouts.idle,
      pipelining: 1,
      // h2c: one multiplexed HTTP/2 connection per pool connection, prior knowledge (no upgrade dance).
      ...(cfg.backendProtocol === 'h2c' ? { allowH2: true, maxConcurrentStreams: 100 } : {}),
    });
  },
};

/**
 * Whether an upstream error came from a connection that had already read a response, i.e. a
 * reused keep-alive connection (undici does not say; see `markingReuse`). A failure there before
 * any response byte is most likely the backend closing the idle connection as the request arrived.
 */
export function onReusedConnection(err: Error): boolean {
  const e = err as { [REUSED]?: boolean; socket?: { bytesRead?: number } };
  // Our mark on socket errors (ECONNRESET, EPIPE); undici's SocketError ("other side closed") carries the socket's counters.
  return e[REUSED] === true || (e.socket?.bytesRead ?? 0) > 0;
}

const REUSED = Symbol('switchyard.reusedConnection');

/** Wraps undici's connector so that a socket's error says whether the socket had read anything before. */
function markingReuse(connector: buildConnector.connector): buildConnector.connector {
  return (options, callback) => connector(options, (...args: Parameters<buildConnector.Callback>) => {
    const socket = args[1] as Socket | null;
    // Before undici's own listener, which hands this same error object to the request.
    socket?.prependListener('error', markReuse);
    callback(...args);
  });
}

function markReuse(this: Socket, err: Error): void { (err as { [REUSED]?: boolean })[REUSED] = this.bytesRead > 0; }
