// The contenders of bench/hang.mjs, each given the same per-try budget: a
// backend that has not answered within 1 s is given up on and the request
// sent to another one. Each entry writes its config into `dir` and returns
// { cmd, args } to start it in the foreground on `port` in front of `backends`.
import fs from 'node:fs';
import path from 'node:path';
import { has, nginxConf } from './peers.mjs';
import { switchyardYaml } from './switchyard-yaml.mjs';

function switchyard(name, service, note) {
  return {
    name,
    note,
    switchyard: true,
    check: (ctx) => (fs.existsSync(ctx.cli) ? null : 'dist/src/cli/main.js missing (npm run build)'),
    config(ctx, dir, port, backends) {
      const yaml = switchyardYaml({
        port, engine: ctx.engine, backends, service,
        top: [`admin: { address: 127.0.0.1:${port + 1000}, auditLog: { path: ${path.join(dir, 'audit.log')} } }`],
      });
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, yaml);
      return { cmd: process.execPath, args: [ctx.cli, 'start', '-c', file], env: { SWITCHYARD_LOG_PRETTY: '0' } };
    },
  };
}

const haproxy = {
  name: 'haproxy',
  note: 'HAProxy: timeout server 1s, retries 3, option redispatch 1, retry-on conn-failure empty-response response-timeout 503',
  check: () => (has('haproxy') ? null : 'haproxy not installed'),
  config(_ctx, dir, port, backends) {
    const cfg = `global
  maxconn 8000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 1s
  option http-keep-alive
  http-reuse always
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout 503
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  balance roundrobin
${backends.map((b, i) => `  server s${i + 1} ${b}`).join('\n')}
`;
    const file = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(file, cfg);
    return { cmd: 'haproxy', args: ['-f', file, '-db'] };
  },
};

const nginx = {
  name: 'nginx',
  note: 'nginx: proxy_read_timeout 1s, proxy_next_upstream error timeout, 3 tries, max_fails 1 fail_timeout 10s',
  check: () => (has('nginx') ? null : 'nginx not installed'),
  config(ctx, dir, port, backends) {
    const { dir: ndir, file } = nginxConf({ tmp: dir, backends }, port, 1, {
      name: 'nginx', server: ' max_fails=1 fail_timeout=10s', keepalive: 256, workerConnections: 10000,
      location: ['proxy_connect_timeout 1s;', 'proxy_read_timeout 1s;', 'proxy_next_upstream error timeout;', 'proxy_next_upstream_tries 3;'],
    });
    return { cmd: 'nginx', args: ['-p', ndir, '-e', path.join(ndir, 'error.log'), '-c', file, '-g', 'daemon off;'] };
  },
};

// Order here is the order of the columns.
export const HANG_PEERS = [
  switchyard('switchyard', ['retries: { perTryTimeout: 1s }'], 'Switchyard: retries.perTryTimeout 1s (timeouts.request 60s default), no hedging'),
  switchyard('switchyard-hedge', ['hedging: { enabled: true }'], 'Switchyard: hedging on (p99 × 1.5, 10 ms–1 s), default timeouts (no per-try timeout)'),
  switchyard('switchyard-both', ['retries: { perTryTimeout: 1s }', 'hedging: { enabled: true }'], 'Switchyard: per-try timeout 1s and hedging'),
  haproxy,
  nginx,
];
