/**
 * Reads a fail2ban configuration directory as fail2ban does (jail.conf, jail.d/*.conf,
 * jail.local, jail.d/*.local, each with its [INCLUDES] such as paths-debian.conf, `[DEFAULT]`,
 * `%(name)s` interpolation; fail2ban.conf and its .local for the server settings) and decides,
 * key by key, what goes into the fleetban configuration and what does not, and why
 * (key-rules.ts). The plan is plain data; conf-text.ts writes it.
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_FILTER_DIR } from '@fleetban/agent';
import { ConfigError, type ConfStore, confFilesOf, type IniEntry, readConfFiles } from '@fleetban/shared';
import { CARRIED_JAIL_KEYS, CONTROLLER_ACTION_NOTE, FIREWALL_ACTION_REASON, isFirewallAction, RECIDIVE_REASON } from './key-rules.js';
import { at, type CarriedKey, type ImportNote, keysOf, loaderComplaint, type PlannedSection, Planner } from './planner.js';
import { fitDbPurgeAge, planServer } from './server-settings.js';

export type { CarriedKey, ImportNote, PlannedSection } from './planner.js';

/** What the import produces. */
export interface ImportPlan {
  /** The fail2ban directory read. */
  readonly dir: string;
  /** fail2ban files read, in order. */
  readonly files: readonly string[];
  readonly defaults: PlannedSection;
  /** Enabled jails, in fail2ban's order. */
  readonly jails: readonly PlannedSection[];
  /** Disabled jails (not written). */
  readonly disabled: readonly string[];
  /** `[agent]` keys to set (filter_path when DIR is not /etc/fail2ban). */
  readonly agent: readonly CarriedKey[];
  /** `[controller]` keys to set (dbpurgeage from fail2ban.conf). */
  readonly controller: readonly CarriedKey[];
  readonly notes: readonly ImportNote[];
}


const NOT_JAILS = new Set(['INCLUDES', 'Definition', 'Init']);
const TRUE = /^(?:true|yes|on|1)$/i;
const SYSTEM_DIR = '/etc/fail2ban';

