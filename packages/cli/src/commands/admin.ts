import { adminRequest, type AdminRequest, loadConfig, parseDuration } from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { connectAdmin, requester } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { formatBans, formatJail, formatOverview } from '../status-format.js';

/** How long `unban --all` waits for the controller (it deletes every ban from the list). */
const UNBAN_ALL_TIMEOUT_MS = 120_000;

/**
 * The admin verbs asked of the controller: `status [jail]`, `ban <ip> [--jail J] [--bantime D]
 * [--force]`, `unban <ip>`, `unban --all [--jail J]`. `--force` lets a ban be wider than the
 * controller's minimum prefix; nothing lets it cover a fleet host, a NATS server, the controller,
 * an allowlist or special space. They ask the controller over NATS and print its answer; `--json`
 * prints the raw reply. Each request names who asks (`user@host`) for the controller's audit log.
 * (`banned` reads the ban list itself: commands/banned.ts.)
 */
export async function runAdmin(verb: 'status' | 'ban' | 'unban', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const [target = ''] = args.positional;
  const all = verb === 'unban' && args.options.has('all');
  if (all && target) throw new UsageError('usage: fleetban unban --all [--jail J] (no address with --all)');
  if ((verb === 'ban' || verb === 'unban') && !target && !all) throw new UsageError(`usage: fleetban ${verb} <ip>${verb === 'ban' ? ' [--jail J] [--bantime D] [--force]' : ''}`);
  const bantime = option(args, 'bantime');
  const req: AdminRequest = {
    verb,
    jail: verb === 'status' ? target : (option(args, 'jail', 'j') ?? ''),
    ip: verb === 'ban' || verb === 'unban' ? target : '',
    bantimeMs: bantime === undefined ? 0 : parseDuration(bantime),
    force: verb === 'ban' && args.options.has('force'),
    ...(all ? { all: true } : {}),
  };
  const nc = await connectAdmin(config);
  try {
    const reply = await adminRequest(nc, req, all ? UNBAN_ALL_TIMEOUT_MS : undefined, requester(config));
    if (args.options.has('json')) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return 0;
    }
    let out: string;
    if (verb === 'status') out = req.jail ? formatJail(reply.jails[0]!, reply) : formatOverview(reply);
    else if (verb === 'ban') out = `banned ${reply.bans[0]?.ip ?? target} on every host (${formatBans(reply.bans, reply.nowMs)})`;
    else if (all) out = `unbanned ${reply.total ?? 0} ${(reply.total ?? 0) === 1 ? 'ban' : 'bans'}${req.jail ? ` of jail ${req.jail}` : ''} on every host`;
    else out = `unbanned ${target} on every host`;
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
