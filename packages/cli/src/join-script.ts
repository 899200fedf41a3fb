import { gzipSync } from 'node:zlib';

/** What the new host's one command needs to know. */
export interface JoinSpec {
  /** The host's name in the fleet. */
  readonly host: string;
  /** NATS server URLs the host reaches, space separated. */
  readonly nats: string;
  /** The host's nkey seed (its only secret). */
  readonly seed: string;
  /** Where its configuration lives (`/etc/fleetban`). */
  readonly etc: string;
  /** A URL of fleetban's .deb to install when the host has no `fleetban` yet; '' for none. */
  readonly packageUrl: string;
}

/** Single-quotes `s` for sh. */
function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The shell script that joins a host to the fleet: installs fleetban when it is missing and a
 * package URL was given, writes the host's seed (mode 0600) and `<etc>/fleetban.local` with its
 * `[fleetban]` keys (the administrator's `fleetban.conf` stays as it is; fleetban reads the
 * `.local` after it), a minimal `fleetban.conf` when there is none, then starts (or restarts)
 * the agent's unit under systemd, or says how to start it where there is no such unit.
 */
export function joinScript(j: JoinSpec): string {
  const seedPath = `${j.etc}/${j.host}.nk`;
  const install = j.packageUrl
    ? [
        'if ! command -v fleetban >/dev/null; then',
        '  tmp=$(mktemp -d)',
        `  url=${shq(j.packageUrl)}`,
        '  if command -v curl >/dev/null; then curl -fsSL "$url" -o "$tmp/fleetban.deb"; else wget -qO "$tmp/fleetban.deb" "$url"; fi',
        '  apt-get install -y "$tmp/fleetban.deb"',
        '  rm -rf "$tmp"',
        'fi',
      ]
    : [];
  return [
    '#!/bin/sh',
    `# fleetban: joins this host to the fleet as ${j.host} (written by fleetban enroll)`,
    'set -eu',
    ...install,
    'if ! command -v fleetban >/dev/null; then',
    "  echo 'fleetban join: install fleetban first (apt-get install ./fleetban_*.deb), then run this again' >&2",
    '  exit 1',
    'fi',
    'umask 077',
    `mkdir -p ${shq(j.etc)}`,
    `printf '%s\\n' ${shq(j.seed)} > ${shq(seedPath)}`,
    `chmod 600 ${shq(seedPath)}`,
    'umask 022',
    `cat > ${shq(`${j.etc}/fleetban.local`)} <<'FLEETBAN'`,
    `# written by fleetban enroll: this host's place in the fleet (read after fleetban.conf)`,
    '[fleetban]',
    `host = ${j.host}`,
    `nats = ${j.nats}`,
    `nats_nkey = ${seedPath}`,
    'FLEETBAN',
    `if [ ! -e ${shq(`${j.etc}/fleetban.conf`)} ]; then`,
    `  cat > ${shq(`${j.etc}/fleetban.conf`)} <<'FLEETBAN'`,
    '# fleetban configuration (fail2ban jail.local format); every key: fleetban config show',
    '[sshd]',
    'enabled = true',
    'FLEETBAN',
    'fi',
    // the .deb's unit when systemd runs and has it; otherwise (a checkout, a container) say how
    'if [ -d /run/systemd/system ] && systemctl cat fleetban-agent.service >/dev/null 2>&1; then',
    '  systemctl enable fleetban-agent >/dev/null 2>&1 || true',
    '  systemctl restart fleetban-agent',
    `  echo 'fleetban: ${j.host} joined; its agent runs (systemctl status fleetban-agent)'`,
    'else',
    `  echo 'fleetban: ${j.host} configured; start its agent with: fleetban agent -c ${j.etc}/fleetban.conf'`,
    'fi',
    '',
  ].join('\n');
}

/** One line to paste on the new host, as root: the script, gzipped and base64-encoded. */
export function joinCommand(j: JoinSpec): string {
  const payload = gzipSync(joinScript(j)).toString('base64');
  return `echo ${payload} | base64 -d | gunzip | sh`;
}
