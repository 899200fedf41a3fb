import type { JailConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { actionFileRunner, DEFAULT_ACTION_PATH, findActionFiles } from './action-file.js';
import { BUILTIN_KINDS, type BuiltinKind, checkBuiltinSpec, foreignOptions, isBuiltinKind, specKey } from './builtin-kinds.js';
import { cloudflareRunner } from './cloudflare-kind.js';
import { commandRunner } from './command-kind.js';
import { discordRunner, ntfyRunner, telegramRunner, webhookRunner } from './notify-kinds.js';
import type { RunnerIdentity } from './runner-base.js';
import type { ActionRunner, ActionSite } from './types.js';
import { ConfigError } from '../errors.js';

export { DEFAULT_ACTION_PATH } from './action-file.js';

/** What {@link buildActions} needs besides the jail. */
export interface ActionContext {
  /**
   * Directories searched for action.d files (`<name>.conf` and its `.local`), in order; the first
   * that has the file wins. Default {@link DEFAULT_ACTION_PATH} (/etc/fail2ban/action.d).
   */
  readonly actionPath?: readonly string[];
  readonly logger: Logger;
}

type Make = (id: RunnerIdentity, options: ReadonlyMap<string, string>, timeoutMs: number) => ActionRunner;

const MAKERS: Readonly<Record<BuiltinKind, Make>> = {
  webhook: webhookRunner,
  telegram: telegramRunner,
  ntfy: ntfyRunner,
  discord: discordRunner,
  cloudflare: cloudflareRunner,
  command: commandRunner,
};

/** Jail options an action.d file sees where it sets none itself. */
const JAIL_TAGS = ['port', 'protocol'];

/**
 * The runners of `jail`'s actions that run at `site`: a built-in kind ({@link BUILTIN_KINDS}),
 * or an action.d file found in `ctx.actionPath`. Throws a ConfigError naming the file, the key
 * and what was expected when an action cannot be found or its options are malformed.
 */
export function buildActions(jail: JailConfig, site: ActionSite, ctx: ActionContext): ActionRunner[] {
  const path = ctx.actionPath ?? DEFAULT_ACTION_PATH;
  const seen = new Map<string, number>();
  const runners: ActionRunner[] = [];
  for (const spec of jail.actions) {
    if (spec.site !== site) continue;
    const n = (seen.get(spec.name) ?? 0) + 1;
    seen.set(spec.name, n);
    const name = n === 1 ? spec.name : `${spec.name}#${n}`;
    const id: RunnerIdentity = { name, jail: jail.name, site, logger: ctx.logger.child({ jail: jail.name || undefined, action: name }) };
    const where = specKey(spec, jail.name);
    const files = isBuiltinKind(spec.name) && foreignOptions(spec).length === 0 ? [] : findActionFiles(path, spec.name);
    if (isBuiltinKind(spec.name) && files.length === 0) {
      const checked = checkBuiltinSpec(spec, { onlyOwnOptions: false, where });
      if (checked) runners.push(MAKERS[spec.name](id, checked.options, checked.timeoutMs));
      continue;
    }
    if (files.length === 0) {
      throw new ConfigError(spec.file, where, `a built-in action (${BUILTIN_KINDS.join(', ')}) or an action.d file ${spec.name}.conf in ${path.join(', ')}`, spec.name);
    }
    const jailOptions = new Map<string, string>();
    for (const k of JAIL_TAGS) {
      const o = jail.options[k];
      if (o !== undefined) jailOptions.set(k, o.value);
    }
    runners.push(actionFileRunner(id, { spec, files, where, jailOptions, jailName: jail.name }));
  }
  return runners;
}
