import type { IncomingHttpHeaders } from 'node:http';

/**
 * What routing needs of a request. Node's IncomingMessage has this shape; so does the fast
 * path's H1Request, which builds `headers` only when a route or hash key asks for it.
 */
export interface RequestLike {
  readonly method?: string;
  readonly url?: string;
  readonly httpVersionMinor: number;
  readonly rawHeaders: string[];
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string };
}
