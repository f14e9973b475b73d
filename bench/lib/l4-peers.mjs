// The contenders of bench/l4.mjs and its generator-side backends. Every proxy
// gets one config with up to three listeners, one per kind of scenario:
//   bulk  (port base)     L4 -> l4-source.mjs (streams data to the client)
//   conn  (port base + 1) L4 -> nginx answering one short HTTP/1.0-style
//                         request and closing (keepalive_timeout 0)
//   tls   (port base + 2) TLS termination, HTTP -> nginx (keep-alive)
// Per-core pinning as in run.mjs: the proxy alone on core 1 (PROXY_CORE), the
// generators and backends on core 0 (GEN_CORE).
import fs from 'node:fs';
import path from 'node:path';
import { pinned, start } from './procs.mjs';
import { PROXY_CORE, GEN_CORE, has, nginxMain, nginxTempPaths } from './peers.mjs';

export { PROXY_CORE, GEN_CORE };

export const BACKEND_PORTS = { bulk: 19201, conn: 19202, web: 19203 };
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

const addr = (port) => `127.0.0.1:${port}`;

function launch(ctx, name, cores, cmd, args) {
  return start({ ...pinned(cores, cmd, args), cwd: ctx.repoRoot, logFile: path.join(ctx.tmp, `${name}.log`) });
}

const nginxBase = (dir, workers) => nginxMain(dir, workers, 16384);

function startNginx(ctx, name, cores, conf) {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf(dir));
  // -e: early error log before the config is read (the default path may not exist)
  return launch(ctx, name, cores, 'nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']);
}

// The generator-side HTTP backend (C, so that its accept/close cost does not
// cap the connection rate the way a Node server would): `conn` answers and
// closes every connection, `web` keeps them alive (upstream of the TLS
// listeners, which reuse their backend connections).
export function startBackendNginx(ctx) {
  return startNginx(ctx, 'backend-nginx', GEN_CORE, (dir) => `${nginxBase(dir, 1)}http {
  access_log off;
  default_type text/plain;
${nginxTempPaths(dir)}
  server {
    listen ${addr(BACKEND_PORTS.conn)} backlog=4096;
    keepalive_timeout 0;
    location / { return 200 "hello world\\n"; }
  }
  server {
    listen ${addr(BACKEND_PORTS.web)} backlog=4096;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    location / { return 200 "hello world\\n"; }
  }
}
`);
}

export function startSource(ctx) {
  return launch(ctx, 'l4-source', GEN_CORE, process.execPath, [path.join(ctx.benchDir, 'lib', 'l4-source.mjs'), String(BACKEND_PORTS.bulk)]);
}

const ports = (base, tls) => ({ bulk: base, conn: base + 1, ...(tls ? { tls: base + 2 } : {}) });

