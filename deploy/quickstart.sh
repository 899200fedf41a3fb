#!/usr/bin/env bash
# fleetban on this host, in one command: installs what is missing (Debian and npm packages), builds,
# installs /etc/fleetban/fleetban.conf (if absent) and the `fleetban` command, then runs
# `fleetban up` in the foreground: a local nats-server with JetStream, the controller, and an agent
# protecting sshd. Ctrl-C stops everything and removes fleetban's firewall table.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh

need_root
apt_install nats-server nftables iproute2
# sshd's failures must reach a file the agent reads: Debian 12 logs to the journal only unless
# rsyslog is installed, which writes them to /var/log/auth.log as fail2ban users know it.
if [ ! -e /var/log/auth.log ] && [ -x /usr/sbin/sshd ]; then
  apt_install rsyslog
  (command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1 && systemctl restart rsyslog) || rsyslogd 2>/dev/null || true
fi
npm_build

if [ ! -e /etc/fleetban/fleetban.conf ]; then
  mkdir -p /etc/fleetban
  host=$(hostname | cut -d. -f1 | tr -c 'A-Za-z0-9_\n-' '-')
  sed "s/^host = .*/host = ${host}/" deploy/fleetban.conf > /etc/fleetban/fleetban.conf
  echo "fleetban: wrote /etc/fleetban/fleetban.conf (host = ${host})"
fi
ln -sf "$PWD/packages/cli/dist/main.js" /usr/local/bin/fleetban
chmod +x packages/cli/dist/main.js
echo "fleetban: starting; in another terminal try 'fleetban status sshd'"
exec fleetban up -c /etc/fleetban/fleetban.conf
