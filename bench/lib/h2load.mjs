// Runs h2load (nghttp2) for the HTTP/2-over-TLS rows of bench/run.mjs and
// parses its summary into numbers.
//
// One h2load process does the warm-up and the measured window
// (`--warm-up-time`, `-D`), so the connections and their TLS handshakes are
// made before the window. It prints "Main benchmark duration is started/over"
// as each edge passes (std::endl, flushed through the pipe): the bench takes
// its CPU snapshots on those lines, so proxy CPU covers the same window as
// h2load's counts.
//
// h2load gives no latency percentiles, only min / max / mean / sd of "time for
// request"; those are what the rows show, labelled as such.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { pinned, track } from './procs.mjs';
import { parseDurationMs } from './wrk.mjs';

const WINDOW_START = /^Main benchmark duration is started/;
const WINDOW_END = /^Main benchmark duration is over/;

export function parseH2load(out) {
  const finished = /^finished in ([\d.]+\w+), ([\d.]+) req\/s/m.exec(out);
  const req = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(out);
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(out);
  const time = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out);
  if (!finished || !req || !codes || !time) throw new Error(`cannot parse h2load output:\n${out.slice(-2000)}`);
  const line = (label) => new RegExp(`^${label}: (.+)$`, 'm').exec(out)?.[1].trim() ?? null;
  return {
    requests: Number(req[4]), // succeeded, in the measured window only
    rps: Number(finished[2]),
    latencyMin: parseDurationMs(time[1]),
    latencyMax: parseDurationMs(time[2]),
    latencyMean: parseDurationMs(time[3]),
    latencySd: parseDurationMs(time[4]),
    socketErrors: Number(req[5]) + Number(req[6]) + Number(req[7]), // failed + errored + timeout
    non2xx: Number(codes[3]) + Number(codes[4]), // like wrk's: 4xx + 5xx
    protocol: line('Application protocol'),
    tls: [line('TLS Protocol'), line('Cipher'), line('Server Temp Key')].filter(Boolean).join(' '),
  };
}

// h2load takes whole numbers with a unit: "1.5s" -> "1500ms".
const h2Duration = (text) => `${Math.round(parseDurationMs(text))}ms`;

// Load https://127.0.0.1:port/ over HTTP/2 for `warmup` + `duration`.
// `onWindowStart()` / `onWindowEnd()` run synchronously on h2load's edge lines
// (CPU snapshots). Bounded: killed 15 s after it should have finished.
// Fails unless ALPN chose h2: h2load would silently fall back to HTTP/1.1
// pipelining.
export function runH2load({ port, duration, warmup, clients, streams, cores, onWindowStart = () => {}, onWindowEnd = () => {} }) {
  const h2Args = ['-c', String(clients), '-m', String(streams), '-D', h2Duration(duration), '--warm-up-time', h2Duration(warmup), `https://127.0.0.1:${port}/`];
  const { cmd, args } = pinned(cores, 'h2load', h2Args);
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    let started = NaN;
    let ended = NaN;
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      out += `${l}\n`;
      if (WINDOW_START.test(l) && Number.isNaN(started)) {
        onWindowStart(child.pid);
        started = performance.now();
      } else if (WINDOW_END.test(l) && Number.isNaN(ended)) {
        ended = performance.now();
        onWindowEnd(child.pid);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), parseDurationMs(warmup) + parseDurationMs(duration) + 15000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const command = [cmd, ...args].join(' ');
      if (code !== 0) return reject(new Error(`h2load exited ${code}: ${(err || out).trim().split('\n').at(-1)}`));
      if (Number.isNaN(started) || Number.isNaN(ended)) return reject(new Error('h2load printed no measured window (no client connected?)'));
      try {
        const r = parseH2load(out);
        if (r.protocol !== 'h2') return reject(new Error(`ALPN chose ${r.protocol ?? 'nothing'}, not h2`));
        if (r.requests === 0) return reject(new Error(`h2load: no request succeeded: ${err.trim().split('\n').at(-1) ?? ''}`));
        resolve({ ...r, seconds: (ended - started) / 1000, command });
      } catch (e) {
        reject(e);
      }
    });
  });
}
