import { now, tick, track, untrack, type Timed } from '../util/deadlines.js';
import type { UvBindings, UvShutdownReq, UvTcp, UvWriteReq } from '../net/uv.js';

/** The deadline sweep's resolution: an idle connection is closed 0–200 ms after `idleMs`, never before. */
const SWEEP_MS = 100;

/** Size of a bulk side's read buffer (libuv's own read size: Node asks for 64 KiB per read). */
const BUFFER_SIZE = 64 * 1024;
/** A read at least this large marks a side as bulk: it gets its own pooled read buffer. */
const BULK_READ = 16 * 1024;
/** Read buffers of closed connections, kept for the next ones (at most MAX_SPARE). */
const spare: Buffer[] = [];
const MAX_SPARE = 1024;

function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(BUFFER_SIZE);
}

function giveBack(b: Buffer | null): void {
  if (b !== null && b !== SHARED_READ && spare.length < MAX_SPARE) spare.push(b);
}

/**
 * Where every relayed side reads until it turns bulk. Left to itself, node allocates a fresh
 * 64 KiB buffer for every read attempt — the EOF reads too — and wraps each read in a new
 * ArrayBuffer: four allocations per short connection. One buffer serves all sides because a read
 * is consumed before the next callback runs: its bytes are copied out (`onRelayRead`).
 */
const SHARED_READ = Buffer.allocUnsafeSlow(BUFFER_SIZE);

/** A handle taking part in a relay: its connection, the other side, and its end-of-stream state. */
interface Side extends UvTcp {
  conn: UvConnection;
  peer: Side | null;
  /** We read this side's EOF: nothing more comes from it. */
  eof: boolean;
  /** Reading from this side is stopped until its last read is written out (its buffer is in use). */
  paused: boolean;
  /** Where this side's reads land during the relay: SHARED_READ, or its own buffer once bulk. */
  buf: Buffer | null;
}

interface SideReq { handle: Side }

/**
 * One L4 connection on raw libuv handles (see `uv.ts` for why): the client, a prelude read before
 * a backend is chosen (PROXY header, ClientHello), then a relay both ways to the upstream with
 * backpressure (reading a side stops while a write of its bytes is queued), half-close (one
 * side's EOF shuts down the other side's write half; the opposite direction keeps flowing), and an
 * idle timeout over both directions. Errors on either side close both.
 *
 * Hot path: the read/write callbacks are shared functions finding their connection on the handle,
 * and timeouts are deadlines on the shared sweep (a read only stores the coarse clock), so a
 * connection costs two handles and this object.
 */
export class UvConnection implements Timed {
  readonly client: Side;
  up: Side | null = null;
  closed = false;
  /** Bytes read from the client before the relay started (prelude), sent upstream first. */
  head: Buffer = EMPTY;
  /** The coarse clock (deadlines.ts) at the last read on either side. */
  lastIo = 0;
  /** When the sweep looks at this connection (prelude timeout, or the idle check); 0: never. */
  deadline = 0;
  sweepSlot = -1;
  /** This connection's place in its listener's list of connections. */
  listSlot = -1;
  private idleMs = 0;
  private tracked = false;
  private prelude: ((head: Buffer) => boolean) | null = null;
  private finished: (() => void) | null = null;

  /** `onClose` runs once, before the handles are closed (byte counters are still readable). */
  constructor(readonly uv: UvBindings, client: UvTcp, private readonly onClose: (c: UvConnection) => void) {
    this.client = asSide(client, this);
  }

  /** `f` runs once when the connection closes (after `onClose`): the backend's in-flight count. */
  onFinished(f: () => void): void {
    this.finished = f;
  }

  /**
   * Reads from the client until `decide(head)` returns true (it has what it needs, or it closed
   * the connection). A client that ends, fails or stays silent for `timeoutMs` is closed.
   */
  readPrelude(timeoutMs: number, decide: (head: Buffer) => boolean): void {
    this.prelude = decide;
    this.client.onread = onPreludeRead;
    this.deadline = tick() + timeoutMs;
    this.track();
    if (this.client.readStart() !== 0) this.destroy();
  }

