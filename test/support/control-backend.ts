import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the backend answers:
 * - `ok`: 200 with a JSON body naming the backend (and header `x-backend`);
 * - `status`: that status, same JSON body;
 * - `delay`: like `ok`, `ms` milliseconds later;
 * - `hang`: reads the request, never answers (the connection stays open);
 * - `reset`: resets the connection (TCP RST) without answering;
 * - `close-after-headers`: sends 200 headers announcing a 1024-byte body, then closes the connection.
 */
export type BackendMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'close-after-headers' };

/** Which requests a mode applies to: `/health` ones, the others, or both. */
export type ModeScope = 'both' | 'health' | 'traffic';

/** The path whose requests count as health checks. */
export const HEALTH_PATH = '/health';

/** A local HTTP backend whose behaviour a test changes at run time. */
export interface ControlBackend {
  readonly name: string;
  /** The listening port, the same across stop()/start(). */
  readonly port: number;
  /** '127.0.0.1:port'. */
  readonly address: string;
  /** Requests received on paths other than `/health` (including ones then hung or reset). */
  readonly requests: number;
  /** Requests received on `/health`. */
  readonly healthRequests: number;
  /** Connections currently open. */
  readonly connections: number;
  /** Mode of non-health requests. */
  readonly mode: BackendMode;
  /** Mode of `/health` requests. */
  readonly healthMode: BackendMode;
  /** True while listening. */
  readonly listening: boolean;
  /** Changes the mode of the requests in `scope` (default both), for requests that arrive from now on. */
  set(mode: BackendMode, scope?: ModeScope): void;
  /** Stops listening and destroys every open connection (later connects are refused); keeps the port. */
  stop(): Promise<void>;
  /** Listens again on the same port (no-op while listening); rejects if the port was taken meanwhile. */
  start(): Promise<void>;
  /** stop() for good: start() rejects afterwards. Idempotent. */
  close(): Promise<void>;
}

const CLOSE_AFTER_HEADERS_LENGTH = 1024;

class Backend implements ControlBackend {
  port = 0;
  requests = 0;
  healthRequests = 0;
  mode: BackendMode = { kind: 'ok' };
  healthMode: BackendMode = { kind: 'ok' };
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly label: string | undefined) {}

  get name(): string { return this.label ?? `backend-${this.port}`; }
  get address(): string { return `127.0.0.1:${this.port}`; }
  get connections(): number { return this.sockets.size; }
  get listening(): boolean { return this.server !== null; }

  set(mode: BackendMode, scope: ModeScope = 'both'): void {
    if (scope !== 'health') this.mode = mode;
    if (scope !== 'traffic') this.healthMode = mode;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error(`control backend ${this.name} is closed`);
    if (this.server !== null) return;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_err, s: Socket) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections();
    await closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const health = (req.url ?? '/').split('?')[0] === HEALTH_PATH;
    if (health) this.healthRequests++; else this.requests++;
    const mode = health ? this.healthMode : this.mode;
    req.on('error', () => {});
    res.on('error', () => {});
    switch (mode.kind) {
      case 'ok':
        this.whenRead(req, () => this.answer(req, res, 200, health));
        return;
      case 'status':
        this.whenRead(req, () => this.answer(req, res, mode.status, health));
        return;
      case 'delay': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.whenRead(req, () => this.answer(req, res, 200, health));
        }, mode.ms);
        this.timers.add(t);
        res.on('close', () => { clearTimeout(t); this.timers.delete(t); });
        return;
      }
      case 'hang':
        req.resume();
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'close-after-headers':
        this.whenRead(req, () => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(CLOSE_AFTER_HEADERS_LENGTH), 'x-backend': this.name });
          res.flushHeaders();
          // end() flushes the headers before the FIN; the body never comes.
          req.socket.end();
        });
        return;
    }
  }

  /** Runs `fn` once the request body has been read (and discarded). */
  private whenRead(req: IncomingMessage, fn: () => void): void {
    if (req.complete) { fn(); return; }
    req.once('end', fn);
    req.resume();
  }

  private answer(req: IncomingMessage, res: ServerResponse, status: number, health: boolean): void {
    if (res.destroyed || res.writableEnded) return;
    const body = JSON.stringify({ backend: this.name, status, method: req.method, url: req.url, health });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-backend': this.name });
    res.end(body);
  }
}

/**
 * Starts a controllable HTTP backend on 127.0.0.1 at a free port, in mode `ok` for all requests.
 * `name` (default `backend-<port>`) is echoed in every answer so tests see who answered.
 */
export async function startControlBackend(name?: string): Promise<ControlBackend> {
  const b = new Backend(name);
  await b.start();
  return b;
}
