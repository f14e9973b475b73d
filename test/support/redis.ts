import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server for one test file, on a loopback port that stays the same across restarts. */
export interface TestRedis {
  /** The listening port (kept by stop()/start()). */
  readonly port: number;
  /** `redis://127.0.0.1:port`. */
  readonly url: string;
  /** PID of the running server, undefined while stopped. */
  readonly pid: number | undefined;
  /** Stops the server by PID: SIGTERM, SIGKILL if it is still alive after `graceMs` (default 2000). Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Starts it again on the same port with an empty dataset (no-op while running); rejects if it does not answer PING in time. */
  start(): Promise<void>;
  /** Kills the server at once (SIGKILL), like a crashed host. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Undoes pause() (SIGCONT). */
  resume(): void;
  /** stop() for good and removes the data directory; start() rejects afterwards. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;

/** A port free on 127.0.0.1 right now (bound to port 0, then released). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** True when a raw RESP PING on the port gets +PONG within `ms`. */
function pingOnce(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => { clearTimeout(timer); sock.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), ms);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { buf += d.toString(); if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
    sock.on('error', () => done(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

class RedisProcess implements TestRedis {
  private child: ChildProcess | undefined;
  private closed = false;
  private output = '';
  readonly url: string;

  constructor(readonly port: number, private readonly dir: string) {
    this.url = `redis://127.0.0.1:${port}`;
    // A crashed test must not leave a daemon behind.
    process.once('exit', () => { this.child?.kill('SIGKILL'); });
  }

  get pid(): number | undefined { return this.child?.pid; }

  async start(): Promise<void> {
    if (this.closed) throw new Error('test redis: start() after close()');
    if (this.child !== undefined) return;
    this.output = '';
    const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer): void => { this.output = (this.output + d.toString()).slice(-4000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => { if (this.child === child) this.child = undefined; });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`test redis: redis-server exited on port ${this.port}:\n${this.output}`);
      if (await pingOnce(this.port, 250)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.stop();
    throw new Error(`test redis: no PONG on port ${this.port} within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
  }

  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGCONT'); // a paused server would never act on SIGTERM
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
    this.child = undefined;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await exited(child);
    this.child = undefined;
  }

  pause(): void { this.child?.kill('SIGSTOP'); }
  resume(): void { this.child?.kill('SIGCONT'); }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts `redis-server` on a free 127.0.0.1 port (no persistence, its own temp dir) and resolves
 * once it answers PING (within 5 s, else rejects). The port is picked by binding port 0; if
 * another process takes it before Redis binds, the start is retried on a new port.
 */
export async function startRedis(): Promise<TestRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'swy-redis-'));
    const r = new RedisProcess(await freeLoopbackPort(), dir);
    try {
      await r.start();
      return r;
    } catch (e) {
      lastError = e;
      await r.close();
    }
  }
  throw lastError;
}
