import { adminRequest, type AdminReply, type IgnoreOp, loadConfig } from '@fleetban/shared';
import { type Args, UsageError } from '../args.js';
import { closeAdmin, connectAdmin, requester } from '../admin-connection.js';
import { configPath } from '../config-path.js';

const USAGE = 'usage: fleetban ignore add IP|CIDR... [--unban] | del IP|CIDR... | list   [--json]';
const OPS: readonly IgnoreOp[] = ['add', 'del', 'list'];
/** How long `ignore add --unban` waits for the controller (it may lift many bans). */
const UNBAN_TIMEOUT_MS = 120_000;

/**
 * `fleetban ignore add|del|list`: the fleet's ignore list, kept by the controller in a KV bucket
 * (admin credentials only). `add` makes every later ban covering the networks refused (and their
 * failures refused, not counted); like fail2ban's `addignoreip` it lifts no ban in force, but
 * names those it covers; with `--unban` it lifts the bans lying wholly inside the networks.
 * `--json` prints the controller's reply.
 */
export async function runIgnore(args: Args): Promise<number> {
  const [op = '', ...networks] = args.positional;
  if (!(OPS as readonly string[]).includes(op) || (op === 'list') !== (networks.length === 0)) throw new UsageError(USAGE);
  if (args.options.has('unban') && op !== 'add') throw new UsageError(`${USAGE}\n(--unban goes with add)`);
  const config = loadConfig(configPath(args));
  const nc = await connectAdmin(config);
  try {
    const reply = await adminRequest(
      nc,
      { verb: 'ignore', jail: '', ip: '', bantimeMs: 0, op: op as IgnoreOp, networks, unban: args.options.has('unban') },
      args.options.has('unban') ? UNBAN_TIMEOUT_MS : undefined,
      requester(config),
    );
    process.stdout.write(args.options.has('json') ? `${JSON.stringify(reply, null, 2)}\n` : formatIgnore(op as IgnoreOp, reply));
    return 0;
  } finally {
    await closeAdmin(nc);
  }
}

/** The text `ignore add|del|list` prints. */
export function formatIgnore(op: IgnoreOp, r: AdminReply): string {
  const entries = r.ignored ?? [];
  if (op === 'list') {
    if (entries.length === 0) return 'The ignore list is empty.\n';
    const w = Math.max(7, ...entries.map((e) => e.network.length));
    const rows = entries.map((e) => `${e.network.padEnd(w)}  ${new Date(e.atMs).toISOString()}  ${e.by}`);
    return `${'NETWORK'.padEnd(w)}  ${'ADDED'.padEnd(24)}  BY\n${rows.join('\n')}\n`;
  }
  const nets = entries.map((e) => e.network).join(' ');
  if (op === 'del') return `no longer ignored: ${nets}\n`;
  const lines = [`ignored on every host: ${nets} (no ban may cover it; its failures are not counted)`];
  const lifted = r.total ?? 0;
  if (lifted > 0) lines.push(`unbanned ${lifted} ${lifted === 1 ? 'ban' : 'bans'} lying inside`);
  if (r.bans.length > 0) {
    const more = r.bans.length >= 100 ? ' (first 100)' : '';
    lines.push(
      `still banned, as fail2ban's addignoreip leaves them${more}: ${r.bans.map((b) => b.ip).join(' ')}`,
      '  they run out on their own; lift them with fleetban unban IP (or add again with --unban: bans wholly inside only)',
    );
  }
  return `${lines.join('\n')}\n`;
}
