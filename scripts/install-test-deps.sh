#!/usr/bin/env bash
# Installs the real programs the test suite starts (Redis for the shared TLS session cache, etcd
# for the fleet config store, Chromium for the dashboard test, BIRD 2 and nftables for the anycast
# lab in network namespaces, dig for the DNS responder, promtool for the metrics and alert rules,
# systemd-analyze to verify the shipped unit) from
# Debian, only when missing. Nothing is started here: each test
# starts its own daemon on a loopback port and stops it by PID. Run by `npm test` (pretest).
set -euo pipefail

want=()
command -v redis-server >/dev/null 2>&1 || want+=(redis-server)
command -v etcd >/dev/null 2>&1 || want+=(etcd-server etcd-client)
[ -x /usr/bin/chromium ] || want+=(chromium)
command -v bird >/dev/null 2>&1 || want+=(bird2)
command -v nft >/dev/null 2>&1 || want+=(nftables)
command -v ss >/dev/null 2>&1 || want+=(iproute2)
command -v dig >/dev/null 2>&1 || want+=(bind9-dnsutils)
command -v promtool >/dev/null 2>&1 || want+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || want+=(systemd)
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi

echo "install-test-deps: installing ${want[*]} from Debian" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${want[@]}"
