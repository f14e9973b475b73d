import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Logger } from 'pino';
import type { SnapshotHolder } from '../../snapshot/snapshot.js';
import type { Clock } from '../../util/clock.js';
import { routeRequest, type RoutedRequest } from '../proxy.js';
import { admit, needsAdmission } from '../pipeline/admission.js';
import { routeFailureAnswer } from '../pipeline/route-failure.js';
import { H1Request } from '../h1/h1-request.js';
import { h1Headers } from './h2-request.js';
import { answerStream, degradedStream, H2Exchange, H2StreamSink } from './h2-exchange.js';
import type { SessionIdle } from './session-idle.js';

const ignore = (): void => undefined;

/**
 * The fast engine's handler of HTTP/2 streams (node:http2's `stream` event, no compatibility
 * objects): each stream is routed like an HTTP/1.1 request (pseudo-headers mapped by
 * h1Headers: Host from `:authority`, cookies joined), admitted, and proxied by an H2Exchange
 * over the same H1Pool connections as HTTP/1.1 clients. `idleOf` gives the stream's session's
 * keep-alive timer, told of the stream's open and close here.
 *
 * One 'close' listener per stream does all a close needs (the exchange, the session's count):
 * with a second one, every close copies the listener array, and `once` wraps each (allocation
 * profile of an h2load run: the frontend's own per-stream listeners were about 3% of what a
 * stream allocates).
 */
export function createH2StreamHandler(
  holder: SnapshotHolder, listener: string, clock: Clock, log: Logger, closing: () => boolean,
  idleOf: (session: Http2Session) => SessionIdle | undefined,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void {
  return (stream, headers, _flags, rawHeaders) => {
    stream.on('error', ignore); // a reset or a broken session: the 'close' below ends the exchange
    const idle = stream.session === undefined ? undefined : idleOf(stream.session);
    idle?.opened();
    let ex: H2Exchange | null = null;
    // After a complete response 'close' finds the exchange done; before, the client reset the stream.
    // ('close' comes once: `on` spares the wrapper `once` makes.)
    stream.on('close', () => { ex?.abort(); idle?.closed(); });
    const method = headers[':method'] ?? 'GET';
    const head = method === 'HEAD';
    const socket = stream.session?.socket;
    const client = socket?.remoteAddress;
    const req = new H1Request(method, headers[':path'] ?? '', 1, h1Headers(rawHeaders), true, { remoteAddress: client });
    if (method === 'CONNECT') { answerStream(stream, 'SWY_BAD_REQUEST', 'CONNECT is not supported', '-', false); return; }
    const r = routeRequest(holder, listener, 'https', req, false);
    const config = holder.current.config;
    const accessLog = config.accessLog ? log : null;
    if ('code' in r) {
      const degraded = routeFailureAnswer(r, method, req.url, client, accessLog);
      if (degraded !== undefined) degradedStream(stream, degraded, r.requestId, head);
      else answerStream(stream, r.code, r.detail, r.requestId, head);
      return;
    }
    // HTTP/2 frames the body itself; towards HTTP/1.1 it is sized when the client said its length, else chunked.
    const length = req.header('content-length');
    const kind = stream.endAfterHeaders ? 'none' : length === undefined ? 'chunked' : length !== '0' ? 'length' : 'none';
    if (req.header('expect')?.toLowerCase() === '100-continue') stream.additionalHeaders({ ':status': 100 });
    const launch = () => {
      if (stream.destroyed || stream.closed) { r.service.bulkhead?.release(); return; }
      ex = start(stream, req, r, clock, kind, new H2StreamSink(stream, accessLog, config.accessLogSample, closing));
    };
    if (!needsAdmission(r)) { launch(); return; }
    stream.pause(); // the body waits in the stream (flow control) until a slot is granted
    const ticket = admit(r, launch, (code, detail, extra) => answerStream(stream, code, detail, r.requestId, head, extra));
    if (ticket !== null) { const bulkhead = r.service.bulkhead!; stream.once('close', () => bulkhead.cancel(ticket)); }
  };
}

function start(stream: ServerHttp2Stream, req: H1Request, r: RoutedRequest, clock: Clock, kind: 'none' | 'length' | 'chunked', sink: H2StreamSink): H2Exchange {
  const ex = new H2Exchange(sink, req, r, clock, kind);
  if (kind !== 'none') {
    stream.on('data', (chunk: Buffer) => ex.requestBody(chunk));
    stream.once('end', () => ex.requestEnd());
  }
  // A body's END_STREAM must be read for the stream to close. A stream that ended with its
  // headers is left unread: node:http2 then ends its readable side itself when the stream closes,
  // and destroys it only once the response's last write completed. Read early, the stream is
  // destroyed at close with that write still out, and its completion builds an ERR_STREAM_DESTROYED
  // with a full stack trace (Node 20's Writable errorBuffer) on every GET: about 6% of the worker.
  if (!stream.endAfterHeaders) stream.resume();
  return ex;
}
