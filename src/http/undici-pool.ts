import type { Pool } from 'undici';
import { lazyModule } from '../util/lazy-module.js';
import type { PoolKind } from '../upstream/pool.js';

// Loaded with the first pool: a node whose listeners all run the fast engine never loads undici.
const undici = lazyModule<typeof import('undici')>('undici');

/** The node engine's upstream pools: an undici Pool per backend (HTTP/1.1, or h2c by prior knowledge). */
export const undiciPools: PoolKind<Pool> = {
  name: 'undici',
  create: (ep, cfg) => new (undici().Pool)(`http://${ep.key}`, {
    connections: cfg.maxConnectionsPerBackend,
    // `useH2c` inside `connect`: Pool hands that object to its connector but drops a top-level useH2c.
    connect: { timeout: cfg.timeouts.connect, ...(cfg.backendProtocol === 'h2c' ? { useH2c: true } : {}) },
    headersTimeout: cfg.timeouts.request,
    bodyTimeout: cfg.timeouts.idle,
    pipelining: 1,
    // h2c: one multiplexed HTTP/2 connection per pool connection, prior knowledge (no upgrade dance).
    ...(cfg.backendProtocol === 'h2c' ? { allowH2: true, maxConcurrentStreams: 100 } : {}),
  }),
};
