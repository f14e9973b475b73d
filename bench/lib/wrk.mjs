// Runs wrk (pinned with the backends on the load-generator core) and parses
// its --latency output into numbers.
import { spawn } from 'node:child_process';
import { pinned, track } from './procs.mjs';

const UNIT = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

// "1.23ms" -> 1.23 (milliseconds)
export function parseDurationMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`bad duration ${text}`);
  return Number(m[1]) * UNIT[m[2]];
}

export function parseWrk(out) {
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseDurationMs(m[1]) : NaN;
  };
  const total = /^\s*(\d+) requests in ([\d.]+\w+),/m.exec(out);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  if (!total || !rps) throw new Error(`cannot parse wrk output:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: parseDurationMs(total[2]) / 1000,
    rps: Number(rps[1]),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

// Run wrk against 127.0.0.1:port. Bounded: killed if it overruns its
// duration by 15 s. Resolves with parsed stats plus the exact command.
// `headers`: extra request headers, e.g. ['Connection: close'] (then every
// request is a new connection: wrk reconnects after each response).
// `tls`: https:// (wrk offers no ALPN, so the server speaks HTTP/1.1; the
// certificate is not checked).
export function runWrk({ port, duration, connections, threads, cores, path = '/', headers = [], tls = false }) {
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
  const wrkArgs = ['-t', String(threads), '-c', String(connections), '-d', duration, '--latency', '--timeout', '2s', ...headers.flatMap((h) => ['-H', h]), url];
  const { cmd, args } = pinned(cores, 'wrk', wrkArgs);
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const limit = parseDurationMs(duration) + 15000;
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${err || out}`));
      try {
        resolve({ ...parseWrk(out), command: [cmd, ...args].join(' ') });
      } catch (e) {
        reject(e);
      }
    });
  });
}
