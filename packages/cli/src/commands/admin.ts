import { adminRequest, type AdminRequest, connectFleet, FleetbanError, loadConfig, parseDuration, silentLogger } from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { configPath } from '../config-path.js';
import { formatBans, formatJail, formatOverview } from '../status-format.js';

/**
 * The admin verbs: `status [jail]`, `ban <ip> [--jail J] [--bantime D] [--force]`, `unban <ip>`,
 * `banned`. `--force` lets a ban be wider than the controller's minimum prefix; nothing lets it
 * cover a fleet host, a NATS server, the controller, an allowlist or special space.
 * They ask the controller over NATS and print its answer; `--json` prints the raw reply.
 */
export async function runAdmin(verb: 'status' | 'ban' | 'unban' | 'banned', args: Args): Promise<number> {
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
  const nc = await connectFleet(config.fleet, { name: `fleetban-cli-${config.fleet.host}`, role: 'admin', logger: silentLogger(), waitOnFirstConnect: false }).catch((err: unknown) => {
    // a credentials file problem says which file; a refused connection says why (the server's words)
    if (err instanceof FleetbanError && err.code !== 'NATS_FAILED') throw err;
    const why = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new FleetbanError('NATS_FAILED', `cannot reach NATS at ${config.fleet.servers.join(', ')}${why} (is fleetban running, with this host's credentials enrolled?)`, { cause: err });
  });
  try {
    const reply = await adminRequest(nc, req);
    if (args.options.has('json')) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
      return 0;
    }
    let out: string;
    if (verb === 'status') out = req.jail ? formatJail(reply.jails[0]!, reply) : formatOverview(reply);
    else if (verb === 'banned') out = formatBans(reply.bans, reply.nowMs);
    else if (verb === 'ban') out = `banned ${reply.bans[0]?.ip ?? target} on every host (${formatBans(reply.bans, reply.nowMs)})`;
    else out = `unbanned ${target} on every host`;
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
