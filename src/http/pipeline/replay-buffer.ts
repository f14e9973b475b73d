/**
 * A copy of a request body kept so a failed try can send it again — the same rule on every
 * engine: a body is replayable once it was read to the end and stayed within `limit` bytes
 * (`retries.maxBufferedBody`); a larger one is dropped at the first byte over and the request is
 * then never retried after it reached a backend.
 */
export class ReplayBuffer {
  /** The body so far; null once it grew past the limit. */
  chunks: Buffer[] | null = [];
  /** The whole body was read. */
  ended = false;
  private bytes = 0;

  constructor(private readonly limit: number) {}

  /** Records a chunk (copied: parsers reuse their buffers). */
  add(chunk: Buffer): void {
    if (this.chunks === null) return;
    this.bytes += chunk.length;
    if (this.bytes > this.limit) { this.chunks = null; return; }
    this.chunks.push(Buffer.from(chunk));
  }

  end(): void { this.ended = true; }

  /** Whether a new try can send the whole body again. */
  get replayable(): boolean { return this.ended && this.chunks !== null; }

  /** The body in one buffer, for a replay. Only when `replayable`. */
  body(): Buffer {
    const c = this.chunks!;
    return c.length === 1 ? c[0] : Buffer.concat(c, this.bytes);
  }
}
