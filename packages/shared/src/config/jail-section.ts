/**
 * Jail sections: every section that is not one of fleetban's own. Each jail inherits the keys of
 * `[DEFAULT]` and overrides them with its own, as in fail2ban's jail.conf.
 */

import { ConfigError } from '../errors.js';
import type { IniEntry, IniSection } from '../f2bconf/ini-file.js';
import { parseNetwork } from '../ip/address.js';
import { DEFAULT_BANTIME_FORMULA } from '../policy/bantime-formula.js';
import { checkToken } from '../subjects.js';
import { readJailActions } from './jail-actions.js';
import { DEFAULT_BACKEND, readBackend } from './jail-backend.js';
import { checkKnownKeys, isFail2banOnlyKey } from './known-keys.js';
import { readFactor, readFormula } from './formula-value.js';
import type { BantimeIncrement, JailConfig, JailPolicy } from './types.js';
import {
  entryMap,
  readBool,
  readChoice,
  readDuration,
  readLines,
  readNetworks,
  readNonNegativeInt,
  readOr,
  readPaths,
  readPositiveInt,
  readPositiveNumbers,
  readText,
} from './value.js';

/** Keys fleetban reads in a jail section or `[DEFAULT]`. */
export const JAIL_KEYS: readonly string[] = [
  'enabled', 'filter', 'logpath', 'failregex', 'ignoreregex', 'ignoreip', 'maxretry', 'findtime',
  'bantime', 'maxmatches', 'bantime.increment', 'bantime.factor', 'bantime.multipliers',
  'bantime.maxtime', 'bantime.rndtime', 'bantime.formula', 'bantime.overalljails', 'maxretry_per_host',
  'min_hosts', 'policy', 'backend', 'action', 'host_action',
];

/** Defaults of a jail before `[DEFAULT]` applies; `filter` defaults to the jail's name, `maxmatches` to `maxretry`. */
export const JAIL_DEFAULTS: Omit<JailConfig, 'name' | 'filter' | 'maxmatches' | 'options' | 'filterPath'> = {
  policy: 'threshold',
  maxretryPerHost: 0,
  minHosts: 1,
  enabled: false,
  backend: DEFAULT_BACKEND,
  logpath: [],
  failregex: [],
  ignoreregex: [],
  ignoreip: ['127.0.0.1/8', '::1'].map((n) => parseNetwork(n).text),
  maxretry: 5,
  findtimeMs: 600_000,
  bantimeMs: 600_000,
  increment: {
    enabled: false,
    factor: 1,
    multipliers: [],
    maxtimeMs: 0,
    rndtimeMs: 0,
    formula: DEFAULT_BANTIME_FORMULA,
    overalljails: false,
  },
  actions: [],
};

/** Every jail, and the jail defaults, of one configuration. */
export interface JailSections {
  /** `[DEFAULT]` applied to a jail with no section of its own (name ''). */
  readonly jailDefaults: JailConfig;
  /** Every jail section in file order, `[DEFAULT]` applied. */
  readonly jails: JailConfig[];
}

/** How jail sections are read from merged files (see load.ts). */
export interface JailReadContext {
  /** Whether an entry's key is checked against the known keys (entries of included files are not). */
  readonly checked: (e: IniEntry) => boolean;
  /** The value of a raw option, interpolated where possible (kept as written where not). */
  readonly raw: (section: string, e: IniEntry) => string;
  /** `[DEFAULT]`'s entries as seen from `section` (interpolated in it). */
  readonly inherited: (section: string) => IniEntry[];
  /** `[agent] filter_path`, given to every jail. */
  readonly filterPath: readonly string[];
  /**
   * An `action` / `host_action` value, `%(name)s` interpolated in `section`; a reference to an
   * undefined `action_*` shortcut of jail.conf is left as written (its line is skipped).
   */
  readonly actionValue: (section: string, e: IniEntry) => string;
}

const PLAIN: JailReadContext = {
  checked: () => true,
  raw: (_s, e) => e.value,
  actionValue: (_s, e) => e.value,
  inherited: () => [],
  filterPath: [],
};

/**
 * Reads `[DEFAULT]` (`defaults`, absent when the file has none) and every jail section, in order.
 * `[DEFAULT]` is checked on its own too, so a bad default is reported at its line even when no
 * jail uses it. Throws ConfigError.
 */
