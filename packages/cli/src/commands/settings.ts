import { adminRequest, type AdminReply, type AdminRequest, type ConfigChange, loadConfig } from '@fleetban/shared';
import { type Args, UsageError } from '../args.js';
import { closeAdmin, connectAdmin, requester } from '../admin-connection.js';
import { configPath } from '../config-path.js';

/** The verbs of this module. */
export type SettingsVerb = 'get' | 'set' | 'reload';

const USAGES: Record<SettingsVerb, string> = {
  get: 'usage: fleetban get JAIL [OPTION] [--json]',
  set: 'usage: fleetban set JAIL OPTION VALUE [--json]',
  reload: 'usage: fleetban reload [--json]',
};

/**
 * fail2ban-client's `get JAIL OPTION`, `set JAIL OPTION VALUE` and `reload`, asked of the
 * controller (admin credentials only): `get` prints the value as the controller holds it (every
 * option without OPTION), `set` changes a threshold at once and prints old → new, `reload` makes
 * the controller read its configuration file again and prints what changed. `--json` prints the
 * controller's reply.
 */
export async function runSettings(verb: SettingsVerb, args: Args): Promise<number> {
  const [jail = '', option = '', ...rest] = args.positional;
  const value = rest.join(' ');
  const bad =
    (verb === 'get' && (!jail || rest.length > 0)) || (verb === 'set' && (!jail || !option || rest.length === 0)) || (verb === 'reload' && args.positional.length > 0);
  if (bad) throw new UsageError(USAGES[verb]);
  const config = loadConfig(configPath(args));
  const req: AdminRequest = { verb, jail: verb === 'reload' ? '' : jail, ip: '', bantimeMs: 0, option: verb === 'reload' ? '' : option, value };
  const nc = await connectAdmin(config);
  try {
    const reply = await adminRequest(nc, req, undefined, requester(config));
    process.stdout.write(args.options.has('json') ? `${JSON.stringify(reply, null, 2)}\n` : formatSettings(verb, reply, option));
    return 0;
  } finally {
    await closeAdmin(nc);
  }
}

/** The text `get`, `set` and `reload` print. */
export function formatSettings(verb: SettingsVerb, r: AdminReply, option: string): string {
  if (verb === 'get') {
    const opts = r.options ?? [];
    if (option) return `${opts[0]?.value ?? ''}\n`;
    const width = Math.max(...opts.map((o) => o.name.length));
    return opts.map((o) => `${o.name.padEnd(width)} = ${o.value}\n`).join('');
  }
  const changes = r.changes ?? [];
  if (verb === 'set') return changes.map(formatChange).join('');
  if (changes.length === 0) return 'reloaded: nothing changed\n';
  return `reloaded: ${changes.length} ${changes.length === 1 ? 'change' : 'changes'}\n${changes.map((c) => `  ${formatChange(c)}`).join('')}`;
}

/** `sshd.maxretry: 3 → 2`, `web: added`, `controller.x: a → b (applies after a restart)`. */
function formatChange(c: ConfigChange): string {
  const body = c.to === 'added' ? 'added' : c.to === '' && c.from === 'configured' ? 'removed' : `${c.from || '(none)'} → ${c.to || '(none)'}`;
  return `${c.what}: ${body}${c.note ? ` (${c.note})` : ''}\n`;
}
