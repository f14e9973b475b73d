/*
 * The node's readiness as a worker knows it: the primary computes it (runtime/readiness.ts) and
 * pushes every change to its workers, which answer a listener's `monitorPath` from it (HAProxy's
 * monitor-uri) without a round trip to the primary. A worker that is told to drain marks itself
 * not ready at once, before its listeners close.
 */

/** What a monitor path answers: ready, or the code of the condition that failed first. */
export interface NodeReadiness { ready: boolean; code: string }

let current: NodeReadiness = { ready: false, code: 'starting' };

/** The readiness this worker last heard of (not ready until the primary says otherwise). */
export function nodeReadiness(): NodeReadiness {
  return current;
}

/** Records the primary's verdict (or the worker's own drain). */
export function setNodeReadiness(r: NodeReadiness): void {
  current = { ready: r.ready, code: r.code };
}
