import type { RequestLike } from './request-like.js';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { SnapshotHolder } from '../runtime/snapshot.js';
import type { Clock } from '../util/clock.js';
import { routeRequest } from './proxy.js';
import { sendRawError } from './error-response.js';

/**
 * `Connection: upgrade` requests (WebSocket and other protocols): routed like any request, then
 * tunnelled as raw bytes to the chosen backend, which answers the upgrade itself (101 or not).
 * A plain TCP connection per tunnel rather than undici: the socket is handed over for good.
 */
export function createUpgradeHandler(
  holder: SnapshotHolder, listener: string, proto: string, clock: Clock, log: Logger,
): (req: RequestLike, socket: Duplex, head: Buffer) => void {
  return (req, clientDuplex, head) => {
    const client = clientDuplex as Socket;
    const r = routeRequest(holder, listener, proto, req, true);
    if ('code' in r) { sendRawError(client, r.code, r.detail, r.requestId); return; }
    const { endpoint: ep, service } = r;
    const started = clock.now();
    ep.begin();
    let ended = false;
    let answered = false;
    const end = () => { if (!ended) { ended = true; ep.end(clock.now() - started, clock); } };

    const upstream = connect({ host: ep.host, port: ep.port });
    upstream.setTimeout(service.config.timeouts.connect, () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      let headText = `${req.method} ${r.target} HTTP/1.1\r\n`;
      for (let i = 0; i < r.headers.length; i += 2) headText += `${r.headers[i]}: ${r.headers[i + 1]}\r\n`;
      upstream.write(headText + '\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('data', () => { answered = true; });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      log.debug({ err: err.message, backend: ep.key }, 'upgrade upstream error');
      if (!answered) sendRawError(client, 'SWY_UPSTREAM_CONNECT', `cannot connect to backend (service ${service.name})`, r.requestId);
      else client.destroy();
      end();
    });
    client.on('error', () => { upstream.destroy(); end(); });
    // end(), not destroy(): let the client receive what is already written (an error page, a last frame).
    upstream.once('close', () => { client.end(); end(); });
    client.once('close', () => { upstream.destroy(); end(); });
  };
}
