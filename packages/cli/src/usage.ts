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
  status [JAIL | --all]    fail2ban's figures for the fleet, and its hosts
  hosts                    the fleet's members: heartbeat age, version, backend, bans enforced
                           of the fleet's active bans, drift repaired, fallback mode, local bans
  hosts --forget NAME [--force]   forget a removed host: its addresses are no longer protected
                           (admin credentials only; --force: even one heard from in the last minute)
  ban IP|CIDR... [--jail J] [--bantime D] [--force]   ban on every host (D: 10m, 1d12h, -1 = permanent;
                           --force: wider than [controller] min_prefix_v4/v6, never a protected address)
  unban IP|CIDR...         lift bans on every host
  unban --all [--jail J]   lift every active ban (of jail J) on every host (admin credentials only)
  banned [IP|CIDR]         list active bans, read from the ban list (exit 1: that target is not banned)
  get JAIL [OPTION]        a jail option as the controller holds it (maxretry, findtime, bantime, ...)
  set JAIL OPTION VALUE    change a jail threshold at once, fleet-wide, keeping the counted failures
  reload                   the controller reads its configuration file again (as SIGHUP does)
  ignore add|del|list [IP|CIDR...]   the fleet's ignore list: addresses no ban may cover
  enroll HOST [--rotate]   (controller host) give a host NATS credentials; prints its seed and config
  enroll --remove NAME     revoke a member's credentials (then: hosts --forget NAME)
  enroll --list            list the members (hosts, controller, admins)
  regex LOG|LINE FILTER|FAILREGEX [IGNOREREGEX]   test a filter like fail2ban-regex (--help)
  import-fail2ban [DIR]    fail2ban's enabled jails (default /etc/fail2ban) as a fleetban configuration
  config check [FILE]      check a configuration: every value, every enabled jail's filter (exit 1: errors)
  config show [FILE]       every key's effective value and where it came from (file:line or default)
  version                  this command line's version (also --version)
  help [COMMAND]           this text, or COMMAND's usage (also: fleetban COMMAND --help)

${CONFIG}
  --json                   (status, ban, unban, get, set, reload, ignore, hosts --forget) the controller's reply as JSON; (banned, regex) one
                           JSON object per line (JSON lines); (hosts, enroll, version) JSON
  -h, --help               (after a command) that command's usage
`;

/** `fleetban enroll`'s usage (also printed with its usage errors). */
export const ENROLL_USAGE = `usage: fleetban enroll HOST [--rotate] [--role host|admin] [--nats URL] [--package-url URL] [--json] [-c FILE]
       fleetban enroll --remove NAME [--json] [-c FILE]
       fleetban enroll --list [--json] [-c FILE]

