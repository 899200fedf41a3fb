#!/usr/bin/env bash
# Builds fleetban's image and runs deploy/compose's two compose files with podman, in a network
# namespace this script creates, so that nothing touches this host's firewall
# (deploy/compose/README.md#what-was-checked-and-how):
#   bash deploy/compose/check.sh [PACKAGE.deb]
# Needs root, podman, podman-compose and runc (Debian 12: apt-get install podman podman-compose
# runc), debootstrap when /var/tmp/fleetban-roots/bookworm does not exist yet. No registry is
# used: the base image is a debootstrap root imported into podman as localhost/debian:bookworm.
# The agent's "host" network is that namespace: podman, run inside it, gives `--network host`
# containers the namespace it runs in. Prints `PASS ...` per check and exits non-zero at the
# first failure; removes its containers, volumes, networks and the namespace on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/deb/fresh-root.sh
repo=$PWD
deb=${1:-}
work=$(mktemp -d /var/tmp/fleetban-compose-check.XXXXXX)
ns=fbcompose-$$
image=localhost/fleetban:check
# where the agent's "host" (the namespace) reaches the nats service's published port
lan=192.0.2.10

# podman's defaults this kind of host may refuse: crun wants a pure cgroup v2 (runc takes the
# hybrid layout too), and rlimits above this shell's own cannot be set without CAP_SYS_RESOURCE
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "${FLEETBAN_OCI_RUNTIME:-runc}"
EOF
export CONTAINERS_CONF=$work/containers.conf FLEETBAN_IMAGE=$image
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
# one compose project's commands, run in the namespace from its copy in $work
compose() { local dir=$1; shift; (cd "$work/$dir" && in_ns podman-compose "$@"); }
ctr() { podman ps -q --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2"; }

vols_before=$(podman volume ls -q)
cleanup() {
  set +e
  podman rm -f -t 20 fleetban-check-agent >/dev/null 2>&1
  podman volume rm -f agent_state >/dev/null 2>&1
  [ -d "$work/controller" ] && compose controller down -v >/dev/null 2>&1
  podman volume rm -f controller_state >/dev/null 2>&1
  podman network rm -f controller_default >/dev/null 2>&1
  # anonymous volumes (the image's VOLUME) made meanwhile
  for v in $(podman volume ls -q --filter dangling=true); do grep -qxF "$v" <<<"$vols_before" || podman volume rm -f "$v" >/dev/null 2>&1; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# this host's whole firewall, without counters: nftables (iptables-nft included) and iptables-legacy
root_firewall() { { nft -s list ruleset; iptables-legacy-save 2>/dev/null | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//'; } | md5sum; }
before=$(root_firewall)

# 1. the image: the .deb, on a Debian 12 root imported as the base
[ -n "$deb" ] || deb=$(bash deploy/deb/build.sh "$work/deb" | tail -1)
if ! podman image exists localhost/debian:bookworm; then
  fresh_root bookworm "$work/base"
  tar -C "$work/base" -c . | podman import -q - localhost/debian:bookworm >/dev/null
  rm -rf "$work/base"
fi
mkdir "$work/ctx"
cp deploy/compose/Dockerfile deploy/compose/.dockerignore "$deb" "$work/ctx/"
podman build -q --network host --build-arg BASE=localhost/debian:bookworm -t "$image" "$work/ctx" >"$work/build.log" 2>&1 ||
  { tail -20 "$work/build.log" >&2; fail "podman build"; }
pass "podman build: $(podman run --rm --network none "$image" sh -c 'fleetban version; nats-server --version; nft --version' | tr '\n' ' ')"

# 2. the namespace standing for the Docker host: loopback and a LAN address
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$lan/32" dev lo
cp -a deploy/compose/controller deploy/compose/agent "$work/"
rm -f "$work"/agent/etc/*.nk
rm -rf "$work/controller/secrets"

# 3. controller host: enroll (the fleet's keys), the controller's seed into ./secrets, up
compose controller run --rm --no-deps -T -u 0 nats fleetban enroll ctl >"$work/enroll.log" 2>&1 || { cat "$work/enroll.log" >&2; fail "fleetban enroll ctl"; }
install -d -m 0700 "$work/controller/secrets"
compose controller run --rm --no-deps -T -u 0 nats cat /var/lib/fleetban/credentials/controller.nk 2>/dev/null |
  grep -x 'SU[A-Z0-9]*' >"$work/controller/secrets/controller.nk" || fail "the controller's seed out of the state volume"
chown -R 970:970 "$work/controller/secrets"
chmod 0400 "$work/controller/secrets/controller.nk"
compose controller up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "podman-compose up (controller)"; }
for _ in $(seq 1 60); do podman logs "$(ctr controller controller)" 2>&1 | grep -q '"msg":"controller ready"' && break; sleep 1; done
podman logs "$(ctr controller controller)" 2>&1 | grep -q '"msg":"controller ready"' || { podman logs "$(ctr controller controller)" >&2; fail "controller ready"; }
pass "podman-compose up: nats-server (JetStream on the state volume) and the controller; the controller logged \"controller ready\""
for s in nats controller; do
  pid=$(podman inspect -f '{{.State.Pid}}' "$(ctr controller "$s")")
  child=$(pgrep -P "$pid" | head -1 || true)
  p=${child:-$pid}
  pass "$s: $(ps -o user=,comm= -p "$p") $(grep -E '^(CapEff|CapBnd|NoNewPrivs)' "/proc/$p/status" | tr -s '\t\n' '  ')"
done
reload=$(podman exec -u 0 "$(ctr controller nats)" fleetban enroll web-1 | grep 'nats-server')
case "$reload" in *'nats-server reloaded'*) pass "fleetban enroll web-1 in the nats container: $reload" ;; *) fail "enroll reload: $reload" ;; esac

# 4. the agent, with the host's (here: the namespace's) network. podman-compose 1.0.3 adds its
# project network to a network_mode: host service, which podman refuses; the options below are
# agent/compose.yaml's, one for one.
sed -i "s/^host = .*/host = ctl/; s#^nats = .*#nats = nats://$lan:4222#; s#^nats_nkey = .*#nats_nkey = /etc/fleetban/ctl.nk#" "$work/agent/etc/fleetban.conf"
(umask 077; podman exec -u 0 "$(ctr controller nats)" cat /var/lib/fleetban/credentials/ctl.nk >"$work/agent/etc/ctl.nk")
in_ns podman run -d --name fleetban-check-agent --network host \
  --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW --cap-add DAC_READ_SEARCH \
  --security-opt no-new-privileges:true --read-only --tmpfs /tmp --tmpfs /run --init \
  --stop-signal SIGTERM --stop-timeout 20 \
  -v "$work/agent/etc:/etc/fleetban:ro" -v agent_state:/var/lib/fleetban \
  -v /var/log:/var/log:ro -v /etc/machine-id:/etc/machine-id:ro \
  "$image" fleetban agent -c /etc/fleetban/fleetban.conf >/dev/null
for _ in $(seq 1 60); do podman logs fleetban-check-agent 2>&1 | grep -q '"msg":"agent ready"' && break; sleep 1; done
podman logs fleetban-check-agent 2>&1 | grep -q '"msg":"agent ready"' || { podman logs fleetban-check-agent >&2; fail "agent ready"; }
ip netns exec "$ns" nft list table inet fleetban >/dev/null || fail "table inet fleetban in the namespace"
pid=$(pgrep -P "$(podman inspect -f '{{.State.Pid}}' fleetban-check-agent)" | head -1)
pass "agent (host network = the namespace): \"agent ready\", table inet fleetban created; $(ps -o user=,comm= -p "$pid") $(grep -E '^(CapEff|CapBnd|NoNewPrivs)' "/proc/$pid/status" | tr -s '\t\n' '  ')"

# 5. a ban from the controller host reaches the agent's set
podman exec -u 0 "$(ctr controller nats)" fleetban ban 203.0.113.9 >/dev/null || fail "fleetban ban 203.0.113.9"
found=''
for _ in $(seq 1 20); do
  if ip netns exec "$ns" nft list set inet fleetban ban4 | grep -qF 203.0.113.9; then found=1; break; fi
  sleep 0.5
done
[ -n "$found" ] || fail "203.0.113.9 in the agent's set ban4"
pass "fleetban ban 203.0.113.9 (in the nats container): $(ip netns exec "$ns" nft list set inet fleetban ban4 | grep -o 'elements = {[^}]*}')"
podman exec -u 0 "$(ctr controller nats)" fleetban unban 203.0.113.9 >/dev/null || fail "fleetban unban"

# 6. stopping the agent's container removes its table (on_stop = flush)
podman stop -t 20 fleetban-check-agent >/dev/null
if ip netns exec "$ns" nft list table inet fleetban >/dev/null 2>&1; then fail "table left after podman stop"; fi
pass "podman stop: the agent removed its table inet fleetban"

# 7. this host's own firewall was never touched
[ "$(root_firewall)" = "$before" ] || fail "this host's nft tables or iptables rules changed"
pass "this host's nft tables and iptables rules unchanged"
