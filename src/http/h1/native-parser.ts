import { createRequire } from 'node:module';

/*
 * Node's own HTTP/1 parser (llhttp, in C++), the one node:http uses, reached through the
 * `_http_common` module. Hand-rolling a parser is how request smuggling gets in; reusing this one
 * keeps the fast path exactly as strict as node:http while skipping its per-request objects.
 */

export interface ParserError extends Error { code: string; reason?: string; bytesParsed: number }

export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or an Error carrying `code` (e.g. HPE_INVALID_HEADER_TOKEN) and `bytesParsed`. */
  execute(data: Buffer): number | ParserError;
  /** Signals EOF (ends a close-delimited body). */
  finish(): undefined | ParserError;
  /** Ends its async resource (destroy hooks) before it waits in a free list; `initialize` starts a new one. */
  free(): void;
  close(): void;
  /** Whose callbacks it calls (see createParser). */
  owner: ParserCallbacks | null;
  [callback: number]: unknown;
}

interface ParserModule {
  HTTPParser: {
    new (): NativeParser;
    REQUEST: number; RESPONSE: number;
    kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number;
    kLenientNone: number;
  };
  methods: string[];
}

const mod = createRequire(import.meta.url)('_http_common') as ParserModule;

export const HTTPParser = mod.HTTPParser;
/** Method names by the index the parser reports. */
export const METHODS: readonly string[] = mod.methods;

/** Callbacks of one parser; `headersComplete` returns 1 to skip the body (HEAD responses). */
export interface ParserCallbacks {
  headersComplete(versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number,
    url: string | undefined, statusCode: number, statusMessage: string, upgrade: boolean, keepAlive: boolean): number;
  /** Headers flushed early (many headers, or a head split across reads); to be prepended. */
  headersPartial(headers: string[], url: string): void;
  body(chunk: Buffer): void;
  messageComplete(): void;
}

// One set of callbacks for every parser: the parser calls them with itself as `this`, so a parser
// costs no closures and can change owner (parser-free-list.ts).
function onHeaders(this: NativeParser, headers: string[], url: string): void { this.owner!.headersPartial(headers, url); }
function onHeadersComplete(this: NativeParser, versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number,
  url: string | undefined, statusCode: number, statusMessage: string, upgrade: boolean, keepAlive: boolean): number {
  return this.owner!.headersComplete(versionMajor, versionMinor, headers, method, url, statusCode, statusMessage, upgrade, keepAlive);
}
function onBody(this: NativeParser, chunk: Buffer): void { this.owner!.body(chunk); }
function onMessageComplete(this: NativeParser): void { this.owner!.messageComplete(); }

/** Makes `p` a fresh strict (no leniency flags) parser for `cb`: new message state, new async resource. */
export function initializeParser(p: NativeParser, type: 'request' | 'response', maxHeaderSize: number, cb: ParserCallbacks): void {
  p.owner = cb;
  p.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
}

/** A strict (no leniency flags) parser wired to `cb`. `maxHeaderSize` 0 means Node's default. */
export function createParser(type: 'request' | 'response', maxHeaderSize: number, cb: ParserCallbacks): NativeParser {
  const p = new HTTPParser();
  p.owner = null;
  p[HTTPParser.kOnHeaders] = onHeaders;
  p[HTTPParser.kOnHeadersComplete] = onHeadersComplete;
  p[HTTPParser.kOnBody] = onBody;
  p[HTTPParser.kOnMessageComplete] = onMessageComplete;
  initializeParser(p, type, maxHeaderSize, cb);
  return p;
}

/**
 * True if a request parser stands between two messages (no request begun, not even a byte of
 * one). Asked through `finish()`: for a request parser llhttp_finish only reports whether EOF here
 * would be clean and changes nothing (request bodies are never delimited by EOF), so parsing goes
 * on as before either way. Not for response parsers (finish ends a close-delimited body).
 */
export function betweenRequests(p: NativeParser): boolean {
  return p.finish() === undefined;
}
