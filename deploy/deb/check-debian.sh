#!/usr/bin/env bash
# Installs fleetban's .deb on a fresh Debian root and runs the three hardened services under
# systemd in a container with its own network namespace (docs/install.md#checked-on-fresh-debian):
#   bash deploy/deb/check-debian.sh bookworm|trixie [PACKAGE.deb]
# The root comes from debootstrap (kept in /var/tmp/fleetban-roots/<suite> and copied for each run);
# apt inside it uses this host's network, the services run with none but loopback, so nothing
# here touches this host's firewall. Needs debootstrap and systemd-container. Prints `PASS ...`
# per check and exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/deb/fresh-root.sh
suite=${1:?usage: check-debian.sh bookworm|trixie [PACKAGE.deb]}
deb=${2:-}
work=$ROOTS/$suite-check
[ -n "$deb" ] || deb=$(bash deploy/deb/build.sh "$ROOTS/deb" | tail -1)
fresh_root "$suite" "$work"
cp "$deb" "$work/root/"

# 1. the package installs on the fresh root with its dependencies, from that release's archive
in_root "$work" "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /root/$(basename "$deb") >/dev/null" || fail "apt-get install $(basename "$deb")"
pass "installed on $suite: $(in_root "$work" 'fleetban version; nats-server --version; nft --version' | tr '\n' ' ')"
mode=$(in_root "$work" 'stat -c "%U:%G %a" /etc/fleetban/fleetban.conf')
[ "$mode" = "root:fleetban 640" ] || fail "/etc/fleetban/fleetban.conf is $mode, not root:fleetban 640"
pass "/etc/fleetban/fleetban.conf: $mode (it may hold action tokens)"

# 2. boot it with loopback only
boot_root "$work" --private-network
trap 'stop_root "$work"' EXIT
trap 'exit 1' INT TERM
pass "booted $suite under systemd (container init pid $BOOTED_INIT, loopback only)"

# the units as systemd reads them
verify=$(in_ct 'systemd-analyze verify fleetban-agent.service fleetban-controller.service fleetban-nats.service 2>&1') || fail "systemd-analyze verify: $verify"
pass "systemd-analyze verify: the three units are valid${verify:+ ($verify)}"

# 3. a one-host fleet as services: enroll, then nats-server, controller and agent
in_ct 'systemctl disable --now nats-server >/dev/null 2>&1 || true; fleetban enroll "$(hostname | cut -d. -f1)" >/dev/null' || fail "fleetban enroll"
in_ct 'systemctl enable --now fleetban-nats fleetban-controller fleetban-agent 2>/dev/null'
ready=''
for _ in $(seq 1 60); do
  if in_ct 'journalctl -u fleetban-agent -o cat' | grep -q '"msg":"agent ready"'; then ready=1; break; fi
  sleep 1
done
[ -n "$ready" ] || { in_ct 'systemctl --no-pager status fleetban-nats fleetban-controller fleetban-agent; journalctl --no-pager -n 40' >&2; fail "agent ready"; }
pass "fleetban-nats, fleetban-controller, fleetban-agent active; the agent logged \"agent ready\""

# 4. who runs as what
for s in fleetban-agent fleetban-controller fleetban-nats; do
  line=$(in_ct "p=\$(systemctl show -p MainPID --value $s); echo \$(ps -o user= -p \$p) \$(grep -E '^(CapBnd|NoNewPrivs)' /proc/\$p/status | tr -s '\t\n' '  ')")
  pass "$s: $line"
done
for s in fleetban-agent fleetban-controller fleetban-nats; do in_ct "systemd-analyze security --no-pager $s | tail -1" | sed 's/^/     /'; done

# 5. a ban reaches the kernel of the container
ban_reaches_kernel 203.0.113.9
in_ct 'fleetban unban 203.0.113.9 >/dev/null' || fail "fleetban unban"

# 6. a clean stop removes the table (on_stop = flush)
in_ct 'systemctl stop fleetban-agent'
if in_ct 'nft list table inet fleetban' >/dev/null 2>&1; then in_ct 'journalctl --no-pager -u fleetban-agent -n 25 -o cat' >&2; fail "table left after stop"; fi
pass "systemctl stop fleetban-agent: table inet fleetban removed"
