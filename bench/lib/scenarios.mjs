// The protocols bench/run.mjs measures (`--protocols`), each a table of its own:
// which peers take part, whether their listener is behind TLS, which load
// generator drives it, which latency figures that generator gives, and the
// issue's per-CPU-second target. Backends are always plain HTTP/1.1.
import { GEN_CORE, PROXY_CORE } from './peers.mjs';
import { runWrk } from './wrk.mjs';
import { runH2load } from './h2load.mjs';

const WRK_LATENCY = [{ key: 'p50', label: 'p50 ms' }, { key: 'p99', label: 'p99 ms' }];
// h2load has no percentiles: mean and standard deviation of "time for request".
const H2LOAD_LATENCY = [{ key: 'latencyMean', label: 'mean ms (h2load)' }, { key: 'latencySd', label: 'sd ms (h2load)' }];

// The TLS rows compare per core only (issue 20): nginx, haproxy, switchyard-1 (and -alt).
const perCoreTls = (peer) => peer.tls === true && peer.cores === PROXY_CORE;

// wrk: a warm-up run, then the CPU snapshots around the measured run (the
// measured run opens its connections, and over TLS does its handshakes, inside
// the window: 64 handshakes, noise next to a 10 s window).
async function wrkWindow({ port, tls, opts, snap }) {
  const wrkOpts = { port, tls, connections: opts.connections, threads: opts.threads, cores: GEN_CORE };
  await runWrk({ ...wrkOpts, duration: opts.warmup });
  const before = snap();
  const result = await runWrk({ ...wrkOpts, duration: opts.duration });
  return { result, before, after: snap() };
}

// h2load: one process warms up and measures; the snapshots are taken on its
// window edges, with h2load itself counted on the generator side.
async function h2loadWindow({ port, opts, snap }) {
  let before = null;
  let after = null;
  const result = await runH2load({
    port, duration: opts.duration, warmup: opts.warmup, clients: opts.h2Clients, streams: opts.h2Streams, cores: GEN_CORE,
    onWindowStart: (pid) => (before = snap([pid])),
    onWindowEnd: (pid) => (after = snap([pid])),
  });
  return { result, before, after };
}

const wrkCommand = (opts, scheme) => `taskset -c ${GEN_CORE} wrk -t${opts.threads} -c${opts.connections} -d${opts.duration} --latency --timeout 2s ${scheme}://127.0.0.1:PORT/`;

export const SCENARIOS = [
  {
    id: 'http',
    title: 'HTTP/1.1 cleartext',
    tls: false,
    accepts: () => true,
    window: wrkWindow,
    command: (opts) => `${wrkCommand(opts, 'http')} (keep-alive)`,
    latency: WRK_LATENCY,
    latencyRatio: { key: 'p99', label: 'p99' },
    switchyards: ['switchyard-1', 'switchyard-auto'],
    perCpuTarget: null,
  },
  {
    id: 'https',
    title: 'HTTPS HTTP/1.1',
    tls: true,
    accepts: perCoreTls,
    window: wrkWindow,
    command: (opts) => `${wrkCommand(opts, 'https')} (keep-alive, no ALPN: HTTP/1.1)`,
    latency: WRK_LATENCY,
    latencyRatio: { key: 'p99', label: 'p99' },
    switchyards: ['switchyard-1', 'switchyard-1-alt'],
    perCpuTarget: { peer: 'nginx', min: 0.5 },
  },
  {
    id: 'h2',
    title: 'HTTP/2 over TLS',
    tls: true,
    requires: 'h2load',
    accepts: perCoreTls,
    window: h2loadWindow,
    command: (opts) => `taskset -c ${GEN_CORE} h2load -c${opts.h2Clients} -m${opts.h2Streams} -D ${opts.duration} --warm-up-time ${opts.warmup} https://127.0.0.1:PORT/ (ALPN h2 checked)`,
    latency: H2LOAD_LATENCY,
    latencyRatio: { key: 'latencyMean', label: 'mean latency' },
    switchyards: ['switchyard-1', 'switchyard-1-alt'],
    perCpuTarget: { peer: 'nginx', min: 0.4 },
  },
];

export const SCENARIO_IDS = SCENARIOS.map((s) => s.id);
