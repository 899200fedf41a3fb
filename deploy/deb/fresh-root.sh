# Fresh Debian roots booted under systemd in a container, for the checks in deploy/deb/ (sourced).
# A root comes from debootstrap once (kept in /var/tmp/fleetban-roots/<suite>) and is copied for
# each run; the container gets the network namespace the caller names, never this host's.

ROOTS=/var/tmp/fleetban-roots

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*" >&2; exit 1; }

# fresh_root SUITE WORK: a copy of a fresh SUITE root at WORK.
fresh_root() {
  local suite=$1 work=$2 base=$ROOTS/$1
  if [ ! -x "$base/usr/bin/apt-get" ]; then
    mkdir -p "$ROOTS"
    debootstrap --include=systemd,systemd-sysv,dbus "$suite" "$base" >"$ROOTS/$suite.debootstrap.log" 2>&1 ||
      fail "debootstrap $suite (see $ROOTS/$suite.debootstrap.log)"
  fi
  rm -rf "$work"
  cp -a "$base" "$work"
}

# in_root WORK CMD: runs CMD in WORK with this host's network (apt downloads only), not booted.
in_root() { systemd-nspawn -q --register=no --keep-unit -D "$1" --pipe /bin/sh -c "$2" 2> >(grep -v 'nspawn/propagate' >&2); }

# boot_root WORK NSPAWN-NETWORK-OPTION: boots WORK under systemd in the background and sets
# BOOTED_INIT to the container's init pid (in_ct runs commands there).
boot_root() {
  local work=$1 net=$2 nspawn='' log=$1.boot.log
  BOOTED_INIT=''
  # CAP_NET_ADMIN in its own network namespace (nspawn keeps it for --private-network only)
  timeout 3600 systemd-nspawn -q --register=no --keep-unit "$net" --capability=CAP_NET_ADMIN -D "$work" --boot >"$log" 2>&1 &
  for _ in $(seq 1 90); do
    nspawn=$(pgrep -f "^systemd-nspawn -q --register=no --keep-unit $net --capability=CAP_NET_ADMIN -D $work --boot" | head -1 || true)
    [ -n "$nspawn" ] && BOOTED_INIT=$(pgrep -P "$nspawn" | head -1 || true)
    if [ -n "$BOOTED_INIT" ] && nsenter -t "$BOOTED_INIT" -a systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; then return 0; fi
    BOOTED_INIT=''
    sleep 1
  done
  fail "boot $work (see $log)"
}

# in_ct CMD: runs CMD in the booted container, with a clean environment.
in_ct() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root nsenter -t "$BOOTED_INIT" -a /bin/sh -c "$1"; }

# ban_reaches_kernel IP: `fleetban ban IP` in the container, then IP in its table inet fleetban
# within 10 s.
ban_reaches_kernel() {
  in_ct "fleetban ban $1 >/dev/null" || fail "fleetban ban $1"
  for _ in $(seq 1 20); do
    if in_ct 'nft list table inet fleetban' 2>/dev/null | grep -qF "$1"; then
      pass "fleetban ban $1: in the container's table inet fleetban"
      return 0
    fi
    sleep 0.5
  done
  fail "$1 in the container's table inet fleetban"
}

# stop_root WORK: powers the container off and deletes WORK.
stop_root() {
  if [ -n "${BOOTED_INIT:-}" ]; then
    nsenter -t "$BOOTED_INIT" -a systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do kill -0 "$BOOTED_INIT" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$1"
}
