#!/usr/bin/env bash
# Installs the native peers and the load generator from Debian, only if missing.
# Nothing is started here: there is no systemd, and run.mjs starts each daemon
# itself with its own config in a temp dir.
set -euo pipefail

missing=()
for bin in wrk h2load haproxy nginx taskset openssl pdns_server dnsdist dnsperf dig; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
# bench/l4.mjs: Debian's nginx builds the stream (L4) module as a dynamic module,
# shipped separately.
NGX_STREAM=/usr/lib/nginx/modules/ngx_stream_module.so
[ -f "$NGX_STREAM" ] || missing+=("$NGX_STREAM")
# bench/geodns-failover.mjs and bench/dns-qps.mjs: PowerDNS with the bind backend (LUA records
# are built in), dnsdist, dnsperf, dig.
PDNS_BIND=/usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so
[ -f "$PDNS_BIND" ] || missing+=("$PDNS_BIND")
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bench/install.sh: missing ${missing[*]}; installing from Debian" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# util-linux provides taskset (normally already present); libnginx-mod-stream
# the nginx stream module; openssl the s_time TLS handshake client and the
# benches' certificates; nghttp2-client h2load (run.mjs's HTTP/2 rows).
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends wrk nghttp2-client haproxy nginx libnginx-mod-stream openssl util-linux \
  pdns-server pdns-backend-bind dnsdist dnsperf bind9-dnsutils
# Debian's postinst may try to start the services; with no init system it just
# fails harmlessly. Make sure no stray daemon stays bound to the default ports.
for pidfile in /run/nginx.pid /run/haproxy.pid /run/pdns/pdns.pid /run/dnsdist/dnsdist.pid; do
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  fi
done
