import type { IncomingHttpHeaders } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { RequestLike } from '../request-like.js';

/**
 * An HTTP/2 request as routing sees an HTTP/1.1 one (RFC 9113 §8.3.1, §8.2.3): pseudo-headers
 * dropped, `:authority` becomes Host unless a Host header came along, and split `cookie` fields
 * joined with "; " (an HTTP/1.1 backend expects one Cookie line). Backends stay HTTP/1.1 unless
 * their service says otherwise, so this is also what they receive.
 */
export class H2RequestView implements RequestLike {
  readonly method: string;
  readonly url: string;
  /** Routing applies HTTP/1.1 rules (a Host is required: `:authority` supplies it). */
  readonly httpVersionMinor = 1;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string };

  constructor(private readonly req: Http2ServerRequest) {
    this.method = req.method;
    this.url = req.url;
    this.socket = req.socket;
    this.rawHeaders = h1Headers(req.rawHeaders);
  }

  get headers(): IncomingHttpHeaders { return this.req.headers; }

  /** Whether a body follows the headers (HTTP/2 needs no Content-Length for one). */
  get hasBody(): boolean { return !this.req.stream.endAfterHeaders; }
}

/** Flat HTTP/2 header list → flat HTTP/1.1 header list (see H2RequestView). */
export function h1Headers(raw: readonly string[]): string[] {
  const out: string[] = [];
  let authority: string | undefined;
  let hasHost = false;
  let cookie: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name === 'cookie') { cookie = cookie === undefined ? value : `${cookie}; ${value}`; continue; }
    if (name === 'host') hasHost = true;
    out.push(name, value);
  }
  if (!hasHost && authority !== undefined) out.unshift('host', authority);
  if (cookie !== undefined) out.push('cookie', cookie);
  return out;
}
