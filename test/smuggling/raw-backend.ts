import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';

/*
 * The backend behind the proxy in the smuggling corpus: a raw TCP server that parses what it
 * receives with llhttp in its most lenient mode (a backend that accepts anything a proxy lets
 * through is the pessimistic case) and records every request it parsed. It plays the backends
 * the published upgrade attacks rely on:
 *   - `/ws-ok` with `Upgrade: websocket` and `Sec-WebSocket-Version: 13`: 101, then raw bytes
 *     (recorded, never parsed: they are WebSocket frames by then);
 *   - `/ws-wrong`: a 101 naming another protocol (`Upgrade: x-other`), `/ws-noheader`: a 101
 *     without `Upgrade`; then it goes on reading HTTP/1.1 — a backend that did not really switch
 *     (0ang3el's scenario 2);
 *   - `h2c`: 101 (an h2c-capable backend, Bishop Fox), then it goes on reading HTTP/1.1 so that
 *     anything a proxy tunnels shows up;
 *   - any other upgrade (wrong version, other protocols): 426, and it goes on reading HTTP/1.1,
 *     as a backend that refused (0ang3el's scenario 1);
 *   - everything else: 200 `ok <method> <url>` with keep-alive.
 */

interface ParserLike {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(d: Buffer): number | Error;
  close(): void;
  [k: number]: unknown;
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): ParserLike; REQUEST: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kLenientAll: number };
};
const METHODS = (createRequire(import.meta.url)('_http_common') as { methods: string[] }).methods;

/** One request the backend parsed. */
export interface SeenRequest {
  conn: number;
  method: string;
  url: string;
  /** Flat [name, value, …] as received. */
  headers: string[];
  body: string;
  /** The whole message arrived (a request cut in its body stays false). */
  complete: boolean;
}

export interface RawBackend {
  port: number;
  address: string;
  /** Every request parsed so far, in arrival order. */
  readonly seen: SeenRequest[];
  /** Every byte received, per connection (latin1), tunnel bytes included. */
  readonly bytes: string[];
  close(): Promise<void>;
}

function header(h: string[], name: string): string | undefined {
  for (let i = 0; i < h.length; i += 2) if (h[i].toLowerCase() === name) return h[i + 1];
  return undefined;
}

/** Starts the backend on a free loopback port. */
export async function startRawBackend(): Promise<RawBackend> {
  const seen: SeenRequest[] = [];
  const bytes: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const conn = bytes.length;
    bytes.push('');
    let raw = false;
    let partial: string[] = [];
    let current: SeenRequest | null = null;
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientAll);
    parser[HTTPParser.kOnHeaders] = (h: string[]) => { partial.push(...h); };
    parser[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, h: string[] | undefined, method: number, url: string) => {
      current = { conn, method: METHODS[method], url, headers: partial.concat(h ?? []), body: '', complete: false };
      partial = [];
      seen.push(current);
      return 0;
    };
    parser[HTTPParser.kOnBody] = (b: Buffer) => { if (current !== null) current.body += b.toString('latin1'); };
    parser[HTTPParser.kOnMessageComplete] = () => {
      const req = current!;
      current = null;
      req.complete = true;
      const upgrade = header(req.headers, 'upgrade');
      if (upgrade !== undefined) {
        if (req.url.startsWith('/ws-ok') && upgrade.toLowerCase() === 'websocket' && header(req.headers, 'sec-websocket-version') === '13') {
          socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
          raw = true;
          return;
        }
        // A backend that speaks h2c accepts the upgrade (what Bishop Fox's attack needs); this one
        // then goes on reading HTTP/1.1, so that whatever a proxy tunnels to it shows up.
        if (/(^|,)\s*h2c\s*(,|$)/i.test(upgrade)) { socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n'); return; }
        if (req.url.startsWith('/ws-noheader')) { socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'); return; }
        if (req.url.startsWith('/ws-wrong')) { socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-other\r\nConnection: Upgrade\r\n\r\n'); return; }
        const body = 'upgrade refused\n';
        socket.write(`HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      const body = `ok ${req.method} ${req.url}\n`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    };
    socket.on('data', (d: Buffer) => {
      bytes[conn] += d.toString('latin1');
      let data = d;
      while (!raw && data.length > 0) {
        const r = parser.execute(data);
        if (r instanceof Error) { socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
        if (r >= data.length || r <= 0) break;
        data = data.subarray(r); // stopped after an upgrade request: read on as HTTP/1.1
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, address: `127.0.0.1:${port}`, seen, bytes,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}
