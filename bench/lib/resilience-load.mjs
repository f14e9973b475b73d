// Open-loop load generator of bench/resilience.mjs, run in a worker thread so
// that the orchestrator (spawning and killing processes, reading logs) never
// delays a send.
//
// Request i is due at t0 + i × (1000 / rate) ms, whatever happened to the
// earlier ones (open loop: a slow or failing proxy does not lower the offered
// rate, unlike wrk's closed loop). A timer wakes up about every millisecond and
// sends every request that is due. For each request it records the actual send
// time, the completion time, the status (0 = no response), which backend
// answered (from the body "backend-N") and, for failures, the cause.
//
// A warm-up at the same rate runs from t0 − warmup to t0 (JIT, connections);
// its requests are counted but not recorded.
//
// Bounded: exactly round(rate × (warmup + duration)) requests, each with a
// client timeout; at t0 + duration + timeout + 5 s whatever is still open is
// destroyed and recorded as "unfinished".
//
// workerData: { port, rate, durationMs, warmupMs, t0 (epoch ms), connections, timeoutMs }
// Posts one message: { n, intervalMs, sent, done (Float64Array, ms since t0),
// status (Int16Array), backend (Int8Array), failures: [[i, cause], ...],
// warmup: { requests, failures } }.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

const { port, rate, durationMs, warmupMs = 0, t0, connections, timeoutMs } = workerData;
const n = Math.round((rate * durationMs) / 1000);
const intervalMs = 1000 / rate;
const nWarm = Math.round((rate * warmupMs) / 1000);
const warmStart = -nWarm * intervalMs; // ms since t0 of the first warm-up request
const warmup = { requests: nWarm, failures: 0 };
const now = () => performance.timeOrigin + performance.now() - t0; // ms since t0

const sent = new Float64Array(n).fill(NaN);
const done = new Float64Array(n).fill(NaN);
const status = new Int16Array(n);
const backend = new Int8Array(n);
const failures = [];

const pool = new Pool(`http://127.0.0.1:${port}`, {
  connections,
  pipelining: 1,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
  connectTimeout: timeoutMs,
});

let next = 0; // index over warm-up + measured requests
let open = 0;
let finished = false;

function cause(err) {
  const code = err?.code ?? err?.name ?? 'Error';
  return `${code}: ${String(err?.message ?? err).split('\n')[0].slice(0, 120)}`;
}

function fire(i) {
  open++;
  sent[i] = now();
  pool.request({ method: 'GET', path: '/', headers: { 'x-bench-seq': String(i) } }).then(
    async (res) => {
      let text = '';
      try {
        text = await res.body.text();
      } catch (err) {
        done[i] = now();
        status[i] = 0;
        failures.push([i, `body ${cause(err)}`]);
        return settle();
      }
      done[i] = now();
      status[i] = res.statusCode;
      const m = /^backend-(\d+)\b/.exec(text);
      backend[i] = m ? Number(m[1]) : -1;
      if (res.statusCode < 200 || res.statusCode > 299) {
        // Switchyard's own error bodies carry a stable code (SWY_...).
        const code = /SWY_[A-Z_]+/.exec(text)?.[0] ?? text.trim().slice(0, 80);
        failures.push([i, `${res.statusCode} ${code}`]);
      }
      settle();
    },
    (err) => {
      done[i] = now();
      status[i] = 0;
      failures.push([i, cause(err)]);
      settle();
    },
  );
}

function settle() {
  open--;
  if (next >= total && open === 0) finish();
}

function fireWarm() {
  open++;
  pool.request({ method: 'GET', path: '/', headers: { 'x-bench-seq': 'warmup' } }).then(
    async (res) => {
      await res.body.text().catch(() => {});
      if (res.statusCode < 200 || res.statusCode > 299) warmup.failures++;
      settle();
    },
    () => {
      warmup.failures++;
      settle();
    },
  );
}

const total = nWarm + n;
const due = (j) => warmStart + j * intervalMs;

function tick() {
  if (finished) return;
  const t = now();
  while (next < total && due(next) <= t) {
    if (next < nWarm) fireWarm();
    else fire(next - nWarm);
    next++;
  }
  if (next < total) setTimeout(tick, Math.max(0, Math.min(1, due(next) - now())));
  else if (open === 0) finish();
}

function finish(reason) {
  if (finished) return;
  finished = true;
  clearTimeout(hardStop);
  if (reason) {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(done[i])) failures.push([i, Number.isNaN(sent[i]) ? `not sent (${reason})` : `unfinished (${reason})`]);
    }
  }
  pool.destroy().catch(() => {});
  parentPort.postMessage({ n, intervalMs, sent, done, status, backend, failures, warmup }, [sent.buffer, done.buffer, status.buffer, backend.buffer]);
}

const hardStop = setTimeout(() => finish('hard stop at duration + timeout + 5 s'), t0 + durationMs + timeoutMs + 5000 - (performance.timeOrigin + performance.now()));
setTimeout(tick, Math.max(0, warmStart - now()));
