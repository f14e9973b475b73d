import type { Logger } from 'pino';
import type { Service } from '../upstream/service.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Clock } from '../util/clock.js';

/** Connects one upstream socket; calls `done` once with the socket or an error code ("ETIMEDOUT"…). */
export type Dial<U> = (ep: Endpoint, timeoutMs: number, done: (err: string | null, up: U | null) => void) => void;

export interface DialHandlers<U> {
  /** Whether the client went away meanwhile (a late upstream is then closed by the caller). */
  clientGone(): boolean;
  /** A backend accepted: relay, and call `finished` once when the connection is over. */
  connected(up: U, ep: Endpoint, finished: () => void): void;
  /** No backend could be reached (or none was usable): close the client. */
  failed(): void;
}

/**
 * Connects an L4 client to a backend of `service`, the same way for both L4 engines: pick (by the
 * hash key when the service hashes), dial with the service's connect timeout, and on a failed
 * connect try another backend (`retries.connectRetries`). A connect is the outcome breakers and
 * ejection see for L4; the connection then stays counted in flight on its backend until it closes.
 */
export function dialBackend<U>(service: Service, hashKey: string | undefined, clock: Clock, log: Logger, dial: Dial<U>, h: DialHandlers<U>): void {
  let tried: Set<Endpoint> | undefined; // made on the first failed connect (most connections never need it)
  const attempt = (n: number): void => {
    if (h.clientGone()) return;
    const ep = service.pick({ attempt: n, hashKey, tried });
    if (ep === undefined) {
      log.debug({ service: service.name }, 'tcp: no usable backend');
      h.failed();
      return;
    }
    const started = clock.now();
    ep.begin();
    dial(ep, service.config.timeouts.connect, (err, up) => {
      ep.end(clock.now() - started, clock);
      if (err !== null || up === null) {
        service.recordOutcome(ep, false);
        (tried ??= new Set()).add(ep);
        const retries = service.config.retries;
        if (retries.enabled && n < retries.connectRetries) { attempt(n + 1); return; }
        log.debug({ service: service.name, backend: ep.key, err }, 'tcp: connect failed');
        h.failed();
        return;
      }
      service.recordOutcome(ep, true);
      ep.begin();
      let over = false;
      h.connected(up, ep, () => {
        if (over) return;
        over = true;
        ep.end(clock.now() - started, clock);
      });
    });
  };
  attempt(0);
}
