/**
 * What `fleetban help` and `fleetban <command> --help` print. `regex` keeps its own (longer)
 * usage in commands/regex.ts; every other command's is here.
 */

const CONFIG = `  -c, --config FILE        configuration (default $FLEETBAN_CONFIG or /etc/fleetban/fleetban.conf)`;

/** `fleetban help`: every command in one screen. */
export const USAGE = `fleetban: fail2ban for a fleet

usage: fleetban <command> [-c FILE] [options]

  up                       nats-server + controller + agent on this host, in the foreground
  agent                    run this host's agent (tail, filter, report; enforce the ban list)
  controller               run the fleet's controller (count, decide, publish, expire)
  status [JAIL]            fail2ban's figures for the fleet, and its hosts
  hosts                    the fleet's members: heartbeat age, version, backend, bans enforced
                           of the fleet's active bans, drift repaired, fallback mode, local bans
  ban IP|CIDR [--jail J] [--bantime D] [--force]   ban on every host (D: 10m, 1d12h, -1 = permanent;
                           --force: wider than [controller] min_prefix_v4/v6, never a protected address)
  unban IP|CIDR            lift a ban on every host
  unban --all [--jail J]   lift every active ban (of jail J) on every host (admin credentials only)
  banned [IP|CIDR]         list active bans, read from the ban list (exit 1: that target is not banned)
  enroll HOST [--rotate]   (controller host) give a host NATS credentials; prints its seed and config
  enroll --remove NAME     revoke a member's credentials
  enroll --list            list the members (hosts, controller, admins)
  regex LOG|LINE FILTER|FAILREGEX [IGNOREREGEX]   test a filter like fail2ban-regex (--help)
  import-fail2ban [DIR]    fail2ban's enabled jails (default /etc/fail2ban) as a fleetban configuration
  config check [FILE]      check a configuration: every value, every enabled jail's filter (exit 1: errors)
  config show [FILE]       every key's effective value and where it came from (file:line or default)
  version                  this command line's version (also --version)
  help [COMMAND]           this text, or COMMAND's usage (also: fleetban COMMAND --help)

${CONFIG}
  --json                   (status, ban, unban) the controller's reply as JSON; (banned, regex) one
                           JSON object per line (JSON lines); (hosts, enroll, version) JSON
  -h, --help               (after a command) that command's usage
`;

/** `fleetban enroll`'s usage (also printed with its usage errors). */
export const ENROLL_USAGE = `usage: fleetban enroll HOST [--rotate] [--role host|admin] [--nats URL] [--json] [-c FILE]
       fleetban enroll --remove NAME [--json] [-c FILE]
       fleetban enroll --list [--json] [-c FILE]

On the controller host: gives HOST (a fleet host, or with --role admin an operator) NATS
credentials and prints its seed and [fleetban] lines; --rotate gives it a new key, --remove
revokes a member, --list lists them. Each change re-renders the server's authorization and asks
the local nats-server to reload.

  --json                   the result as one JSON object
${CONFIG}
`;

/** Each command's usage, by name (`regex` excepted). */
const COMMANDS: Readonly<Record<string, string>> = {
  up: `usage: fleetban up [-c FILE]

nats-server + controller + agent on this host, in the foreground (Ctrl-C stops them). Logs JSON
lines on stdout.

${CONFIG}
`,
  agent: `usage: fleetban agent [-c FILE]

Runs this host's agent in the foreground: tail the jails' logs, filter, report failures to the
fleet, enforce the ban list. Logs JSON lines on stdout; SIGTERM stops it cleanly.

${CONFIG}
`,
  controller: `usage: fleetban controller [-c FILE]

Runs the fleet's controller in the foreground: count failures, decide bans, publish them, expire
them, answer the admin verbs. Logs JSON lines on stdout; SIGTERM stops it cleanly.

${CONFIG}
`,
  status: `usage: fleetban status [JAIL] [--json] [-c FILE]

fail2ban-client's status, counted across the fleet: the jails and the fleet's hosts, or one jail's
failed and banned figures (its first 100 banned addresses).

  --json                   the controller's reply as JSON
${CONFIG}
`,
  hosts: `usage: fleetban hosts [--json] [-c FILE]

One row per fleet member, from the heartbeats the controller received: heartbeat age, agent
version, firewall backend, ban elements enforced / the fleet's active bans, drift repaired,
controller or fallback mode, local bans. A host's own credentials may run it.

  --json                   {"nowMs", "hosts": [{"host", "heartbeatAgeMs", "version", ...}]}
${CONFIG}
`,
  ban: `usage: fleetban ban IP|CIDR [--jail J] [--bantime D] [--force] [--json] [-c FILE]

Bans a target on every host. Refused, with the reason, when it would cover a fleet host, a NATS
server, the controller, an allowlist or special space.

  --jail J                 the jail it is counted in (default manual)
  --bantime D              10m, 1d12h, -1 = permanent (default the jail's bantime)
  --force                  accept a network wider than [controller] min_prefix_v4/v6
  --json                   the controller's reply as JSON
${CONFIG}
`,
  unban: `usage: fleetban unban IP|CIDR [--json] [-c FILE]
       fleetban unban --all [--jail J] [--json] [-c FILE]

Lifts a ban on every host; with --all, every active ban (only jail J's with --jail). Admin
credentials only: a host's are refused. The controller logs who asked.

  --json                   the controller's reply as JSON (with --all, total = bans lifted)
${CONFIG}
`,
  banned: `usage: fleetban banned [IP|CIDR] [--json] [-c FILE]

The active bans, read straight from the ban list's KV bucket; with a target, only its ban (exit
code 1 when it is not banned).

  --json                   one JSON object per ban per line (JSON lines)
${CONFIG}
`,
  enroll: ENROLL_USAGE,
  version: `usage: fleetban version [--json]
       fleetban --version

Prints this command line's version.

  --json                   {"version": "..."}
`,
  'import-fail2ban': `usage: fleetban import-fail2ban [DIR] [--output FILE] [--force] [--json]

Reads fail2ban's configuration in DIR (default /etc/fail2ban) as fail2ban does (jail.conf,
jail.d/*.conf, jail.local, jail.d/*.local, paths-*.conf, [DEFAULT], %(name)s) and writes its
enabled jails as a fleetban configuration. Each value that cannot be carried is printed on
stderr, one line each, with its jail, key and why. The result is loaded with fleetban's own
loader before it is written. See docs/migrate-from-fail2ban.md.

  -o, --output FILE        write the configuration to FILE (default: stdout)
  --force                  replace FILE if it exists
  --json                   the report as JSON on stdout (with the configuration when no --output)
`,
  config: `usage: fleetban config check [FILE] [--json]
       fleetban config show [FILE] [--json]

check: loads the configuration (every value checked; every bad value reported) and builds each
enabled jail's filter as the agent does; each problem names the file, the key and what was expected. Exit 0 when fine, 1 on
an error. show: the effective value of every key of every section and jail, and where it came
from (file:line, or default); nats_password and nats_token are masked. FILE defaults to -c FILE, $FLEETBAN_CONFIG, /etc/fleetban/fleetban.conf.

  --json                   check: {"file", "ok", "jails", "enabled", "problems": [{"file", "key", "expected", "message"}]};
                           show: {"file", "sections": [{"section", "values": [{"key", "value", "origin"}]}]}
${CONFIG}
`,
  help: `usage: fleetban help [COMMAND]

Prints every command, or COMMAND's usage (as fleetban COMMAND --help does).
`,
};

/** The usage of `command`, or undefined for a command that has none here. */
export function commandUsage(command: string): string | undefined {
  return Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
}
