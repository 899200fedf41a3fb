import { adminRequest, type AdminRequest, loadConfig, parseDuration } from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { connectAdmin } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { formatBans, formatJail, formatOverview } from '../status-format.js';

/**
 * The admin verbs asked of the controller: `status [jail]`, `ban <ip> [--jail J] [--bantime D]
 * [--force]`, `unban <ip>`. `--force` lets a ban be wider than the controller's minimum prefix;
 * nothing lets it cover a fleet host, a NATS server, the controller, an allowlist or special space.
 * They ask the controller over NATS and print its answer; `--json` prints the raw reply. (`banned`
 * reads the ban list itself: commands/banned.ts.)
 */
export async function runAdmin(verb: 'status' | 'ban' | 'unban', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const [target = ''] = args.positional;
  if ((verb === 'ban' || verb === 'unban') && !target) throw new UsageError(`usage: fleetban ${verb} <ip>${verb === 'ban' ? ' [--jail J] [--bantime D] [--force]' : ''}`);
  const bantime = option(args, 'bantime');
  const req: AdminRequest = {
    verb,
    jail: verb === 'status' ? target : (option(args, 'jail', 'j') ?? ''),
    ip: verb === 'ban' || verb === 'unban' ? target : '',
    bantimeMs: bantime === undefined ? 0 : parseDuration(bantime),
    force: verb === 'ban' && args.options.has('force'),
  };
  const nc = await connectAdmin(config);
  try {
    const reply = await adminRequest(nc, req);
    if (args.options.has('json')) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return 0;
    }
    let out: string;
    if (verb === 'status') out = req.jail ? formatJail(reply.jails[0]!, reply) : formatOverview(reply);
    else if (verb === 'ban') out = `banned ${reply.bans[0]?.ip ?? target} on every host (${formatBans(reply.bans, reply.nowMs)})`;
    else out = `unbanned ${target} on every host`;
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
