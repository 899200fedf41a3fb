#!/usr/bin/env bash
# The README's quick start on a fresh Debian root, as a newcomer runs it (docs/install.md):
#   bash deploy/deb/check-quickstart.sh bookworm|trixie [--tests]
# A clean clone of this checkout's HEAD goes into a fresh debootstrap root, booted under systemd in
# a container whose network namespace reaches nothing but this host's egress proxy
# (deploy/deb/egress-proxy.mjs: apt and npm only). There, as root: `bash deploy/quickstart.sh`,
# then `fleetban status`, a ban found in the container's nft table, Ctrl-C (SIGINT) and nothing
# left behind; with --tests also `bash deploy/test.sh` and its last line. Nothing touches this
# host's firewall. Prints `PASS ...` per step; exits non-zero at the first failure. This host's
# own CA certificates (/usr/local/share/ca-certificates, e.g. for a TLS-inspecting egress) are
# handed to Node.js in the container with NODE_EXTRA_CA_CERTS; with direct access none are needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/deb/fresh-root.sh
suite=${1:?usage: check-quickstart.sh bookworm|trixie [--tests]}
tests=${2:-}
work=$ROOTS/$suite-quickstart
ns=fbqs$$
host_if=fbqs$$h
proxy=10.213.$(( $$ % 250 )).1
client=${proxy%.1}.2
proxy_pid=''

cleanup() {
  stop_root "$work"
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fresh_root "$suite" "$work"
git clone -q "$PWD" "$work/root/fleetban"
extra_ca=''
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cat /usr/local/share/ca-certificates/*.crt > "$work/root/extra-ca.pem"
  extra_ca='--setenv=NODE_EXTRA_CA_CERTS=/root/extra-ca.pem'
fi
pass "fresh $suite root with a clean clone of $(git rev-parse --short HEAD) in /root/fleetban"

# the container's only way out: a veth to this host, where the proxy listens (no route beyond)
ip netns add "$ns"
ip link add "$host_if" type veth peer name eth0 netns "$ns"
ip addr add "$proxy/30" dev "$host_if"
ip link set "$host_if" up
ip -n "$ns" addr add "$client/30" dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up
node deploy/deb/egress-proxy.mjs "$proxy" 8888 2>"$work.proxy.log" &
proxy_pid=$!
# /proc/sys/net writable: the tests enable forwarding inside the namespaces they create
SYSTEMD_NSPAWN_API_VFS_WRITABLE=network boot_root "$work" "--network-namespace-path=/run/netns/$ns"
pass "booted under systemd (init pid $BOOTED_INIT), network: loopback and the egress proxy only"

# 1. the first README command, left running as a transient unit (its output in the journal)
env_proxy="--setenv=http_proxy=http://$proxy:8888 --setenv=https_proxy=http://$proxy:8888 --setenv=no_proxy=127.0.0.1,localhost,::1 $extra_ca"
in_ct "systemd-run --quiet --unit=fb-quickstart $env_proxy --working-directory=/root/fleetban /bin/bash deploy/quickstart.sh"
ready=''
for _ in $(seq 1 900); do
  if in_ct 'journalctl -u fb-quickstart -o cat' | grep -q '"msg":"agent ready"'; then ready=1; break; fi
  in_ct 'systemctl is-active -q fb-quickstart' || break
  sleep 1
done
[ -n "$ready" ] || { in_ct 'journalctl -u fb-quickstart -o cat | tail -40' >&2; fail "quickstart: agent ready"; }
pass "bash deploy/quickstart.sh: nats-server, controller and agent up; $(in_ct 'fleetban version') on Node.js $(in_ct 'p=$(grep -o "[^\"]*/node" /usr/local/bin/fleetban | head -1); "$p" --version') (the system's: $(in_ct 'node --version 2>/dev/null || echo none'))"
in_ct 'fleetban status sshd' | sed 's/^/     /'
ban_reaches_kernel 203.0.113.9

# 2. Ctrl-C stops everything and leaves nothing behind
in_ct 'systemctl kill -s INT fb-quickstart'
for _ in $(seq 1 30); do in_ct 'systemctl is-active -q fb-quickstart' || break; sleep 1; done
in_ct 'systemctl is-active -q fb-quickstart' && fail "quickstart still running 30 s after SIGINT"
left=$(in_ct 'pgrep -af "[n]ats-server|[r]syslogd|[d]ist/main.js"' || true)
[ -z "$left" ] || fail "left running after Ctrl-C: $left"
in_ct 'nft list table inet fleetban' >/dev/null 2>&1 && fail "table inet fleetban left after Ctrl-C"
pass "SIGINT: quickstart ended, no nats-server or fleetban process left, table removed"

# 3. the second README command
if [ "$tests" = --tests ]; then
  in_ct "systemd-run --quiet --wait --pipe --unit=fb-tests $env_proxy --working-directory=/root/fleetban /bin/bash deploy/test.sh" >"$work.tests.log" 2>&1 || true
  cp "$work.tests.log" "$ROOTS/$suite-tests.log"
  last=$(tail -1 "$work.tests.log")
  case "$last" in *" passed, 0 failed"*) pass "bash deploy/test.sh: $last" ;; *) fail "bash deploy/test.sh: $last (log: $ROOTS/$suite-tests.log)" ;; esac
  compat=$(grep -o 'every failregex: [0-9]* / [0-9]* checked lines agree ([0-9]* filters' "$work.tests.log" | head -1)
  pass "the compatibility test against this release's fail2ban $(in_ct "dpkg-query -W -f '\${Version}' fail2ban 2>/dev/null || apt-cache policy fail2ban | sed -n 's/ *Candidate: //p'"): $compat)"
  # the host's git on the container's files (a fresh root has no git)
  changed=$(git -C "$work/root/fleetban" status --porcelain)
  [ -z "$changed" ] || fail "the test command left the checkout modified: $changed"
  pass "the checkout is unmodified (git status --porcelain is empty)"
fi
