import { connect, type Socket } from 'node:net';
import { HealthProbeError } from './active-http.js';

/** What a TCP health check needs. */
export interface TcpProbeOptions {
  /** Hard limit for the connect (config default 2000). */
  timeoutMs: number;
}

/**
 * One TCP health check of `target`: resolves once a connection is established (then closes it);
 * rejects with a HealthProbeError whose code is SWY_HC_CONNECT (refused, unreachable, ...),
 * SWY_HC_TIMEOUT (not connected within `timeoutMs`) or SWY_HC_ABORTED (`signal` fired); an
 * invalid port rejects with node:net's own validation error. Never throws synchronously.
 */
export function probeTcp(target: { host: string; port: number }, opts: TcpProbeOptions, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new HealthProbeError('SWY_HC_ABORTED', 'probe aborted before it started'));
      return;
    }
    let settled = false;
    let socket: Socket;
    try {
      socket = connect({ host: target.host, port: target.port });
    } catch (err) {
      // An invalid port or host: node:net's own validation error (e.g. ERR_SOCKET_BAD_PORT).
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const finish = (err: HealthProbeError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err === null) resolve(); else reject(err);
    };
    const onAbort = (): void => finish(new HealthProbeError('SWY_HC_ABORTED', 'probe aborted'));
    const timer = setTimeout(() => finish(new HealthProbeError('SWY_HC_TIMEOUT', `not connected within ${opts.timeoutMs}ms`)), opts.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(new HealthProbeError('SWY_HC_CONNECT', `connection failed: ${err.code ?? err.message}`, { cause: err })));
  });
}