export function readJailSections(defaults: IniSection | undefined, jails: readonly IniSection[], ctx: JailReadContext = PLAIN): JailSections {
  const own = defaults?.entries ?? [];
  checkKnownKeys(own.filter(ctx.checked), JAIL_KEYS, isFail2banOnlyKey);
  const inherited = (section: string): readonly IniEntry[] => (ctx === PLAIN ? own : ctx.inherited(section));
  return {
    jailDefaults: readJail('', entryMap(own), ctx),
    jails: jails.map((section) => {
      checkJailName(section);
      checkKnownKeys(section.entries.filter(ctx.checked), JAIL_KEYS, isFail2banOnlyKey);
      return readJail(section.name, entryMap(inherited(section.name), section.entries), ctx);
    }),
  };
}

/**
 * Reads one jail from its effective entries (`[DEFAULT]`'s overridden by the jail's own, see
 * `entryMap`). Unknown keys are not checked here. Throws ConfigError.
 */
export function readJail(name: string, entries: ReadonlyMap<string, IniEntry>, ctx: JailReadContext = PLAIN): JailConfig {
  const d = JAIL_DEFAULTS;
  const maxretry = readOr(entries, 'maxretry', readPositiveInt, d.maxretry);
  return {
    name,
    policy: readOr(entries, 'policy', readChoice<JailPolicy>(['threshold', 'recidive']), d.policy),
    enabled: readOr(entries, 'enabled', readBool, d.enabled),
    filter: readOr(entries, 'filter', readText, name),
    backend: readOr(entries, 'backend', readBackend, d.backend),
    logpath: readOr(entries, 'logpath', readPaths, d.logpath),
    failregex: readOr(entries, 'failregex', readLines, d.failregex),
    ignoreregex: readOr(entries, 'ignoreregex', readLines, d.ignoreregex),
    ignoreip: readOr(entries, 'ignoreip', readNetworks, d.ignoreip),
    maxretry,
    findtimeMs: readOr(entries, 'findtime', readDuration('positive'), d.findtimeMs),
    bantimeMs: readOr(entries, 'bantime', readDuration('permanent-allowed'), d.bantimeMs),
    maxmatches: readOr(entries, 'maxmatches', readNonNegativeInt, maxretry),
    maxretryPerHost: readOr(entries, 'maxretry_per_host', readNonNegativeInt, d.maxretryPerHost),
    minHosts: readOr(entries, 'min_hosts', readPositiveInt, d.minHosts),
    increment: readIncrement(entries),
    actions: readJailActions({
      entries,
      banactions: ['banaction', 'banaction_allports'].flatMap((k) => {
        const e = entries.get(k);
        return e ? [ctx.raw(name || e.section, e)] : [];
      }),
      value: (e) => ctx.actionValue(name || e.section, e),
    }),
    filterPath: ctx.filterPath,
    options: Object.fromEntries([...entries].map(([k, e]) => [k, { value: ctx.raw(name || e.section, e), file: e.file, section: e.section, line: e.line }])),
  };
}

function readIncrement(entries: ReadonlyMap<string, IniEntry>): BantimeIncrement {
  const d = JAIL_DEFAULTS.increment;
  return {
    enabled: readOr(entries, 'bantime.increment', readBool, d.enabled),
    factor: readOr(entries, 'bantime.factor', readFactor, d.factor),
    multipliers: readOr(entries, 'bantime.multipliers', readPositiveNumbers, d.multipliers),
    maxtimeMs: readOr(entries, 'bantime.maxtime', readDuration('zero-or-more'), d.maxtimeMs),
    rndtimeMs: readOr(entries, 'bantime.rndtime', readDuration('zero-or-more'), d.rndtimeMs),
    formula: readOr(entries, 'bantime.formula', readFormula, d.formula),
    overalljails: readOr(entries, 'bantime.overalljails', readBool, d.overalljails),
  };
}

function checkJailName(section: IniSection): void {
  try {
    checkToken('jail', section.name);
  } catch (err) {
    throw new ConfigError(
      section.file,
      `[${section.name}] (line ${section.line})`,
      "a jail name of 1 to 64 letters, digits, '_' or '-'",
      section.name,
      { cause: err },
    );
  }
}
