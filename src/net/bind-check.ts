import { createServer } from 'node:net';
import type { Config } from '../config/schema.js';
import { parseHostPort } from '../config/address.js';
import { BindError } from './listen.js';

/**
 * Tries to bind every address `c` listens on (its listeners and the admin listener; port 0 is
 * skipped) and releases it at once. Resolves with a BindError per address that cannot be bound
 * now (busy, privileged, not on this host): what `start` would fail on. Run it against a config
 * for a node that is not running, else its own ports are reported busy.
 */
export async function unbindable(c: Config, adminAddress = c.admin?.address): Promise<BindError[]> {
  const targets = c.listeners.map((l) => ({ name: l.name, address: l.address }));
  if (adminAddress !== undefined) targets.push({ name: 'admin', address: adminAddress });
  const out: BindError[] = [];
  for (const t of targets) {
    const hp = parseHostPort(t.address, true);
    if (hp === undefined || hp.port === 0) continue;
    const server = createServer();
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ host: hp.host, port: hp.port, exclusive: true }, () => resolve(undefined));
    });
    if (err === undefined) await new Promise<void>((r) => server.close(() => r()));
    else out.push(new BindError(t.name, t.address, err.code ?? 'unknown'));
  }
  return out;
}