// A/B runs: BENCH_ALT_ROOT=<another checkout, built> adds `switchyard-alt` from that tree.
function switchyardPeer(base, name = 'switchyard', root = null) {
  const main = (ctx) => path.join(root ?? ctx.repoRoot, 'dist/src/cli/main.js');
  return {
    name,
    cores: PROXY_CORE,
    ports: ports(base, true),
    note: `Switchyard${root ? ` from ${root}` : ''}, workers: 1; \`protocol: tcp\` listeners; \`protocol: https\` listener (fast engine) for TLS`,
    check: (ctx) => (fs.existsSync(main(ctx)) ? null : `${main(ctx)} missing (run npm run build)`),
    start(ctx) {
      const p = this.ports;
      // Short drain so stopping between rounds never waits the 30 s default.
      const yaml = `workers: 1
logLevel: warn
shutdown: { drainTimeout: 1s }
listeners:
  - name: bulk
    address: ${addr(p.bulk)}
    protocol: tcp
    service: bulk
  - name: conn
    address: ${addr(p.conn)}
    protocol: tcp
    service: conn
  - name: tls
    address: ${addr(p.tls)}
    protocol: https
    tls:
      certificates:
        - { cert: ${ctx.tls.cert}, key: ${ctx.tls.key} }
routes:
  - name: all
    listeners: [tls]
    match: { path: { prefix: / } }
    service: web
services:
  bulk:
    backends: [{ address: ${addr(BACKEND_PORTS.bulk)} }]
  conn:
    backends: [{ address: ${addr(BACKEND_PORTS.conn)} }]
  web:
    backends: [{ address: ${addr(BACKEND_PORTS.web)} }]
`;
      const file = path.join(ctx.tmp, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return launch(ctx, name, this.cores, process.execPath, [main(ctx), 'start', '-c', file]);
    },
  };
}

function haproxyPeer(base) {
  return {
    name: 'haproxy',
    cores: PROXY_CORE,
    ports: ports(base, true),
    note: 'HAProxy, nbthread 1; `mode tcp` frontends; `bind … ssl crt` + mode http for TLS',
    check: () => (has('haproxy') ? null : 'haproxy not installed'),
    start(ctx) {
      const p = this.ports;
      const cfg = `global
  nbthread 1
  maxconn 8192
defaults
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bulk
  mode tcp
  bind ${addr(p.bulk)}
  default_backend bulk
backend bulk
  mode tcp
  server s1 ${addr(BACKEND_PORTS.bulk)}
frontend conn
  mode tcp
  bind ${addr(p.conn)}
  default_backend conn
backend conn
  mode tcp
  server s1 ${addr(BACKEND_PORTS.conn)}
frontend tls
  mode http
  option http-keep-alive
  bind ${addr(p.tls)} ssl crt ${ctx.tls.pem}
  default_backend web
backend web
  mode http
  http-reuse always
  server s1 ${addr(BACKEND_PORTS.web)}
`;
      const file = path.join(ctx.tmp, 'haproxy.cfg');
      fs.writeFileSync(file, cfg);
      return launch(ctx, 'haproxy', this.cores, 'haproxy', ['-f', file, '-db']); // -db: foreground
    },
  };
}

function nginxStreamPeer(base) {
  return {
    name: 'nginx-stream',
    cores: PROXY_CORE,
    ports: ports(base, false),
    note: 'nginx `stream` module, worker_processes 1, default proxy_buffer_size (16k)',
    check: () => (!has('nginx') ? 'nginx not installed' : fs.existsSync(NGINX_STREAM_MODULE) ? null : `${NGINX_STREAM_MODULE} missing (apt-get install libnginx-mod-stream; bench/install.sh does)`),
    start(ctx) {
      const p = this.ports;
      return startNginx(ctx, 'nginx-stream', this.cores, (dir) => `load_module ${NGINX_STREAM_MODULE};
${nginxBase(dir, 1)}stream {
  server { listen ${addr(p.bulk)} backlog=4096; proxy_pass ${addr(BACKEND_PORTS.bulk)}; }
  server { listen ${addr(p.conn)} backlog=4096; proxy_pass ${addr(BACKEND_PORTS.conn)}; }
}
`);
    },
  };
}

function naivePeer(base) {
  return {
    name: 'naive-tcp',
    cores: PROXY_CORE,
    ports: ports(base, false),
    note: '[peers/naive-tcp.mjs](peers/naive-tcp.mjs): net.createServer + socket.pipe both ways',
    check: () => null,
    start(ctx) {
      const p = this.ports;
      const maps = [`${p.bulk}:127.0.0.1:${BACKEND_PORTS.bulk}`, `${p.conn}:127.0.0.1:${BACKEND_PORTS.conn}`];
      return launch(ctx, 'naive-tcp', this.cores, process.execPath, [path.join(ctx.benchDir, 'peers', 'naive-tcp.mjs'), ...maps]);
    },
  };
}

// Order here is the order of the tables.
export const L4_PEERS = [
  // No proxy: the generators straight at the backends: the rig's ceiling.
  { name: 'direct', cores: null, direct: true, ports: { bulk: BACKEND_PORTS.bulk, conn: BACKEND_PORTS.conn }, note: 'generator -> backend, no proxy', check: () => null, start: () => null },
  switchyardPeer(18280),
  haproxyPeer(18283),
  nginxStreamPeer(18286),
  naivePeer(18289),
  ...(process.env.BENCH_ALT_ROOT ? [switchyardPeer(18292, 'switchyard-alt', process.env.BENCH_ALT_ROOT)] : []),
];
