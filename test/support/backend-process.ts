/*
 * A backend in a process of its own, so a test can freeze it (SIGSTOP: the kernel still accepts
 * connections, nothing answers) or kill it (SIGKILL: connections reset) as a real failure would.
 * The child is this file run as `node backend-process.js --backend-child NAME STATUS`: it answers
 * every request with STATUS and a JSON body naming itself, and `GET /__count` with how many other
 * requests it received. It prints `ready PORT` once it listens on an ephemeral loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const CHILD_FLAG = '--backend-child';

/** A backend process started by `startBackendProcess`. */
export interface BackendProcess {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly pid: number;
  /** SIGSTOP / SIGCONT. */
  freeze(): void;
  thaw(): void;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Requests received other than `/__count` (asks the process; it must not be frozen). */
  count(): Promise<number>;
  /** Thaws and kills it (idempotent); for `finally` blocks. */
  close(): Promise<void>;
}

/** Starts `name` answering `status` to every request; rejects if it is not listening within 10 s. */
export async function startBackendProcess(name: string, status = 200): Promise<BackendProcess> {
  const proc: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), CHILD_FLAG, name, String(status)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${name} did not start`)); }, 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code})`)); });
  });
  const signal = (s: NodeJS.Signals) => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(s); };
  const kill = async () => { signal('SIGCONT'); signal('SIGKILL'); await exited; };
  return {
    name, port, address: `127.0.0.1:${port}`, pid: proc.pid!,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    kill,
    async count() {
      const r = await fetch(`http://127.0.0.1:${port}/__count`);
      return Number(await r.text());
    },
    close: kill,
  };
}

// Run as the child (the flag: `node --test` also runs every file under test/, without arguments).
if (process.argv[2] === CHILD_FLAG) {
  const [name, statusText] = process.argv.slice(3);
  const status = Number(statusText);
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/__count') { res.end(String(count)); return; }
    count++;
    const body = JSON.stringify({ backend: name });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  // Longer than Switchyard keeps idle upstream connections: the only failures are the test's.
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', 1024, () => process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`));
  // A test runner that dies must not leave backends behind.
  process.on('disconnect', () => process.exit(0));
  setInterval(() => { if (process.ppid === 1) process.exit(0); }, 1000).unref();
}
