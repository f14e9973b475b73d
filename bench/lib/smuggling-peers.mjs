// The proxies bench/smuggling.mjs compares, each configured the way its own
// documentation recommends for the same job: `/admin` denied, everything else
// (WebSocket included) proxied to one backend with upstream keep-alive, HTTP/1.1
// in clear on `port` and HTTP/2 over TLS on `h2Port`. Each starts from its own
// config in the temp dir and is stopped by PID (see procs.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { start } from './procs.mjs';
import { has, nginxMain, nginxTempPaths } from './peers.mjs';

function launch(ctx, name, cmd, args) {
  return start({ cmd, args, cwd: ctx.repoRoot, logFile: path.join(ctx.tmp, `${name}.log`) });
}

function switchyard(name, engine) {
  return {
    name,
    note: `Switchyard, engine ${engine}: route /admin to a service with no backend (503)`,
    check: (ctx) => (fs.existsSync(path.join(ctx.repoRoot, 'dist/src/cli/main.js')) ? null : 'dist/ missing (npm run build)'),
    start(ctx, port, h2Port) {
      const quiet = '{ enabled: false }';
      const yaml = `workers: 1
logLevel: warn
shutdown: { drainTimeout: 1s }
listeners:
  - { name: web, address: 127.0.0.1:${port}, engine: ${engine} }
  - name: tls
    address: 127.0.0.1:${h2Port}
    engine: ${engine}
    protocol: https
    tls: { certificates: [{ cert: ${ctx.cert}, key: ${ctx.key} }] }
routes:
  - { name: protected, match: { path: { prefix: /admin } }, service: denied }
  - { name: app, match: { path: { prefix: / } }, service: app }
services:
  denied: { backends: [] }
  app:
    backends: [{ address: ${ctx.backend} }]
    retries: ${quiet}
    outlierDetection: ${quiet}
    circuitBreaker: ${quiet}
`;
      const file = path.join(ctx.tmp, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return launch(ctx, name, process.execPath, [path.join(ctx.repoRoot, 'dist/src/cli/main.js'), 'start', '-c', file]);
    },
  };
}

// nginx's WebSocket proxying as its docs write it (nginx.org/en/docs/http/websocket.html),
// with `Connection: ""` when there is no upgrade so upstream keep-alive works.
function nginx() {
  return {
    name: 'nginx',
    note: 'nginx: location /admin { return 403; }, WebSocket map from the nginx docs, upstream keepalive',
    check: () => (has('nginx') ? null : 'nginx not installed'),
    start(ctx, port, h2Port) {
      const dir = path.join(ctx.tmp, 'nginx');
      fs.mkdirSync(dir, { recursive: true });
      const conf = `${nginxMain(dir, 1, 1024)}http {
  access_log off;
${nginxTempPaths(dir)}
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream app { server ${ctx.backend}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${h2Port} ssl http2;
    ssl_certificate ${ctx.cert};
    ssl_certificate_key ${ctx.key};
    location /admin { return 403; }
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }
  }
}
`;
      const file = path.join(dir, 'nginx.conf');
      fs.writeFileSync(file, conf);
      return launch(ctx, 'nginx', 'nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', file, '-g', 'daemon off;']);
    },
  };
}

// HAProxy in HTTP mode (WebSocket needs no setting); `normalize` adds the URI
// normalizers its docs offer for path rules (experimental directives in 2.6).
function haproxy(name, normalize) {
  return {
    name,
    note: `HAProxy: http-request deny if { path_beg /admin }${normalize ? ', plus http-request normalize-uri (merge slashes, dot segments, percent-decode-unreserved)' : ''}`,
    check: () => (has('haproxy') ? null : 'haproxy not installed'),
    start(ctx, port, h2Port) {
      const norm = normalize
        ? ['path-merge-slashes', 'path-strip-dot', 'path-strip-dotdot', 'percent-decode-unreserved', 'percent-to-uppercase']
          .map((n) => `  http-request normalize-uri ${n}`).join('\n') + '\n'
        : '';
      const cfg = `global
  maxconn 1024
${normalize ? '  expose-experimental-directives\n' : ''}defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  bind 127.0.0.1:${h2Port} ssl crt ${ctx.pem} alpn h2,http/1.1
${norm}  http-request deny if { path_beg /admin }
  default_backend be
backend be
  server s1 ${ctx.backend}
`;
      const file = path.join(ctx.tmp, `${name}.cfg`);
      fs.writeFileSync(file, cfg);
      return launch(ctx, name, 'haproxy', ['-f', file, '-db']);
    },
  };
}

/** In table order. */
export const SMUGGLING_PEERS = [
  switchyard('switchyard-fast', 'fast'),
  switchyard('switchyard-node', 'node'),
  nginx(),
  haproxy('haproxy', false),
  haproxy('haproxy-normalized', true),
];