function planDefaults(p: Planner, store: ConfStore): PlannedSection {
  const keys: CarriedKey[] = [];
  for (const e of store.defaults.values()) {
    const key = e.key.toLowerCase();
    if (key === 'action' || key === 'enabled') continue; // resolved per jail
    if (CARRIED_JAIL_KEYS.includes(key)) {
      // values that refer to other keys (filter = %(__name__)s[...], maxmatches = %(maxretry)s)
      // differ by jail: they are written, resolved, in each jail
      if (/%\((?!known\/)/i.test(e.value)) continue;
      p.carry(keys, 'DEFAULT', e, p.value('DEFAULT', e));
    } else p.skip('DEFAULT', e, e.value);
  }
  return { name: 'DEFAULT', keys };
}

function planJail(p: Planner, store: ConfStore, name: string, defaults: PlannedSection): PlannedSection {
  const keys: CarriedKey[] = [{ key: 'enabled', value: 'true', from: at(store.entry(name, 'enabled') as IniEntry) }];
  const own = (e: IniEntry): boolean => e.section !== 'DEFAULT';
  const filterEntry = store.entry(name, 'filter');
  const filter = filterEntry ? p.value(name, filterEntry) : name;
  const recidive = filter.replace(/\[[^]*$/, '').trim() === 'recidive';
  if (recidive) keys.push({ key: 'policy', value: 'recidive', from: filterEntry ? at(filterEntry) : `${name}` });
  const localFilter = filterEntry && !recidive ? keptLocalFilter(p, name, filterEntry, filter) : undefined;
  const inherited = new Map(defaults.keys.map((k) => [k.key, k.value]));
  const banactions = ['banaction', 'banaction_allports'].flatMap((k) => {
    const e = store.entry(name, k);
    return e ? [p.value(name, e, true)] : [];
  });
  for (const key of keysOf(store, name)) {
    const e = store.entry(name, key) as IniEntry;
    if (key === 'enabled') continue;
    if (key === 'action') {
      planActions(p, name, e, p.value(name, e, true), banactions, keys);
      continue;
    }
    if (!CARRIED_JAIL_KEYS.includes(key)) {
      if (own(e)) p.skip(name, e, p.value(name, e, true));
      continue;
    }
    let value: string;
    try {
      value = p.value(name, e);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      p.note(name, e, e.value, false, `cannot be resolved: ${err.expected}`);
      continue;
    }
    if (recidive && ['filter', 'logpath', 'backend', 'port', 'protocol', 'mode', 'failregex', 'ignoreregex', 'prefregex', 'datepattern', 'journalmatch', 'maxlines', 'usedns', 'logtimezone'].includes(key)) {
      if (own(e)) p.skip(name, e, value, RECIDIVE_REASON);
      continue;
    }
    // an inherited ignoreip was reported (and cut) once, in [DEFAULT]
    if (inherited.get(key) === (key === 'ignoreip' && !own(e) ? p.addresses(name, e, value, true) : value)) continue;
    if (key === 'filter' && localFilter !== undefined) value = localFilter;
    if (key === 'filter' && value === name) continue;
    if (key === 'mode' && /\bmode=/.test(filter)) continue; // written in the filter's name
    if (key === 'maxmatches' && !inherited.has('maxmatches') && value === effective(p, store, name, 'maxretry', inherited)) continue;
    p.carry(keys, name, e, value);
  }
  keys.sort((a, b) => rank(a.key) - rank(b.key));
  return { name, keys };
}

/**
 * A filter the operator customised with filter.d/NAME.local (or NAME.d/) is named by its path, so
 * fleetban reads it with the customisation: by name, fleetban's own filter.d/NAME.conf would come
 * first on the search path and the .local would not be read.
 */
function keptLocalFilter(p: Planner, jail: string, e: IniEntry, filter: string): string | undefined {
  const base = filter.replace(/\[[^]*$/, '').trim();
  if (base.includes('/') || !existsSync(join(PROJECT_FILTER_DIR, `${base}.conf`))) return undefined;
  const dir = join(p.dir, 'filter.d');
  if (!existsSync(join(dir, `${base}.local`)) && !existsSync(join(dir, `${base}.d`))) return undefined;
  const path = `${join(dir, base)}.conf${filter.slice(filter.indexOf(base) + base.length)}`;
  p.note(jail, e, path, true, `named by path so that your filter.d/${base}.local is read (by name, fleetban's own ${base}.conf comes first)`);
  return path;
}

/** Order of a jail's keys in the written file: what it is, what it reads, its thresholds, the rest. */
const ORDER = ['enabled', 'policy', 'filter', 'mode', 'logpath', 'backend', 'port', 'protocol', 'maxretry', 'findtime', 'bantime', 'maxmatches', 'ignoreip'];
function rank(key: string): number {
  const i = ORDER.indexOf(key);
  return key === 'action' ? 1000 : i >= 0 ? i : 100 + CARRIED_JAIL_KEYS.indexOf(key);
}

/** A jail's resolved value of `key` as fleetban will see it (its own, else the written DEFAULT's). */
function effective(p: Planner, store: ConfStore, name: string, key: string, inherited: ReadonlyMap<string, string>): string | undefined {
  const e = store.entry(name, key);
  return e ? p.value(name, e) : inherited.get(key);
}

function planActions(p: Planner, jail: string, e: IniEntry, value: string, banactions: readonly string[], keys: CarriedKey[]): void {
  const kept: string[] = [];
  for (const line of value.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    if (isFirewallAction(line, banactions)) p.note(jail, e, line, false, FIREWALL_ACTION_REASON);
    else {
      kept.push(line);
      p.note(jail, e, line, true, CONTROLLER_ACTION_NOTE);
    }
  }
  if (kept.length > 0) keys.push({ key: 'action', value: kept.join('\n'), from: at(e) });
}

/**
 * Reads fail2ban's configuration in `dir` and plans the fleetban configuration. Throws
 * ConfigError (key `file`) when `dir` holds no jail.conf or jail.local; ConfigError for a syntax
 * error in a fail2ban file.
 */
export function planImport(dir: string): ImportPlan {
  const abs = resolve(dir);
  const files = confFilesOf(abs, 'jail');
  if (files.length === 0) throw new ConfigError(join(abs, 'jail.conf'), 'file', 'a fail2ban configuration directory with jail.conf or jail.local', abs);
  const store = readConfFiles(files);
  const p = new Planner(store, abs);
  const defaults = planDefaults(p, store);
  const jails: PlannedSection[] = [];
  const disabled: string[] = [];
  for (const name of store.sections.keys()) {
    if (name.startsWith('KNOWN/') || NOT_JAILS.has(name)) continue;
    const en = store.entry(name, 'enabled');
    if (!en || !TRUE.test(p.value(name, en, true).trim())) {
      disabled.push(name);
      continue;
    }
    const complaint = loaderComplaint(name, 'enabled', 'false');
    if (complaint !== undefined) {
      p.note(name, en, 'true', false, `the jail is not written: ${complaint}`);
      continue;
    }
    jails.push(planJail(p, store, name, defaults));
  }
  const controller: CarriedKey[] = [];
  const serverFiles = planServer(p, abs, controller);
  fitDbPurgeAge(p, { jails, defaults }, controller);
  const filterDir = join(abs, 'filter.d');
  const agent = abs !== SYSTEM_DIR && existsSync(filterDir) ? [{ key: 'filter_path', value: filterDir, from: `fail2ban's filters in ${abs}` }] : [];
  return { dir: abs, files: [...store.files, ...serverFiles], defaults, jails, disabled, agent, controller, notes: p.notes };
}