On the controller host: gives HOST (a fleet host, or with --role admin an operator) NATS
credentials and prints its seed and [fleetban] lines, and for a host one command that, run there
as root, joins it (writes the seed and /etc/fleetban/fleetban.local, starts its agent); --rotate
gives it a new key, --remove revokes a member, --list lists them. Each change re-renders the
server's authorization and asks the local nats-server to reload. The controller still protects a
removed host's addresses until it forgets the host: --remove prints that step, fleetban hosts
--forget NAME, to run where the admin's credentials reach the controller.

  --nats URL               the NATS address the new member reaches (default: [fleetban] nats)
  --package-url URL        the join command installs fleetban's .deb from URL first when missing
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
  status: `usage: fleetban status [JAIL | --all] [--json] [-c FILE]

fail2ban-client's status, counted across the fleet: the jails and the fleet's hosts, or one jail's
failed and banned figures (its first 100 banned addresses); --all: the overview, then every
jail's.

  --json                   the controller's reply as JSON (--all: with jailStatus, one per jail)
${CONFIG}
`,
  hosts: `usage: fleetban hosts [--json] [-c FILE]
       fleetban hosts --forget NAME [--force] [--json] [-c FILE]

One row per fleet member, from the heartbeats the controller received: heartbeat age, agent
version, firewall backend, ban elements enforced / the fleet's active bans, drift repaired,
controller or fallback mode, local bans. A host's own credentials may run it.

--forget NAME: the controller forgets a host that has left the fleet (after fleetban enroll
--remove NAME): it deletes the host's record, so the host leaves this list and its addresses are
no longer protected from bans, on the controller and on every agent. Refused when NAME is not a
fleet host (exit code 1), and when its last heartbeat is younger than 60 s (or 3 heartbeat
intervals, [agent] heartbeat of the controller's configuration, if longer): a host still running
would come back with its next heartbeat. Admin credentials only.

  --force                  (--forget) forget it even though its last heartbeat is recent
  --json                   {"nowMs", "hosts": [{"host", "heartbeatAgeMs", "version", ...}]};
                           with --forget, the controller's reply (hosts: [the record forgotten])
${CONFIG}
`,
  ban: `usage: fleetban ban IP|CIDR... [--jail J] [--bantime D] [--force] [--json] [-c FILE]

Bans each target on every host. Refused, with the reason, when it would cover a fleet host, a NATS
server, the controller, an allowlist or special space; one refused does not stop the others (exit
code 1). With several targets, --json prints one reply per line.

  --jail J                 the jail it is counted in (default manual)
  --bantime D              10m, 1d12h, -1 = permanent (default the jail's bantime)
  --force                  accept a network wider than [controller] min_prefix_v4/v6
  --json                   the controller's reply as JSON
${CONFIG}
`,
  unban: `usage: fleetban unban IP|CIDR... [--json] [-c FILE]
       fleetban unban --all [--jail J] [--json] [-c FILE]

Lifts each ban on every host; with --all, every active ban (only jail J's with --jail). Admin
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
  get: `usage: fleetban get JAIL [OPTION] [--json] [-c FILE]

fail2ban-client's get: a jail option as the controller holds it now (after any fleetban set), or
every option without OPTION. Options: maxretry, findtime, bantime, maxmatches, maxretry_per_host,
min_hosts, bantime.increment, bantime.factor, bantime.multipliers, bantime.maxtime,
bantime.rndtime, bantime.formula, bantime.overalljails, ignoreip, policy. Admin credentials only.

  --json                   the controller's reply as JSON (options: [{jail, name, value}])
${CONFIG}
`,
  set: `usage: fleetban set JAIL OPTION VALUE [--json] [-c FILE]

fail2ban-client's set: changes a jail's threshold on the controller at once, without a restart;
the failures counted so far stay and count under the new value (set sshd maxretry 2: the second
failure bans). VALUE is read as the configuration file reads it (durations like 10m or 1d12h,
-1 = permanent). OPTION: maxretry, findtime, bantime, maxmatches, maxretry_per_host, min_hosts,
bantime.increment, bantime.factor, bantime.multipliers, bantime.maxtime, bantime.rndtime,
bantime.formula, bantime.overalljails. It lasts until the next reload or restart, which take the
file's value. The controller logs who changed what (old → new). Admin credentials only.

  --json                   the controller's reply as JSON (changes: [{what, from, to}])
${CONFIG}
`,
  reload: `usage: fleetban reload [--json] [-c FILE]

The controller reads its configuration file again (as on SIGHUP) and applies jail thresholds,
new and removed jails, [controller] ignoreip and the jails' ignoreip (file: lists read again).
Failures counted in kept jails stay, a removed jail's are dropped, bans stay. A file with an
error changes nothing: the error is printed and logged. Prints what changed; [controller] and
[fleetban] keys other than ignoreip apply after a restart. Admin credentials only.

  --json                   the controller's reply as JSON (changes: [{what, from, to, note}])
${CONFIG}
`,
  ignore: `usage: fleetban ignore add IP|CIDR... [--unban] [--json] [-c FILE]
       fleetban ignore del IP|CIDR... [--json] [-c FILE]
       fleetban ignore list [--json] [-c FILE]

The fleet's ignore list, kept by the controller in a KV bucket (it survives restarts, and a
change applies at once): no ban may cover an address on it, and its failures are refused, not
counted. As fail2ban's addignoreip, add lifts no ban in force: it names the bans it covers, which
run out or are lifted with fleetban unban. Admin credentials only.

  --unban                  (add) also lift the bans lying wholly inside the networks (a wider
                           ban that only overlaps them stays)
  --json                   the controller's reply as JSON (ignored: [{network, by, atMs}])
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
