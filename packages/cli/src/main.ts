#!/usr/bin/env node
// first: `fleetban regex` on a big log starts its reader thread before anything else loads
import './regex/reader-start.js';
import { FleetbanError, flushLogs } from '@fleetban/shared';
import { parseArgs, UsageError } from './args.js';
import { commandUsage, USAGE } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const [cmd = 'help', ...rest] = argv;
  const args = parseArgs(rest);
  // `fleetban <command> --help` (regex prints its own): before any configuration is read
  const usage = commandUsage(cmd);
  if (usage !== undefined && (args.options.has('help') || args.options.has('h'))) {
    process.stdout.write(usage);
    return 0;
  }
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
    case 'get':
    case 'set':
    case 'reload':
      return (await import('./commands/settings.js')).runSettings(cmd, args);
    case 'ignore':
      return (await import('./commands/ignore.js')).runIgnore(args);
    case 'hosts':
      return (await import('./commands/hosts.js')).runHosts(args);
    case 'banned':
      return (await import('./commands/banned.js')).runBanned(args);
    case 'enroll':
      return (await import('./commands/enroll.js')).runEnroll(args);
    case 'regex':
      return (await import('./commands/regex.js')).runRegex(args, rest);
    case 'import-fail2ban':
      return (await import('./commands/import-fail2ban.js')).runImportFail2ban(rest);
    case 'config':
      return (await import('./commands/config.js')).runConfig(args);
    case 'version':
    case '--version':
      return (await import('./commands/version.js')).runVersion(args);
    case 'help':
    case '--help':
    case '-h': {
      const [about] = args.positional;
      if (about === 'regex') return (await import('./commands/regex.js')).runRegex(parseArgs(['--help']), ['--help']);
      const text = about === undefined ? USAGE : commandUsage(about);
      if (text === undefined) throw new UsageError(`unknown command '${about}'\n\n${USAGE}`);
      process.stdout.write(text);
      return 0;
    }
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
