import { type AdminReply, adminRequest, type AdminRequest, FleetbanError, loadConfig, parseDuration } from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { closeAdmin, connectAdmin, requester } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { formatBans, formatJail, formatOverview } from '../status-format.js';

/** How long `unban --all` waits for the controller (it deletes every ban from the list). */
const UNBAN_ALL_TIMEOUT_MS = 120_000;

/**
 * The admin verbs asked of the controller: `status [JAIL | --all]`, `ban IP... [--jail J]
 * [--bantime D] [--force]`, `unban IP...`, `unban --all [--jail J]`. `--force` lets a ban be wider than the
 * controller's minimum prefix; nothing lets it cover a fleet host, a NATS server, the controller,
 * an allowlist or special space. They ask the controller over NATS and print its answer; `--json`
 * prints the raw reply. Each request names who asks (`user@host`) for the controller's audit log.
 * (`banned` reads the ban list itself: commands/banned.ts.)
 */
export async function runAdmin(verb: 'status' | 'ban' | 'unban', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const targets = args.positional;
  const all = args.options.has('all');
  if (all && verb === 'ban') throw new UsageError('usage: fleetban ban IP|CIDR... (no --all)');
  if (all && targets.length > 0) throw new UsageError(`usage: fleetban ${verb} --all${verb === 'unban' ? ' [--jail J]' : ''} (no ${verb === 'status' ? 'jail' : 'address'} with --all)`);
  if (verb === 'status' && targets.length > 1) throw new UsageError('usage: fleetban status [JAIL | --all]');
  if ((verb === 'ban' || verb === 'unban') && targets.length === 0 && !all) throw new UsageError(`usage: fleetban ${verb} IP|CIDR...${verb === 'ban' ? ' [--jail J] [--bantime D] [--force]' : ''}`);
  const json = args.options.has('json');
  const bantime = option(args, 'bantime');
  const request = (target: string): AdminRequest => ({
    verb,
    jail: verb === 'status' ? target : (option(args, 'jail', 'j') ?? ''),
    ip: verb === 'ban' || verb === 'unban' ? target : '',
    bantimeMs: bantime === undefined ? 0 : parseDuration(bantime),
    force: verb === 'ban' && args.options.has('force'),
    ...(all && verb === 'unban' ? { all: true } : {}),
  });
  const nc = await connectAdmin(config);
  const ask = (req: AdminRequest): Promise<AdminReply> => adminRequest(nc, req, req.all ? UNBAN_ALL_TIMEOUT_MS : undefined, requester(config));
  try {
    if (verb === 'status') {
      const overview = await ask(request(targets[0] ?? ''));
      if (!all) {
        process.stdout.write(json ? `${JSON.stringify(overview, null, 2)}\n` : `${targets[0] ? formatJail(overview.jails[0]!, overview) : formatOverview(overview)}\n`);
        return 0;
      }
      // --all: the overview, then each jail's own status, as fail2ban-client status --all
      const jails: AdminReply[] = [];
      for (const j of overview.jails) jails.push(await ask(request(j.name)));
      if (json) process.stdout.write(`${JSON.stringify({ ...overview, jailStatus: jails }, null, 2)}\n`);
      else process.stdout.write([formatOverview(overview), ...jails.map((r) => formatJail(r.jails[0]!, r))].join('\n\n') + '\n');
      return 0;
    }
    if (all) {
      const req = request('');
      const reply = await ask(req);
      const n = reply.total ?? 0;
      process.stdout.write(json ? `${JSON.stringify(reply, null, 2)}\n` : `unbanned ${n} ${n === 1 ? 'ban' : 'bans'}${req.jail ? ` of jail ${req.jail}` : ''} on every host\n`);
      return 0;
    }
    // several targets, as fail2ban-client takes them: each asked on its own; one refused does not
    // stop the others, and makes the exit code 1
    let failed = 0;
    for (const target of targets) {
      try {
        const reply = await ask(request(target));
        if (json) process.stdout.write(targets.length === 1 ? `${JSON.stringify(reply, null, 2)}\n` : `${JSON.stringify(reply)}\n`);
        else if (verb === 'ban') process.stdout.write(`banned ${reply.bans[0]?.ip ?? target} on every host (${formatBans(reply.bans, reply.nowMs)})\n`);
        else process.stdout.write(`unbanned ${target} on every host\n`);
      } catch (err) {
        if (targets.length === 1 || !(err instanceof FleetbanError)) throw err;
        failed++;
        process.stderr.write(`fleetban: ${target}: ${err.message}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await closeAdmin(nc);
  }
}
