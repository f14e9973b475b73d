import { createParser, initializeParser, type NativeParser, type ParserCallbacks } from './native-parser.js';

/**
 * A bounded free list of request parsers, like node:http's (`parsers`, 1000, which get them back
 * when a socket closes). Here an idle keep-alive connection also gives its parser back and takes
 * one on its next bytes: a native llhttp parser is about 2 KiB (its header field and value slots),
 * more than the rest of an idle connection.
 * `release` must not be called from inside that parser's `execute` (its callbacks).
 */
export class ParserFreeList {
  private readonly parsers: NativeParser[] = [];

  constructor(readonly max: number) {}

  /** A request parser for `owner`, reused if one is free; initialized afresh either way. Hot path. */
  take(maxHeaderSize: number, owner: ParserCallbacks): NativeParser {
    const p = this.parsers.pop();
    if (p === undefined) return createParser('request', maxHeaderSize, owner);
    initializeParser(p, 'request', maxHeaderSize, owner);
    return p;
  }

  /** Gives a parser back (in any state: `take` resets it); closed instead when the list is full. */
  release(p: NativeParser): void {
    p.owner = null; // the list must not keep a closed connection alive
    if (this.parsers.length < this.max) {
      p.free();
      this.parsers.push(p);
    } else p.close();
  }

  /** Parsers waiting in the list. */
  get size(): number { return this.parsers.length; }
}

/** The request parsers of this process's fast HTTP/1.1 listeners. */
export const requestParsers = new ParserFreeList(1000);
