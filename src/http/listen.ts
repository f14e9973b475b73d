import type { Server } from 'node:net';
import type { Logger } from 'pino';
import { parseHostPort } from '../config/address.js';

/**
 * Binds `server` to a listener address (through the cluster primary when in a worker). Rejects
 * with the bind error (EADDRINUSE, EACCES…); later server errors are logged, not thrown.
 */
export function listenOn(server: Server, address: string, log: Logger, listener: string): Promise<void> {
  const { host, port } = parseHostPort(address, true)!;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err, listener }, 'listener error'));
      resolve();
    });
  });
}
