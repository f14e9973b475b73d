// Command-line flags, each with an environment-variable fallback so that
// `npm run bench` can be tuned without `--` gymnastics.
import { parseDurationMs } from './wrk.mjs';

const SPEC = {
  duration: { env: 'BENCH_DURATION', def: '10s', help: 'wrk measurement window per peer per run' },
  warmup: { env: 'BENCH_WARMUP', def: '2s', help: 'wrk warm-up before each window (not measured)' },
  runs: { env: 'BENCH_RUNS', def: '5', help: 'interleaved rounds (>= 3); medians are reported' },
  connections: { env: 'BENCH_CONNECTIONS', def: '64', help: 'wrk keep-alive connections' },
  threads: { env: 'BENCH_THREADS', def: '1', help: 'wrk threads (all on the generator core)' },
  backends: { env: 'BENCH_BACKENDS', def: 'nginx', help: 'nginx (one C worker, light: the generator core stays unsaturated) or node (bench/backends.mjs)' },
  'quiet-wait': { env: 'BENCH_QUIET_WAIT', def: '5s', help: 'before each measurement, wait up to this long for other load < 0.2 cores (0s: off)' },
  only: { env: 'BENCH_ONLY', def: '', help: 'comma-separated peer names to run (default: all)' },
  'no-install': { env: 'BENCH_NO_INSTALL', def: false, flag: true, help: 'skip bench/install.sh' },
  'keep-tmp': { env: 'BENCH_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};

// Usage text for a flag spec like SPEC above (also used by bench/l4.mjs).
export function specUsage(script, spec, footer = '') {
  const lines = Object.entries(spec).map(([k, s]) => `  --${k}${s.flag ? '' : ' VALUE'}`.padEnd(26) + `${s.help} [${s.env}${s.flag ? '' : `, default ${s.def || 'all'}`}]`);
  return `usage: node ${script} [options]\n${lines.join('\n')}${footer ? `\n${footer}` : ''}`;
}

export function usage(peerNames) {
  return specUsage('bench/run.mjs', SPEC, `peers: ${peerNames.join(', ')}`);
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

export function parseArgs(argv, peerNames) {
  const opts = parseSpec(argv, SPEC, usage(peerNames));
  opts.runs = Number(opts.runs);
  opts.connections = Number(opts.connections);
  opts.threads = Number(opts.threads);
  if (!Number.isInteger(opts.runs) || opts.runs < 3) throw new Error('--runs must be an integer >= 3 (medians need it)');
  if (!(opts.connections >= 1) || !(opts.threads >= 1) || opts.threads > opts.connections) throw new Error('bad --connections/--threads');
  parseDurationMs(opts.duration); // validate "10s" style
  parseDurationMs(opts.warmup);
  if (opts.backends !== 'nginx' && opts.backends !== 'node') throw new Error('--backends must be nginx or node');
  opts.quietWaitMs = parseDurationMs(opts['quiet-wait']);
  opts.only = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const unknown = opts.only.filter((n) => !peerNames.includes(n));
  if (unknown.length) throw new Error(`unknown peer(s) ${unknown.join(', ')}; known: ${peerNames.join(', ')}`);
  return opts;
}
