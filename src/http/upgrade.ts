import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import type { RoutedRequest } from './proxy.js';
import { VIA } from './proxy.js';
import { sendRawError, type ProxyErrorCode } from './error-response.js';
import { filterRefusal } from './pipeline/admission.js';
import { responseHeaders } from './headers.js';
import { switchMatches } from './upgrade-offer.js';
import { createParser, type NativeParser, type ParserCallbacks } from './h1/native-parser.js';

/** An upgrade request both engines hand over: routed, with the protocols the route allows. */
export interface UpgradeRequest {
  readonly method: string;
  readonly routed: RoutedRequest;
  /** Offered protocols the route allows, as the client spelled them (forwarded in `Upgrade`). */
  readonly protocols: readonly string[];
}

function header(raw: readonly string[], lowerName: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === lowerName) { if (found !== undefined) return undefined; found = raw[i + 1]; }
  }
  return found;
}

/**
 * Proxies one upgrade request (WebSocket and the other protocols a route allows). The request
 * goes to the backend on a fresh TCP connection; the client is not read meanwhile. The connection
 * becomes a raw tunnel only when the backend answers `101` whose `Upgrade` names a protocol that
 * was asked for. Any other final answer is relayed with HTTP/1.1 framing and `Connection: close`,
 * and the client connection closes after it: whatever the client sent behind the request (a
 * smuggled second request) is never read, parsed or forwarded. A `101` for another protocol is a
 * 502. `head`: bytes the client sent after the request head, forwarded only once switched.
 */
export function proxyUpgrade(up: UpgradeRequest, client: Socket, head: Buffer, clock: Clock, log: Logger): void {
  client.pause();
  const { routed, protocols } = up;
  // Admission filters hold for upgrades too: an Upgrade header must not be a way around a rate limit.
  const no = filterRefusal(routed);
  if (no !== null) { sendRawError(client, no.code, no.detail, routed.requestId, no.headers); closeAfterReply(client); return; }
  const { endpoint: ep, service, requestId } = routed;
  const started = clock.now();
  ep.begin();
  let ended = false;
  const end = () => { if (!ended) { ended = true; ep.end(clock.now() - started, clock); } };
  /** Nothing written to the client yet: an error can still be answered. */
  let answered = false;
  let parser: NativeParser | null = null;

  const fail = (code: ProxyErrorCode, detail: string) => {
    upstream.destroy();
    if (!answered) { answered = true; sendRawError(client, code, `${detail} (service ${service.name})`, requestId); closeAfterReply(client); } else client.destroy();
    end();
  };

  const upstream = connect({ host: ep.host, port: ep.port });
  upstream.setNoDelay(true);
  upstream.setTimeout(service.config.timeouts.connect, () => fail('SWY_UPSTREAM_CONNECT', 'cannot connect to backend'));
  upstream.once('connect', () => {
    upstream.setTimeout(service.config.timeouts.request, () => fail('SWY_UPSTREAM_TIMEOUT', 'backend did not answer the upgrade in time'));
    let text = `${up.method} ${routed.target} HTTP/1.1\r\n`;
    const h = routed.headers;
    for (let i = 0; i < h.length; i += 2) text += `${h[i]}: ${h[i + 1]}\r\n`;
    upstream.write(`${text}connection: upgrade\r\nupgrade: ${protocols.join(', ')}\r\n\r\n`, 'latin1');
  });

  let switched = false;
  let relaying = false;
  let partial: string[] = [];
  const callbacks: ParserCallbacks = {
    headersPartial(headers) { for (const x of headers) partial.push(x); },
    headersComplete(_maj, _min, headers, _m, _u, status, statusText) {
      const raw = partial.length > 0 ? partial.concat(headers ?? []) : headers ?? [];
      partial = [];
      if (status === 101) {
        if (!switchMatches(protocols, header(raw, 'upgrade'))) {
          setImmediate(() => fail('SWY_UPSTREAM_RESET', 'backend switched to a protocol that was not asked for'));
          return 0;
        }
        switched = true;
        answered = true;
        const kept = responseHeaders(raw, VIA);
        let text = 'HTTP/1.1 101 Switching Protocols\r\n';
        for (let i = 0; i < kept.length; i += 2) text += `${kept[i]}: ${kept[i + 1]}\r\n`;
        client.write(`${text}connection: upgrade\r\nupgrade: ${header(raw, 'upgrade')!.trim()}\r\n\r\n`, 'latin1');
        return 0;
      }
      if (status < 200) return 0; // other interim answers (100, 103): not relayed
      relaying = true;
      answered = true;
      upstream.setTimeout(service.config.timeouts.idle, () => { upstream.destroy(); client.destroy(); end(); });
      const kept = responseHeaders(raw, VIA);
      let text = `HTTP/1.1 ${status} ${statusText}\r\n`;
      for (let i = 0; i < kept.length; i += 2) text += `${kept[i]}: ${kept[i + 1]}\r\n`;
      // Content-Length is kept when the backend sent one; a chunked body goes close-delimited.
      client.write(`${text}connection: close\r\n\r\n`, 'latin1');
      return 0;
    },
    body(chunk) { if (relaying) client.write(Buffer.from(chunk)); },
    messageComplete() {
      if (!relaying) return;
      relaying = false;
      setImmediate(() => { upstream.destroy(); closeAfterReply(client); end(); });
    },
  };

  const onUpstreamData = (d: Buffer) => {
    parser ??= createParser('response', 0, callbacks);
    const r = parser.execute(d);
    if (r instanceof Error) { fail('SWY_UPSTREAM_RESET', `backend sent a malformed answer (${r.code})`); return; }
    if (!switched) return;
    // Switched: from here on both sides speak the new protocol; no parser reads either side.
    upstream.removeListener('data', onUpstreamData);
    upstream.setTimeout(0);
    const p = parser;
    setImmediate(() => p.close());
    if (r < d.length) client.write(d.subarray(r));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  };
  upstream.on('data', onUpstreamData);
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    log.debug({ err: err.message, backend: ep.key }, 'upgrade upstream error');
    fail(answered ? 'SWY_UPSTREAM_RESET' : err.code === 'ECONNREFUSED' ? 'SWY_UPSTREAM_CONNECT' : 'SWY_UPSTREAM_RESET', 'backend connection failed');
  });
  upstream.once('end', () => {
    if (switched) return;
    // A close-delimited answer ends here; a backend that hung up before answering is a 502.
    if (relaying && parser !== null) { if (parser.finish() instanceof Error) client.destroy(); return; }
    if (!answered) fail('SWY_UPSTREAM_RESET', 'backend closed the connection before answering');
  });
  client.on('error', () => { upstream.destroy(); end(); });
  // end(), not destroy(): let the client receive what is already written (a last frame).
  upstream.once('close', () => {
    if (switched) client.end();
    else if (!answered) fail('SWY_UPSTREAM_RESET', 'backend closed the connection');
    else if (relaying) client.destroy(); // cut in the middle of the answer
    end();
  });
  client.once('close', () => { upstream.destroy(); end(); });
}

/**
 * After a final answer on a connection that will not be read again: end our side, and discard
 * (never parse) whatever the client still sends until it closes, so the answer is not lost to a
 * reset; a client that never closes is cut after 5 s.
 */
function closeAfterReply(client: Socket): void {
  client.removeAllListeners('data');
  client.on('data', () => undefined);
  client.resume();
  client.end();
  setTimeout(() => client.destroy(), 5000).unref();
}
