// The contenders. Each peer says how to check it can run, how to start it
// (its own config in the temp dir, its own port) and where it is pinned:
//   PROXY_CORE ("1")  per-core rows: the proxy alone on core 1
//   ALL_CORES ("0-1") multi-core rows (nginx-2w, haproxy-2t, switchyard-auto):
//                     "unpinned", may use every core. Spelled out with taskset
//                     because run.mjs pins itself to core 0 and children
//                     would otherwise inherit that affinity.
// wrk and the backends always share core 0 (see run.mjs).
// Peers with `tls: true` can also serve the TLS scenarios: `start(ctx, tls)`
// with `tls` = the run's certificate (bench/lib/cert.mjs) puts their listener
// behind TLS with ALPN h2,http/1.1 (backends stay plain HTTP/1.1).
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { pinned, start } from './procs.mjs';
import { switchyardYaml } from './switchyard-yaml.mjs';

export const PROXY_CORE = '1';
export const GEN_CORE = '0';
export const ALL_CORES = `0-${os.cpus().length - 1}`;

/** Whether `bin` is on the PATH. */
export const has = (bin) => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function launch(ctx, name, cores, cmd, args, extra = {}) {
  return start({ ...pinned(cores, cmd, args), cwd: ctx.repoRoot, logFile: path.join(ctx.tmp, `${name}.log`), ...extra });
}

// A small Node proxy from bench/peers/, given its port and the backend list.
function nodePeer(name, file, port, note) {
  return {
    name,
    port,
    cores: PROXY_CORE,
    note,
    check: () => null,
    start: (ctx) => launch(ctx, name, PROXY_CORE, process.execPath, [path.join(ctx.benchDir, 'peers', file), String(port), ctx.backends.join(',')]),
  };
}

// The top of every bench nginx config: its workers, pid and error log in `dir`, run as root when
// we are root (workers switched to "nobody" could not write into our temp dir).
export function nginxMain(dir, workers, workerConnections = 4096) {
  return `${process.getuid?.() === 0 ? 'user root root;\n' : ''}worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; }
`;
}

/** nginx's temp paths inside `dir` (its compiled-in defaults may not exist or be writable), for an `http` block. */
export const nginxTempPaths = (dir) => ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`).join('\n');

// An nginx config proxying 127.0.0.1:port to ctx.backends, written to its own
// dir under ctx.tmp. `opts` (bench/hang.mjs): `server` suffix per backend,
// upstream `keepalive`, extra `location` directives, the dir's `name`;
// `tls` ({ cert, key }): `listen … ssl http2` with that certificate, TLS 1.2
// and 1.3 (nginx 1.22's default lacks 1.3, which HAProxy and Node negotiate:
// the rows would compare different protocols and ciphers).
export function nginxConf(ctx, port, workers, opts = {}) {
  const dir = path.join(ctx.tmp, opts.name ?? `nginx-${workers}w`);
  fs.mkdirSync(dir, { recursive: true });
  const servers = ctx.backends.map((b) => `    server ${b}${opts.server ?? ''};`).join('\n');
  const location = (opts.location ?? []).map((l) => `\n      ${l}`).join('');
  // keepalive_requests raised from 1000 so neither side reconnects mid-run
  // (the Node peers never recycle connections either).
  const conf = `${nginxMain(dir, workers, opts.workerConnections)}http {
  access_log off;
${nginxTempPaths(dir)}
  keepalive_requests 1000000;
  upstream app {
${servers}
    keepalive ${opts.keepalive ?? 64};
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port}${opts.tls ? ` ssl http2;
    ssl_certificate ${opts.tls.cert};
    ssl_certificate_key ${opts.tls.key};
    ssl_protocols TLSv1.2 TLSv1.3` : ''};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";${location}
    }
  }
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { dir, file };
}

