#!/usr/bin/env bash
# fleetban on this host, in one command: installs what is missing (Debian and npm packages), builds,
# installs /etc/fleetban/fleetban.conf (if absent) and the `fleetban` command, then runs
# `fleetban up` in the foreground: a local nats-server with JetStream, the controller, and an agent
# protecting sshd. Ctrl-C stops everything and removes fleetban's firewall table.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

need_root
had_nats=$(dpkg-query -W -f='${Status}' nats-server 2>/dev/null | grep -c 'install ok installed' || true)
apt_install nats-server nftables iproute2
# Debian's nats-server package starts a service of its own on 127.0.0.1:4222, the port of the
# server `fleetban up` runs; one installed just now for fleetban is stopped and disabled
if [ "$had_nats" = 0 ] && [ -d /run/systemd/system ] && systemctl is-active -q nats-server 2>/dev/null; then
  systemctl disable --now nats-server >/dev/null 2>&1
  echo "fleetban: stopped and disabled Debian's nats-server.service (installed just now): fleetban up runs its own"
fi
# No rsyslog needed: on Debian 12 sshd logs to the journal only, and the sshd jail (backend = auto,
# logpath = /var/log/auth.log) reads the journal when that file does not exist (docs/log-sources.md).
npm_build

if [ ! -e /etc/fleetban/fleetban.conf ]; then
  # mode 600: it may come to hold action tokens; `fleetban up` runs as root
  install -D -m 600 deploy/fleetban.conf /etc/fleetban/fleetban.conf
  echo "fleetban: wrote /etc/fleetban/fleetban.conf"
fi
install_command
echo "fleetban: starting; in another terminal try 'fleetban status sshd'"
exec fleetban up -c /etc/fleetban/fleetban.conf
