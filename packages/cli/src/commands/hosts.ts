import { adminRequest, type AdminReply, checkToken, loadConfig } from '@fleetban/shared';
import { type Args, UsageError } from '../args.js';
import { closeAdmin, connectAdmin, requester } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { formatHosts, hostLines } from '../hosts-format.js';

const USAGE = 'usage: fleetban hosts [--json] | hosts --forget NAME [--force] [--json]';

/**
 * `fleetban hosts [--json]`: one line per fleet member, from the controller's `status` overview
 * (the heartbeats it received; a host's credentials may ask it too): heartbeat age, version,
 * backend, ban elements enforced against the fleet's active bans, drift repaired, fallback mode and
 * local bans. `--json` prints `{"nowMs", "hosts": [...]}` ({@link hostLines}).
 *
 * `fleetban hosts --forget NAME [--force]` (admin credentials only): the controller deletes the
 * host's record, so it leaves the list and its addresses are no longer protected from bans, on
 * the controller and on every agent. Refused for a host not known, and, without `--force`, for one
 * heard from recently (the controller's rule: `forgetAfterMs` in its fleet/host-registry.ts).
 */
export async function runHosts(args: Args): Promise<number> {
  const forget = args.options.has('forget');
  const [name, ...more] = args.positional;
  if (forget ? name === undefined || more.length > 0 : args.positional.length > 0) throw new UsageError(USAGE);
  if (!forget && args.options.has('force')) throw new UsageError(`${USAGE}\n(--force goes with --forget)`);
  if (name !== undefined) checkToken('host', name);
  const json = args.options.has('json');
  const config = loadConfig(configPath(args));
  const nc = await connectAdmin(config);
  try {
    if (name !== undefined) {
      const req = { verb: 'forget', jail: '', ip: '', bantimeMs: 0, host: name, force: args.options.has('force') } as const;
      const reply = await adminRequest(nc, req, undefined, requester(config));
      process.stdout.write(json ? `${JSON.stringify(reply, null, 2)}\n` : formatForgotten(reply));
      return 0;
    }
    const reply = await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
    const lines = hostLines(reply);
    const out = json ? JSON.stringify({ nowMs: reply.nowMs, hosts: lines }, null, 2) : formatHosts(lines);
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await closeAdmin(nc);
  }
}

/** What `hosts --forget` prints: the host forgotten, its last heartbeat's age, the addresses no longer protected. */
export function formatForgotten(r: AdminReply): string {
  const h = r.hosts[0];
  if (!h) return 'forgotten\n';
  const age = Math.round(Math.max(0, r.nowMs - h.lastHeartbeatMs) / 1000);
  const addresses = h.addresses.length > 0 ? h.addresses.join(' ') : '(none)';
  return `forgot ${h.host} (last heartbeat ${age}s ago); its addresses are no longer protected from bans: ${addresses}\n`;
}
