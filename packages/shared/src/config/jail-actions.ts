/**
 * A jail's `action` and `host_action` keys: fail2ban's `name[opt=value, ...]` list, one or more
 * per line, read into {@link ActionSpec}s. `%(action_)s`-style references are interpolated in the
 * jail's section before this (see load.ts). Firewall actions (the jail's `banaction` /
 * `banaction_allports`, and fail2ban's firewall action families) are the agent's own job and are
 * skipped here. Built-in kinds are validated when their options are all the kind's own (see
 * ../actions/builtin-kinds.ts); action.d files are found later, by `buildActions`.
 */

import type { ActionSite, ActionSpec } from '../actions/types.js';
import { ACTION_KEYS, checkBuiltinSpec, isBuiltinKind } from '../actions/builtin-kinds.js';
import { parseNameOptions } from '../f2bconf/definition.js';
import type { IniEntry } from '../f2bconf/ini-file.js';
import { entryKey, invalidValue } from './value.js';

/**
 * fail2ban's firewall action families (Debian's action.d): names equal to one of these, or
 * starting with one followed by `-` (`iptables-multiport`, `nftables-allports`), are skipped.
 */
export const FIREWALL_ACTION_FAMILIES: readonly string[] = [
  'iptables', 'ip6tables', 'nftables', 'firewallcmd', 'shorewall', 'ufw', 'pf', 'ipfilter', 'ipfw',
  'bsd-ipfw', 'osx-ipfw', 'osx-afctl', 'npf', 'route', 'apf', 'hostsdeny', 'symbiosis-blacklist-allports',
];

/** True when `name` is one of fail2ban's firewall actions ({@link FIREWALL_ACTION_FAMILIES}). */
export function isFirewallAction(name: string): boolean {
  const n = name.toLowerCase().replace(/\.conf$/, '');
  return FIREWALL_ACTION_FAMILIES.some((f) => n === f || n.startsWith(`${f}-`));
}

/**
 * One action per match, as fail2ban's `splitWithOptions`: `name` or `name[...]`, separated by
 * whitespace or newlines, brackets and quoted values kept whole.
 */
const ACTION_ITEM = /(?:[^[\s]+(?:\s*\[\s*(?:[\w\-.]+=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|$)/g;

/** Splits an `action` value into its items (trimmed, empty ones dropped). */
export function splitActions(value: string): string[] {
  return [...value.matchAll(ACTION_ITEM)].map((m) => m[0].trim()).filter((s) => s !== '');
}

/** What {@link readJailActions} needs from the jail. */
export interface JailActionSource {
  /** The jail's entries by key (`action`, `host_action` are read). */
  readonly entries: ReadonlyMap<string, IniEntry>;
  /** `banaction` and `banaction_allports` values as written (`nftables[type=allports]`). */
  readonly banactions: readonly string[];
  /**
   * The entry's value with `%(name)s` interpolated in the jail's section; a reference to one of
   * jail.conf's `action_*` shortcuts that is not defined stays as written (the line is skipped).
   */
  readonly value: (e: IniEntry) => string;
}

/** Reads a jail's actions, firewall ones left out. Throws ConfigError. */
export function readJailActions(src: JailActionSource): ActionSpec[] {
  const skip = new Set(src.banactions.map(nameOf).filter((n) => n !== ''));
  const specs: ActionSpec[] = [];
  for (const site of ['controller', 'host'] as const) {
    const e = src.entries.get(ACTION_KEYS[site]);
    if (!e) continue;
    const value = src.value(e);
    const lines = value.split('\n').filter((l) => !/%\(action_[^)]*\)s/i.test(l));
    for (const item of splitActions(lines.join('\n'))) {
      const spec = readItem(e, site, item);
      if (skip.has(spec.name) || isFirewallAction(spec.name)) continue;
      if (isBuiltinKind(spec.name)) checkBuiltinSpec(spec, { onlyOwnOptions: true, where: entryKey(e) });
      specs.push(spec);
    }
  }
  return specs;
}

function nameOf(spec: string): string {
  try {
    return parseNameOptions(spec.trim()).name;
  } catch {
    return spec.trim();
  }
}

function readItem(e: IniEntry, site: ActionSite, item: string): ActionSpec {
  let parsed: { name: string; options: Map<string, string> };
  try {
    parsed = parseNameOptions(item);
  } catch (err) {
    throw invalidValue(e, 'actions written as name or name[option=value, ...], one or more per line', err);
  }
  const { name, options } = parsed;
  if (!/^[\w.@+-]+$/.test(name) || name.includes('..')) {
    throw invalidValue(e, 'an action name of letters, digits and ._@+- (a built-in kind or an action.d file name)');
  }
  if (name.endsWith('.py')) {
    throw invalidValue(e, 'a built-in kind or an action.d .conf file name (fail2ban Python actions such as smtp.py are not run by fleetban)');
  }
  return { name, options: Object.fromEntries(options), site, file: e.file, line: e.line };
}
