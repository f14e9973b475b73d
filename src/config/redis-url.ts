import type { Redis } from 'ioredis';
import { lazyModule } from '../util/lazy-module.js';

const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

/*
 * `tlsSessionCache.redis` is checked the way the worker will use it: ioredis parses the URL
 * itself (WHATWG URL, then its own rules for the db and query options), so validation builds an
 * unconnected client from the URL and reads back the options it derived. A text check could not
 * know, e.g., that `redis://:pa/ss@host:6379` (a `/` in the password) is an invalid URL to it.
 */

/** Query parameters ioredis would honour that the config may use; others would override the client's own settings. */
const QUERY_KEYS = new Set(['password', 'username', 'db', 'family']);

/** Why ioredis could not connect with `url` as Switchyard uses it, or undefined when it could. */
export function redisUrlProblem(url: string): string | undefined {
  if (!/^rediss?:\/\//.test(url)) return 'expected redis://[user:pass@]host:port[/db] (or rediss://)';
  let client: Redis;
  try {
    client = new (ioredis().Redis)(url, { lazyConnect: true });
  } catch (e) {
    return `ioredis cannot parse it (${(e as Error).message}); percent-encode reserved characters in the password, e.g. / as %2F`;
  }
  const o = client.options;
  client.disconnect();
  const u = new URL(url);
  const unknown = [...u.searchParams.keys()].filter((k) => !QUERY_KEYS.has(k));
  if (unknown.length > 0) return `unsupported query parameter ${unknown.join(', ')} (use ${[...QUERY_KEYS].join(', ')})`;
  if (!o.host) return 'no host';
  if (!Number.isInteger(o.port) || o.port! < 1 || o.port! > 65535) return `port ${String(o.port)} out of range`;
  const db = u.searchParams.get('db') ?? u.pathname.slice(1);
  if (db !== '' && !/^\d{1,5}$/.test(db)) return `the database must be a number, got "${db}"`;
  if (![0, 4, 6].includes(o.family as number)) return `family must be 4 or 6, got "${String(o.family)}"`;
  return undefined;
}
