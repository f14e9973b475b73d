/*
 * Test harness: real backends on 127.0.0.1, a real Switchyard process started through the CLI,
 * and helpers to talk to both. Everything started here is stopped by the test that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, connect, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Ports this process handed out: the kernel may give a just-released port again, and two calls in a row must not collide. */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1 (bound then released), never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createNetServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) { handedOut.add(port); return port; }
  }
}

export interface Backend {
  name: string;
  port: number;
  address: string;
  server: Server;
  /** Requests that reached this backend (method + url + headers). */
  seen: { method: string; url: string; headers: IncomingMessage['headers']; rawHeaders: string[] }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, backend: Backend) => void;

const defaultHandler: Handler = (req, res, b) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ backend: b.name, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

/** Starts `n` HTTP backends named b0..b(n-1) on free loopback ports. */
export async function startBackends(n: number, handler: Handler = defaultHandler): Promise<Backend[]> {
  const out: Backend[] = [];
  for (let i = 0; i < n; i++) {
    const b = { name: `b${i}`, seen: [] } as unknown as Backend;
    b.server = createServer((req, res) => {
      b.seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
      handler(req, res, b);
    });
    await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
    b.port = (b.server.address() as AddressInfo).port;
    b.address = `127.0.0.1:${b.port}`;
    b.close = () => new Promise((resolve) => { b.server.closeAllConnections(); b.server.close(() => resolve()); });
    out.push(b);
  }
  return out;
}

export interface Switchyard {
  proc: ChildProcess;
  port: number;
  url: string;
  configPath: string;
  /** Everything the process printed (JSON log lines and stderr). */
  output(): string;
  /** Resolves once a log line matching `re` appears (after `from` characters of output). */
  waitForLog(re: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  writeConfig(config: unknown): void;
  /** PIDs of the cluster workers (children of the primary). */
  workerPids(): number[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Config with one listener on `port` and the given routes/services; merged over `extra`. */
export function baseConfig(port: number, services: Record<string, unknown>, routes?: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workers: 1,
    logLevel: 'info',
    listeners: [{ name: 'web', address: `127.0.0.1:${port}` }],
    routes: routes ?? [{ match: { path: { prefix: '/' } }, service: Object.keys(services)[0] }],
    services,
    ...extra,
  };
}

/**
 * The integration suite runs once per data-plane engine (see package.json "test"); a file whose
 * first line starts with `// engine-independent:` runs only once.
 */
export function withTestEngine(config: Record<string, unknown>): Record<string, unknown> {
  const engine = process.env.SWITCHYARD_TEST_ENGINE;
  if (engine === undefined || !Array.isArray(config.listeners)) return config;
  return { ...config, listeners: (config.listeners as Record<string, unknown>[]).map((l) => ({ engine, ...l })) };
}

/**
 * The started nodes' temp directories, removed when this test file's process exits: a test may
 * still use one after its node stopped (a pid file beside the config, a rewritten config).
 */
const tempDirs: string[] = [];
process.once('exit', () => { for (const d of tempDirs) rmSync(d, { recursive: true, force: true }); });

/** Starts `switchyard start -c <tmp file>` and waits for its "ready" log line. */
export async function startSwitchyard(config: Record<string, unknown>, opts: { expectFail?: boolean; extraArgs?: string[] } = {}): Promise<Switchyard> {
  config = withTestEngine(config);
  const dir = mkdtempSync(join(tmpdir(), 'swy-test-'));
  tempDirs.push(dir);
  const configPath = join(dir, 'switchyard.yaml');
  writeFileSync(configPath, stringify(config));
  const port = Number(String((config.listeners as { address: string }[])[0].address).split(':').pop());
  return launchSwitchyard(['start', '-c', configPath, ...(opts.extraArgs ?? [])], port, configPath, opts);
}

/**
 * Runs `switchyard ARGS` (e.g. `start --store …`) as a test process; `port` is the listener the
 * test talks to (0 for nodes without one). Waits for "ready" unless `expectFail`.
 */
export async function launchSwitchyard(args: string[], port: number, configPath: string, opts: { expectFail?: boolean; env?: Record<string, string> } = {}): Promise<Switchyard> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => { out += d.toString(); for (const w of waiters.splice(0)) w(); };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => { for (const w of waiters.splice(0)) w(); resolve(code); }));

  const sy: Switchyard = {
    proc, port, url: `http://127.0.0.1:${port}`, configPath,
    output: () => out,
    waitForLog(re, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}`)), timeoutMs);
        const check = () => {
          const m = re.exec(out.slice(from));
          if (m) { clearTimeout(deadline); resolve(m[0]); return; }
          if (proc.exitCode !== null) { clearTimeout(deadline); reject(new Error(`process exited (${proc.exitCode}) before ${re}:\n${out}`)); return; }
          waiters.push(check);
        };
        check();
      });
    },
    writeConfig(c) { writeFileSync(configPath, stringify(withTestEngine(c as Record<string, unknown>))); },
    workerPids() {
      const pids: number[] = [];
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (Number(fields[1]) === proc.pid && fields[0] !== 'Z') pids.push(Number(d));
        } catch { /* process gone */ }
      }
      return pids;
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      const pids = sy.workerPids();
      proc.kill(signal);
      const timer = setTimeout(() => { proc.kill('SIGKILL'); for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } }, 15_000);
      const code = await exited;
      clearTimeout(timer);
      // A worker that died on its own (crash, native fault) fails the test that ran it.
      const crash = /"code":([1-9]\d*|null),"signal":(null|"SIG(SEGV|ABRT|BUS|ILL|FPE)")[^\n]*worker exited/.exec(out);
      if (crash) throw new Error(`a worker crashed during the test: ${crash[0]}`);
      return code;
    },
  };
  if (opts.expectFail) return sy;
  await sy.waitForLog(/"msg":"ready"/, 15_000);
  return sy;
}

/** Sends raw bytes on a fresh connection and returns everything received until the peer closes or `ms` pass. */
export function rawRequest(port: number, data: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = () => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, ms);
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', done);
    s.on('close', done);
    s.write(data);
  });
}

/** Sleeps; only for integration tests that wait on real processes. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads every 100 ms until `ok` holds and returns that value; fails after `ms` with the last value
 * read. For what a node shows a moment later (its once-a-second stats collection, a state that
 * travels through etcd or the primary), where a fixed sleep would be a guess.
 */
export async function pollUntil<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | string = 'nothing read';
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = v;
    } catch (e) { last = (e as Error).message; }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${typeof last === 'string' ? last : JSON.stringify(last)}`);
    await sleep(100);
  }
}
