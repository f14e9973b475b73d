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
  close(): void;
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

/** A strict (no leniency flags) parser wired to `cb`. `maxHeaderSize` 0 means Node's default. */
export function createParser(type: 'request' | 'response', maxHeaderSize: number, cb: ParserCallbacks): NativeParser {
  const p = new HTTPParser();
  p.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
  p[HTTPParser.kOnHeaders] = cb.headersPartial.bind(cb);
  p[HTTPParser.kOnHeadersComplete] = cb.headersComplete.bind(cb);
  p[HTTPParser.kOnBody] = cb.body.bind(cb);
  p[HTTPParser.kOnMessageComplete] = cb.messageComplete.bind(cb);
  return p;
}
