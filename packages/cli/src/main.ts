#!/usr/bin/env node
// first: `fleetban regex` on a big log starts its reader thread before anything else loads
import './regex-reader-start.js';
import { FleetbanError, flushLogs } from '@fleetban/shared';
import { parseArgs, UsageError } from './args.js';

const USAGE = `fleetban: fail2ban for a fleet

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
  version                  this command line's version (also --version)
  help                     this text

  -c, --config FILE        configuration (default $FLEETBAN_CONFIG or /etc/fleetban/fleetban.conf)
  --json                   (status) print the controller's raw answer as JSON; (banned) one JSON
                           object per ban per line (JSON lines); (hosts, enroll, version) JSON
`;

async function main(argv: string[]): Promise<number> {
  const [cmd = 'help', ...rest] = argv;
  const args = parseArgs(rest);
  // Each command's module is imported only when that command runs, so `fleetban regex` (a quick,
  // interactive tool) and `help` never load the daemons' modules, and the daemons never load the
  // regex tester's.
  switch (cmd) {
    case 'up':
      return (await import('./commands/up.js')).runUp(args);
    case 'agent':
    case 'controller':
      return (await import('./commands/daemon.js')).runDaemon(cmd, args);
    case 'status':
    case 'ban':
    case 'unban':
      return (await import('./commands/admin.js')).runAdmin(cmd, args);
    case 'hosts':
      return (await import('./commands/hosts.js')).runHosts(args);
    case 'banned':
      return (await import('./commands/banned.js')).runBanned(args);
    case 'enroll':
      return (await import('./commands/enroll.js')).runEnroll(args);
    case 'regex':
      return (await import('./commands/regex.js')).runRegex(args, rest);
    case 'version':
    case '--version':
      return (await import('./commands/version.js')).runVersion(args);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${cmd}'\n\n${USAGE}`);
  }
}

/**
 * Exits once what was written to stdout and stderr is out: writes to a pipe are asynchronous, and
 * `process.exit` alone would cut a long output (`fleetban regex --json ... | wc -l`).
 */
function exitAfterOutput(code: number): void {
  void flushLogs().then(() => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (err: unknown) => {
    const msg = err instanceof FleetbanError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`fleetban: ${msg}\n`);
    exitAfterOutput(err instanceof UsageError ? 2 : 1);
  },
);
