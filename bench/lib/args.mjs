// Command-line flags, each with an environment-variable fallback so that
// `npm run bench` can be tuned without `--` gymnastics.
import { parseDurationMs } from './wrk.mjs';

const SPEC = {
  duration: { env: 'BENCH_DURATION', def: '10s', help: 'measurement window per peer per run (wrk -d, h2load -D)' },
  warmup: { env: 'BENCH_WARMUP', def: '2s', help: 'warm-up before each window, not measured (a wrk run; h2load --warm-up-time)' },
  runs: { env: 'BENCH_RUNS', def: '5', help: 'interleaved rounds (>= 3); medians are reported' },
  connections: { env: 'BENCH_CONNECTIONS', def: '64', help: 'wrk keep-alive connections' },
  threads: { env: 'BENCH_THREADS', def: '1', help: 'wrk threads (all on the generator core)' },
  backends: { env: 'BENCH_BACKENDS', def: 'nginx', help: 'nginx (one C worker, light: the generator core stays unsaturated) or node (bench/backends.mjs)' },
  'quiet-wait': { env: 'BENCH_QUIET_WAIT', def: '5s', help: 'before each measurement, wait up to this long for other load < 0.2 cores (0s: off)' },
  only: { env: 'BENCH_ONLY', def: '', help: 'comma-separated peer names to run (default: all)' },
  protocols: { env: 'BENCH_PROTOCOLS', def: 'http,https,h2', help: 'comma-separated scenarios: http (HTTP/1.1 cleartext), https (HTTP/1.1 over TLS), h2 (HTTP/2 over TLS)' },
  'h2-clients': { env: 'BENCH_H2_CLIENTS', def: '16', help: 'h2 scenario: h2load connections (-c)' },
  'h2-streams': { env: 'BENCH_H2_STREAMS', def: '10', help: 'h2 scenario: h2load concurrent streams per connection (-m)' },
  'no-install': { env: 'BENCH_NO_INSTALL', def: false, flag: true, help: 'skip bench/install.sh' },
  'keep-tmp': { env: 'BENCH_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};

// Usage text for a flag spec like SPEC above (also used by bench/l4.mjs).
export function specUsage(script, spec, footer = '') {
  const lines = Object.entries(spec).map(([k, s]) => `  --${k}${s.flag ? '' : ' VALUE'}`.padEnd(26) + `${s.help} [${s.env}${s.flag ? '' : `, default ${s.def || 'all'}`}]`);
  return `usage: node ${script} [options]\n${lines.join('\n')}${footer ? `\n${footer}` : ''}`;
}

export function usage(peerNames) {
  return specUsage('bench/run.mjs', SPEC, `peers: ${peerNames.join(', ')} (the https and h2 scenarios take the per-core TLS peers: haproxy, nginx, switchyard-1, switchyard-1-alt)`);
}

// Raw values for every flag of `spec`: defaults, then the env variables, then
// argv (`--name value`, `--name=value`, `--flag`). --help prints `usageText`
// and exits. Values stay strings (flags booleans); callers validate.
export function parseSpec(argv, spec, usageText) {
  const opts = {};
  for (const [k, s] of Object.entries(spec)) {
    const env = process.env[s.env];
    opts[k] = s.flag ? env === '1' || env === 'true' || s.def : env ?? s.def;
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(usageText);
      process.exit(0);
    }
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m || !spec[m[1]]) throw new Error(`unknown argument ${a}\n${usageText}`);
    if (spec[m[1]].flag) opts[m[1]] = true;
    else opts[m[1]] = m[2] ?? argv[++i];
  }
  return opts;
}

export function parseArgs(argv, peerNames, scenarioIds) {
  const opts = parseSpec(argv, SPEC, usage(peerNames));
  opts.runs = Number(opts.runs);
  opts.connections = Number(opts.connections);
  opts.threads = Number(opts.threads);
  opts.h2Clients = Number(opts['h2-clients']);
  opts.h2Streams = Number(opts['h2-streams']);
  if (!Number.isInteger(opts.h2Clients) || opts.h2Clients < 1 || !Number.isInteger(opts.h2Streams) || opts.h2Streams < 1) throw new Error('bad --h2-clients/--h2-streams');
  if (!Number.isInteger(opts.runs) || opts.runs < 3) throw new Error('--runs must be an integer >= 3 (medians need it)');
  if (!(opts.connections >= 1) || !(opts.threads >= 1) || opts.threads > opts.connections) throw new Error('bad --connections/--threads');
  parseDurationMs(opts.duration); // validate "10s" style
  parseDurationMs(opts.warmup);
  if (opts.backends !== 'nginx' && opts.backends !== 'node') throw new Error('--backends must be nginx or node');
  opts.quietWaitMs = parseDurationMs(opts['quiet-wait']);
  opts.only = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const unknown = opts.only.filter((n) => !peerNames.includes(n));
  if (unknown.length) throw new Error(`unknown peer(s) ${unknown.join(', ')}; known: ${peerNames.join(', ')}`);
  opts.protocols = opts.protocols.split(',').map((s) => s.trim()).filter(Boolean);
  const badProtocols = opts.protocols.filter((id) => !scenarioIds.includes(id));
  if (!opts.protocols.length || badProtocols.length) throw new Error(`bad --protocols ${badProtocols.join(', ')}; known: ${scenarioIds.join(', ')}`);
  return opts;
}