// The benchmark's backends as one nginx worker: a fixed keep-alive 200 on each port, the same
// bytes as bench/backends.mjs. C costs a fraction of Node's CPU per response, so the generator
// core (wrk + backends) stays below saturation while the proxy under test saturates its own.
export function nginxBackendsConf(ctx, ports) {
  const dir = path.join(ctx.tmp, 'backends-nginx');
  fs.mkdirSync(dir, { recursive: true });
  const servers = ports.map((p, i) => `  server {
    listen 127.0.0.1:${p} reuseport;
    location / { add_header X-Backend ${i} always; return 200 "hello world\\n"; }
  }`).join('\n');
  const conf = `${nginxMain(dir, 1)}http {
  access_log off;
  default_type text/plain;
${nginxTempPaths(dir)}
  keepalive_requests 1000000;
  keepalive_timeout 300s;
${servers}
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return { dir, file };
}

function nginxPeer(name, port, workers, cores) {
  return {
    name,
    port,
    cores,
    tls: true,
    note: `nginx, worker_processes ${workers}, upstream keepalive 64`,
    check: () => (has('nginx') ? null : 'nginx not installed'),
    start(ctx, tls = null) {
      const { dir, file } = nginxConf(ctx, port, workers, { tls });
      // -e: early error log before the config is read (default path may not exist)
      return launch(ctx, name, cores, 'nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']);
    },
  };
}

// An HAProxy config proxying 127.0.0.1:port to ctx.backends (roundrobin,
// keep-alive, http-reuse always), written to ctx.tmp/<name>.cfg. `tls` ({ pem })
// terminates TLS with ALPN h2,http/1.1. `opts` (bench/idle-memory.mjs): global
// `maxconn`, `lenientLimits` (a lower FD limit than maxconn wants is then a
// warning, not a refusal to start), client and keep-alive `timeout`s.
export function haproxyConf(ctx, port, threads, opts = {}, tls = null) {
  const servers = ctx.backends.map((b, i) => `  server s${i + 1} ${b}`).join('\n');
  const cfg = `global
  nbthread ${threads}
  maxconn ${opts.maxconn ?? 4096}${opts.lenientLimits ? '\n  no strict-limits' : ''}
defaults
  mode http
  timeout connect 5s
  timeout client ${opts.clientTimeout ?? '30s'}
  timeout server 30s${opts.keepAliveTimeout ? `\n  timeout http-keep-alive ${opts.keepAliveTimeout}` : ''}
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}${tls ? ` ssl crt ${tls.pem} alpn h2,http/1.1` : ''}
  default_backend be
backend be
  balance roundrobin
${servers}
`;
  const file = path.join(ctx.tmp, `${opts.name ?? 'haproxy'}.cfg`);
  fs.writeFileSync(file, cfg);
  return file;
}

function haproxyPeer(name, port, threads, cores) {
  return {
    name,
    port,
    cores,
    tls: true,
    note: `HAProxy, nbthread ${threads}, http-reuse always`,
    check: () => (has('haproxy') ? null : 'haproxy not installed'),
    start(ctx, tls = null) {
      const file = haproxyConf(ctx, port, threads, { name }, tls);
      return launch(ctx, name, cores, 'haproxy', ['-f', file, '-db']); // -db: foreground
    },
  };
}

// A/B runs: BENCH_ALT_ROOT=<another checkout, built> adds `switchyard-1-alt` from that tree;
// BENCH_SWITCHYARD_EXTRA=<yaml lines> is appended to the top level of every Switchyard config.
function switchyardPeer(name, port, workers, cores, root) {
  return {
    name,
    port,
    cores,
    switchyard: true,
    tls: true,
    note: `Switchyard, workers: ${workers}, p2c`,
    check: (ctx) => (fs.existsSync(path.join(root ?? ctx.repoRoot, 'dist/src/cli/main.js')) ? null : 'dist/src/cli/main.js missing (core not built)'),
    start(ctx, tls = null) {
      const yaml = switchyardYaml({
        port, workers, logLevel: 'warn', algorithm: 'p2c', backends: ctx.backends, tls,
        top: root === undefined && process.env.BENCH_SWITCHYARD_EXTRA ? [process.env.BENCH_SWITCHYARD_EXTRA] : [],
      });
      const file = path.join(ctx.tmp, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return launch(ctx, name, cores, process.execPath, [path.join(root ?? ctx.repoRoot, 'dist/src/cli/main.js'), 'start', '-c', file]);
    },
  };
}

// Order here is the order of the table.
export const PEERS = [
  // No proxy: wrk straight at backend 1. The ceiling of this rig.
  { name: 'direct', port: 19001, cores: null, direct: true, note: 'wrk -> backend, no proxy', check: () => null, start: () => null },
  haproxyPeer('haproxy', 18081, 1, PROXY_CORE),
  haproxyPeer('haproxy-2t', 18082, 2, ALL_CORES),
  nginxPeer('nginx', 18083, 1, PROXY_CORE),
  nginxPeer('nginx-2w', 18084, 2, ALL_CORES),
  nodePeer('floor', 'floor.mjs', 18090, 'raw net.Socket both sides, head forwarded untouched, no features: the ceiling of a Node proxy'),
  nodePeer('bare-undici', 'bare-undici.mjs', 18085, 'node:http + undici Pool per backend, no features'),
  nodePeer('naive-http', 'naive-http.mjs', 18086, 'node:http + http.request, global agent'),
  nodePeer('http-proxy', 'http-proxy.mjs', 18087, 'http-proxy (npm), keep-alive agent'),
  nodePeer('fastify-proxy', 'fastify-proxy.mjs', 18088, '@fastify/http-proxy (undici)'),
  switchyardPeer('switchyard-1', 18080, 1, PROXY_CORE),
  switchyardPeer('switchyard-auto', 18089, 'auto', ALL_CORES),
  ...(process.env.BENCH_ALT_ROOT ? [switchyardPeer('switchyard-1-alt', 18091, 1, PROXY_CORE, process.env.BENCH_ALT_ROOT)] : []),
];

export const cpuCount = () => os.availableParallelism?.() ?? os.cpus().length;
