import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of at startup: a node that never uses the
 * feature (etcd, Redis, DNS listeners, the node engine) does not pay its memory (etcd3 and ioredis
 * are 20-30 MiB of RSS each). Synchronous, so callers keep their signatures; `T` is
 * `typeof import('package')` (types only). After the first call, one property read: hot-path safe.
 */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