  /** Called by the prelude reader; stops reading once `decide` is satisfied. */
  preludeBytes(chunk: Buffer): void {
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    if (!this.prelude!(this.head) || this.closed) return;
    this.prelude = null;
    this.deadline = 0;
    this.client.readStop();
  }

  /**
   * Relays between the client and `upstream` (connected), after writing `first` (PROXY header,
   * prelude bytes) upstream. `idleMs` 0: no idle timeout.
   */
  relay(upstream: UvTcp, first: Uint8Array | null, idleMs: number): void {
    if (this.closed) { upstream.close(); return; }
    const up = asSide(upstream, this);
    this.up = up;
    up.peer = this.client;
    this.client.peer = up;
    this.client.onread = onRelayRead;
    up.onread = onRelayRead;
    this.client.buf = SHARED_READ;
    this.client.useUserBuffer(SHARED_READ);
    up.buf = SHARED_READ;
    up.useUserBuffer(SHARED_READ);
    if (first !== null && first.length > 0) this.write(up, this.client, first);
    if (this.closed) return;
    this.lastIo = tick();
    this.idleMs = idleMs;
    if (idleMs > 0) { this.deadline = this.lastIo + idleMs + SWEEP_MS; this.track(); }
    if ((!this.client.paused && this.client.readStart() !== 0) || !started(up.readStart(), this.uv)) this.destroy();
  }

  /**
   * Writes `data` (read from `src`) to `dst`. When the kernel did not take it all at once, libuv
   * goes on writing from that memory (`src`'s pooled buffer, for a bulk side): reading `src` stops
   * until the write is done, which is also the backpressure.
   */
  write(dst: Side, src: Side, data: Uint8Array): void {
    const req = spareReq ?? this.uv.newWriteReq() as UvWriteReq & SideReq;
    spareReq = null;
    req.handle = dst;
    req.oncomplete = onWriteDone;
    req.async = false;
    req.buffer = data;
    if (dst.writeBuffer(req, data) !== 0) { this.destroy(); return; }
    if (!this.uv.lastWriteWasAsync()) {
      // Written at once: libuv never saw the request, so the next write may use it again.
      req.buffer = null;
      spareReq = req;
      return;
    }
    if (!src.paused) {
      src.paused = true;
      src.readStop();
    }
  }

  /** `src` ended (UV_EOF) or failed (any other negative code). */
  readEnded(src: Side, code: number): void {
    if (code !== this.uv.UV_EOF) { this.destroy(); return; }
    src.eof = true;
    const dst = src.peer!;
    if (this.tryFinish()) return;
    // Pass the EOF on: libuv shuts dst's write half once its queued writes are out.
    const req = this.uv.newShutdownReq() as UvShutdownReq & SideReq;
    req.handle = dst;
    req.oncomplete = onShutdownDone;
    if (dst.shutdown(req) !== 0) this.destroy();
  }

  /**
   * Both sides ended and nothing is queued: close both. close(2) then sends what the kernel still
   * holds and a FIN, so the last EOF needs no shutdown of its own (one syscall less per connection).
   */
  tryFinish(): boolean {
    const a = this.client;
    const b = this.up;
    if (b === null || !a.eof || !b.eof || a.writeQueueSize !== 0 || b.writeQueueSize !== 0) return false;
    this.destroy();
    return true;
  }

