import { isIP } from 'node:net';
import { parseHostPort } from './address.js';

/**
 * True when `host` (a name or an IP, IPv6 with or without brackets) can only be reached from this
 * machine: `localhost`, 127.0.0.0/8, `::1`, or 127.x mapped into IPv6. Anything else — `0.0.0.0`,
 * `::`, a name, a short form such as `127.1` — counts as reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^(0:0:0:0:0|:):ffff:127\./.test(h);
  return false;
}

/**
 * Why an admin listener on `address` may not run as configured, or undefined when it may: off
 * loopback anyone on the network could drive it, so a token is required there.
 */
export function adminTokenProblem(address: string, token: string | undefined): string | undefined {
  if (token !== undefined) return undefined;
  const hp = parseHostPort(address, true);
  if (hp !== undefined && isLoopbackHost(hp.host)) return undefined;
  return `required when admin.address is not loopback (${address})`;
}
