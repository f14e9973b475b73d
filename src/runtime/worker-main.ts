import { availableParallelism } from 'node:os';
import { createLogger } from '../observe/log.js';
import { systemClock } from '../util/clock.js';
import { systemRandom } from '../util/random.js';
import { Worker } from './worker.js';
import { countTransition } from '../observe/stats.js';
import type { FromWorker, ToWorker } from './messages.js';
import type { ResilienceEvent } from '../upstream/service.js';

/* Entry point of a cluster worker process (see primary.ts `cluster.setupPrimary`). */
const workers = Number(process.env.SWITCHYARD_WORKERS ?? availableParallelism());
const log = createLogger(process.env.SWITCHYARD_LOG_LEVEL ?? 'info', { worker: Number(process.env.SWITCHYARD_WORKER_ID ?? 0) });
const send = (m: FromWorker) => { if (process.connected) process.send!(m); };
// Resilience transitions are logged where they happen (the worker that saw the traffic).
const events = (e: ResilienceEvent) => {
  countTransition(e.kind, e.to, e.service, e.backend);
  log.warn({ event: e }, `${e.kind}: ${e.service}/${e.backend} → ${e.to}`);
};
const zone = process.env.SWITCHYARD_ZONE || undefined;
const worker = new Worker({ clock: systemClock, random: systemRandom, events, workers, zone, fleetZones: { nodes: undefined } }, log, workers, send);

let queue = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  // One message at a time: a reload never interleaves with another.
  queue = queue.then(() => worker.handle(msg)).then(() => {
    // Linger briefly: the cluster primary may have handed this worker a connection just before
    // our listener closed; staying alive lets us answer "not accepted" so it goes to another
    // worker, where exiting at once would strand it.
    if (msg.type === 'shutdown') setTimeout(() => process.exit(0), 500);
  }, (e: Error) => {
    log.error({ err: e }, 'worker failed to handle a control message');
    // The primary waits for an answer to every config: a failure is one.
    if (msg.type === 'config' || msg.type === 'prepare') send({ type: 'rejected', txn: msg.txn, version: msg.version, error: e.message });
  });
});
// The primary owns signals; a worker must not die on the terminal's Ctrl-C before draining.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));
// Only now can messages be received (ESM loads asynchronously; earlier messages would be lost).
send({ type: 'hello' });