  /** Closes both sides now (errors, timeouts, the end of a drain, or a finished relay). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tracked) untrack(this);
    this.onClose(this);
    this.finished?.();
    this.client.close();
    this.up?.close();
    // Closed handles read no more and their queued writes are cancelled: the buffers are free.
    giveBack(this.client.buf);
    giveBack(this.up?.buf ?? null);
    this.client.buf = null;
    if (this.up !== null) this.up.buf = null;
  }

  private track(): void {
    if (!this.tracked) { this.tracked = true; track(this); }
  }

  /**
   * The sweep reached the deadline: a prelude that is late closes; otherwise close when silent
   * long enough (`lastIo` is up to one sweep old, hence the margin), else look again later.
   */
  onDeadline(): void {
    if (this.closed) return;
    if (this.prelude !== null || now() - this.lastIo >= this.idleMs + SWEEP_MS) { this.destroy(); return; }
    this.deadline = this.lastIo + this.idleMs + SWEEP_MS;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A write request no write holds: node's writeBuffer only binds a request to libuv when the
 * kernel did not take the bytes at once, so one request serves every write that completes
 * immediately (most of them) instead of an API object constructed per write.
 */
let spareReq: (UvWriteReq & SideReq) | null = null;

/**
 * Starts reading an upstream handle whose connect() is in flight, so libuv registers it for
 * "connected" and "readable" in one epoll_ctl, and only switches it to "readable" once
 * connected; starting the read after the connect costs two more (a refused ADD, then a MOD)
 * per connection. No read is reported before the connect completes (libuv handles the connect
 * first), and by then `relay` has replaced the placeholder callback. If it cannot start, `relay`
 * starts it as before.
 */
export function readBeforeConnected(up: UvTcp): void {
  up.onread = onReadBeforeRelay;
  up.readStart();
}

/**
 * A readStart result: started, or already reading (`readBeforeConnected`). libuv knows whether a
 * handle reads; remembering the early readers in a WeakSet cost an ephemeron-table insert per
 * connection (`bench/set-churn.mjs`: 8× a SlotList's add and delete).
 */
function started(code: number, uv: UvBindings): boolean {
  return code === 0 || code === uv.UV_EALREADY;
}

/** Never called in practice (see above); a read arriving without a relay closes the handle. */
function onReadBeforeRelay(this: UvTcp): void {
  this.close();
}

function asSide(h: UvTcp, conn: UvConnection): Side {
  const s = h as Side;
  s.conn = conn;
  s.peer = null;
  s.eof = false;
  s.paused = false;
  s.buf = null;
  return s;
}

function onPreludeRead(this: UvTcp, buffer: ArrayBuffer | undefined): void {
  const side = this as Side;
  const conn = side.conn;
  const n = conn.uv.readResult();
  if (n > 0) conn.preludeBytes(Buffer.from(buffer!, conn.uv.readOffset(), n));
  else if (n < 0) conn.destroy(); // ended or failed before it said enough
}

function onRelayRead(this: UvTcp): void {
  const side = this as Side;
  const conn = side.conn;
  const n = conn.uv.readResult();
  if (n > 0) {
    conn.lastIo = now();
    const buf = side.buf!;
    if (buf !== SHARED_READ) { conn.write(side.peer!, side, buf.subarray(0, n)); return; }
    // The next read of any connection overwrites SHARED_READ, and a write the kernel does not
    // take at once goes on from the memory it was given: write a copy. A small copy comes from
    // node's buffer pool, cheaper than the ArrayBuffer node would have made for the read.
    if (n < BULK_READ) { conn.write(side.peer!, side, Buffer.from(buf.subarray(0, n))); return; }
    // A bulk stream: from now on its reads land in a buffer of its own (a fresh 64 KiB per read —
    // malloc trimming, page faults, external-memory GCs — halved bulk throughput), taken from
    // the spares of closed connections. Quiet and short connections never hold one.
    const own = takeBuffer();
    buf.copy(own, 0, 0, n);
    side.buf = own;
    side.useUserBuffer(own);
    conn.write(side.peer!, side, own.subarray(0, n));
  } else if (n < 0) conn.readEnded(side, n);
}

function onWriteDone(this: SideReq & UvWriteReq, status: number): void {
  const dst = this.handle;
  this.buffer = null;
  const conn = dst.conn;
  if (conn.closed) return;
  if (status < 0) { conn.destroy(); return; }
  const src = dst.peer!;
  if (src.paused && dst.writeQueueSize === 0) {
    src.paused = false;
    if (src.readStart() !== 0) { conn.destroy(); return; }
  }
  conn.tryFinish();
}

function onShutdownDone(this: SideReq & UvShutdownReq, status: number): void {
  const conn = this.handle.conn;
  if (conn.closed) return;
  if (status < 0) { conn.destroy(); return; }
  conn.tryFinish();
}
