import { SwitchyardError } from '../util/errors.js';

/** Where the fleet config lives: etcd client endpoints and the key prefix everything sits under. */
export interface StoreUrl {
  /** `host:port` client endpoints, in the order given. */
  readonly hosts: string[];
  /** Starts with `/`, never ends with one (`/switchyard` when the URL has no path). */
  readonly prefix: string;
}

/** A store URL that cannot be used; the message names the part that is wrong. */
export class StoreUrlError extends SwitchyardError {
  constructor(url: string, reason: string) {
    super('SWY_STORE_URL_INVALID', `store url "${url}": ${reason}`, 'config');
    this.name = 'StoreUrlError';
  }
}

export const DEFAULT_STORE_PREFIX = '/switchyard';

const SCHEME = 'etcd://';
// host:port, where host is a name, an IPv4 address or a bracketed IPv6 address.
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const PREFIX_CHARS = /^[A-Za-z0-9._~\-/]*$/;

/**
 * Parses `etcd://host:port[,host:port…][/prefix]` into hosts and a normalized prefix (leading
 * slash, no trailing slash, no empty segments; `/switchyard` by default). Every host needs an
 * explicit port. Throws StoreUrlError; pure, so safe to call anywhere.
 */
export function parseStoreUrl(url: string): StoreUrl {
  const raw = url.trim();
  if (!raw.toLowerCase().startsWith(SCHEME)) {
    throw new StoreUrlError(url, `must start with ${SCHEME} (e.g. etcd://127.0.0.1:2379/switchyard)`);
  }
  const rest = raw.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (authority === '') throw new StoreUrlError(url, 'no etcd endpoint (expected host:port after etcd://)');
  if (authority.includes('@')) throw new StoreUrlError(url, 'credentials in the url are not supported');

  const hosts = authority.split(',').map((h, i) => {
    const m = HOST_PORT.exec(h);
    if (m === null) throw new StoreUrlError(url, `endpoint ${i + 1} "${h}" is not host:port`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new StoreUrlError(url, `endpoint ${i + 1} "${h}" has port ${port} outside 1-65535`);
    return `${m[1]}:${port}`;
  });
  if (new Set(hosts).size !== hosts.length) throw new StoreUrlError(url, 'an endpoint is listed twice');

  if (path.includes('?') || path.includes('#')) throw new StoreUrlError(url, 'query strings and fragments are not supported');
  if (!PREFIX_CHARS.test(path)) throw new StoreUrlError(url, `prefix "${path}" may only use letters, digits, "._~-" and "/"`);
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw new StoreUrlError(url, `prefix "${path}" may not contain "." or ".." segments`);
  return { hosts, prefix: segments.length === 0 ? DEFAULT_STORE_PREFIX : `/${segments.join('/')}` };
}

/** The inverse of parseStoreUrl, for logs and help text. */
export function formatStoreUrl(u: StoreUrl): string {
  return `${SCHEME}${u.hosts.join(',')}${u.prefix}`;
}
