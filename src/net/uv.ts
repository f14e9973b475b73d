/**
 * Node's internal libuv stream bindings (`tcp_wrap`, `stream_wrap`, `uv`): the handles net.Socket
 * itself is built on. The fast L4 engine relays on them directly because, per short connection,
 * net.Socket's machinery (a Duplex per side, pipe listeners, nextTicks, end-of-stream bookkeeping)
 * costs more CPU than the relay: in `bench/l4.mjs` a `socket.pipe` proxy reaches about half of
 * HAProxy's new connections per CPU-second, a relay on these handles about three quarters.
 *
 * These are not public API. Everything is feature-detected once: `uv` is `null` when this Node
 * does not expose them, and L4 listeners fall back to net.Socket (`engine: node`'s path).
 */

/** An address as libuv's getpeername/getsockname fill it in. */
export interface UvAddress { address?: string; port?: number; family?: string }

/** A write request: `oncomplete(status)` runs once when an asynchronous write finished. */
export interface UvWriteReq {
  handle: UvTcp;
  oncomplete: (status: number) => void;
  /** Keeps the written bytes alive while the write is queued in libuv. */
  buffer: Uint8Array | null;
  async: boolean;
}

export interface UvShutdownReq {
  handle: UvTcp;
  oncomplete: (status: number) => void;
}

export interface UvConnectReq {
  oncomplete: (status: number) => void;
  address: string;
  port: number;
}

/** A libuv TCP handle (a TCPWrap). Methods return 0 or a negative libuv error code. */
export interface UvTcp {
  /** Called on every read; the byte count (or error, or UV_EOF) is in `streamBaseState`. */
  onread: ((this: UvTcp, buffer: ArrayBuffer | undefined) => void) | null;
  readonly writeQueueSize: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readStart(): number;
  readStop(): number;
  /** From now on reads land in `buf` (onread gets no ArrayBuffer; the bytes are at 0..n). */
  useUserBuffer(buf: Uint8Array): void;
  writeBuffer(req: UvWriteReq, data: Uint8Array): number;
  shutdown(req: UvShutdownReq): number;
  close(cb?: () => void): void;
  getpeername(out: UvAddress): number;
  getsockname(out: UvAddress): number;
  setNoDelay(on: boolean): number;
  connect(req: UvConnectReq, address: string, port: number): number;
  connect6(req: UvConnectReq, address: string, port: number): number;
}

export interface UvBindings {
  newSocket(): UvTcp;
  newWriteReq(): UvWriteReq;
  newShutdownReq(): UvShutdownReq;
  newConnectReq(): UvConnectReq;
  /** Byte count (> 0), 0, UV_EOF or an error of the read being reported to `onread`. */
  readResult(): number;
  /** Offset of the read's bytes inside the ArrayBuffer given to `onread`. */
  readOffset(): number;
  /** Whether the last `writeBuffer` was queued (its `oncomplete` will run) rather than written at once. */
  lastWriteWasAsync(): boolean;
  readonly UV_EOF: number;
  /** readStart on a handle that is already reading. */
  readonly UV_EALREADY: number;
  /** "ECONNREFUSED" for a libuv error code. */
  errname(code: number): string;
}

type Ctor<T> = new (...args: unknown[]) => T;

/** `process.binding(name)`: one of Node's internal bindings, or null when this Node offers none. */
export function processBinding(name: string): Record<string, unknown> | null {
  const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
  return typeof binding === 'function' ? binding(name) : null;
}

function load(): UvBindings | null {
  try {
    const tcp = processBinding('tcp_wrap');
    const stream = processBinding('stream_wrap');
    const uvb = processBinding('uv');
    if (tcp === null || stream === null || uvb === null) return null;
    const TCP = tcp.TCP as Ctor<UvTcp>;
    const TCPConnectWrap = tcp.TCPConnectWrap as Ctor<UvConnectReq>;
    const constants = tcp.constants as { SOCKET: number };
    const WriteWrap = stream.WriteWrap as Ctor<UvWriteReq>;
    const ShutdownWrap = stream.ShutdownWrap as Ctor<UvShutdownReq>;
    const state = stream.streamBaseState as Int32Array;
    const kRead = stream.kReadBytesOrError as number;
    const kOffset = stream.kArrayBufferOffset as number;
    const kAsync = stream.kLastWriteWasAsync as number;
    const UV_EOF = uvb.UV_EOF as number;
    const UV_EALREADY = uvb.UV_EALREADY as number;
    const errname = uvb.errname as (code: number) => string;
    const fns = [TCP, TCPConnectWrap, WriteWrap, ShutdownWrap, errname];
    if (fns.some((f) => typeof f !== 'function') || !(state instanceof Int32Array)
      || ![kRead, kOffset, kAsync, UV_EOF, UV_EALREADY, constants?.SOCKET].every((n) => typeof n === 'number')) return null;
    const probe = new TCP(constants.SOCKET);
    const methods = ['readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close', 'getpeername', 'getsockname', 'setNoDelay', 'connect', 'connect6'] as const;
    const complete = methods.every((m) => typeof probe[m] === 'function') && 'onread' in probe && 'writeQueueSize' in probe;
    probe.close();
    if (!complete) return null;
    return {
      newSocket: () => new TCP(constants.SOCKET),
      newWriteReq: () => new WriteWrap(),
      newShutdownReq: () => new ShutdownWrap(),
      newConnectReq: () => new TCPConnectWrap(),
      readResult: () => state[kRead],
      readOffset: () => state[kOffset],
      lastWriteWasAsync: () => state[kAsync] !== 0,
      UV_EOF,
      UV_EALREADY,
      errname: (code) => { try { return errname(code); } catch { return String(code); } },
    };
  } catch {
    return null;
  }
}

/** The bindings, or `null` when this Node does not have them in the expected shape. */
export const uv: UvBindings | null = load();
