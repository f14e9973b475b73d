import type { IncomingHttpHeaders } from 'node:http';
import type { RequestLike } from '../request-like.js';

/** A parsed request head on the fast path; `headers` (lower-case object) is built on first use. */
export class H1Request implements RequestLike {
  private built: IncomingHttpHeaders | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
    readonly keepAlive: boolean,
    readonly socket: { readonly remoteAddress?: string },
  ) {}

  get headers(): IncomingHttpHeaders {
    if (this.built !== undefined) return this.built;
    const h: Record<string, string | string[]> = {};
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      const k = this.rawHeaders[i].toLowerCase();
      const v = this.rawHeaders[i + 1];
      const prev = h[k];
      if (prev === undefined) h[k] = k === 'set-cookie' ? [v] : v;
      else if (Array.isArray(prev)) prev.push(v);
      else h[k] = k === 'cookie' ? `${prev}; ${v}` : `${prev}, ${v}`;
    }
    this.built = h as IncomingHttpHeaders;
    return this.built;
  }

  /** Value of one header (first occurrence), case-insensitive, without building the object. */
  header(lowerName: string): string | undefined {
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      const k = this.rawHeaders[i];
      if (k.length === lowerName.length && k.toLowerCase() === lowerName) return this.rawHeaders[i + 1];
    }
    return undefined;
  }
}
