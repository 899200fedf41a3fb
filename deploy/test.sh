#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (Debian packages, npm packages),
# builds, runs every test and ends with the line `N passed, N failed`. Run as root (tests create
# network namespaces and nftables tables inside them; the host's own firewall is never touched).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

need_root
apt_install nats-server nftables iptables ipset iproute2 openssh-server openssh-client sshpass procps systemd-journal-remote openssl prometheus curl jq chromium
npm_build

set +e
npx tap -R tap "$@" 2>&1 | node deploy/tap-totals.mjs
status=${PIPESTATUS[1]}
exit "$status"
