import { adminRequest, loadConfig } from '@fleetban/shared';
import type { Args } from '../args.js';
import { connectAdmin } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { formatHosts, hostLines } from '../hosts-format.js';

/**
 * `fleetban hosts [--json]`: one line per fleet member, from the controller's `status` overview
 * (the heartbeats it received; a host's credentials may ask it too): heartbeat age, version,
 * backend, ban elements enforced against the fleet's active bans, drift repaired, fallback mode and
 * local bans. `--json` prints `{"nowMs", "hosts": [...]}` ({@link hostLines}).
 */
export async function runHosts(args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const nc = await connectAdmin(config);
  try {
    const reply = await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
    const lines = hostLines(reply);
    const out = args.options.has('json') ? JSON.stringify({ nowMs: reply.nowMs, hosts: lines }, null, 2) : formatHosts(lines);
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    await nc.close();
  }
}
