/**
 * The jail options the controller holds and `fleetban get` / `fleetban set` read and change at
 * runtime, written once: each option's name (as in the configuration file), how its value is
 * printed (in a form `set` reads back) and how a new value is read, with the same readers as the
 * file, so a value `set` accepts is one the file would accept.
 */

import { ConfigError } from '../errors.js';
import type { IniEntry } from '../f2bconf/ini-file.js';
import { formatDuration, PERMANENT } from '../time/duration.js';
import { readFactor, readFormula } from './formula-value.js';
import type { BantimeIncrement, JailConfig } from './types.js';
import { readBool, readDuration, readNonNegativeInt, readPositiveInt, readPositiveNumbers } from './value.js';

/** One jail option of the controller's. */
interface JailSetting {
  /** The value as text the option's reader accepts. */
  get(j: JailConfig): string;
  /** The jail with the option read from `e`; undefined for an option `set` may not change. Throws ConfigError. */
  set?(j: JailConfig, e: IniEntry): JailConfig;
}

const duration = (ms: number): string => (ms === PERMANENT ? '-1' : formatDuration(ms));
const inc = (j: JailConfig, patch: Partial<BantimeIncrement>): JailConfig => ({ ...j, increment: { ...j.increment, ...patch } });

const SETTINGS: Readonly<Record<string, JailSetting>> = {
  maxretry: { get: (j) => String(j.maxretry), set: (j, e) => ({ ...j, maxretry: readPositiveInt(e) }) },
  findtime: { get: (j) => duration(j.findtimeMs), set: (j, e) => ({ ...j, findtimeMs: readDuration('positive')(e) }) },
  bantime: { get: (j) => duration(j.bantimeMs), set: (j, e) => ({ ...j, bantimeMs: readDuration('permanent-allowed')(e) }) },
  maxmatches: { get: (j) => String(j.maxmatches), set: (j, e) => ({ ...j, maxmatches: readNonNegativeInt(e) }) },
  maxretry_per_host: { get: (j) => String(j.maxretryPerHost), set: (j, e) => ({ ...j, maxretryPerHost: readNonNegativeInt(e) }) },
  min_hosts: { get: (j) => String(j.minHosts), set: (j, e) => ({ ...j, minHosts: readPositiveInt(e) }) },
  'bantime.increment': { get: (j) => String(j.increment.enabled), set: (j, e) => inc(j, { enabled: readBool(e) }) },
  'bantime.factor': { get: (j) => String(j.increment.factor), set: (j, e) => inc(j, { factor: readFactor(e) }) },
  'bantime.multipliers': { get: (j) => j.increment.multipliers.join(' '), set: (j, e) => inc(j, { multipliers: readPositiveNumbers(e) }) },
  'bantime.maxtime': { get: (j) => duration(j.increment.maxtimeMs), set: (j, e) => inc(j, { maxtimeMs: readDuration('zero-or-more')(e) }) },
  'bantime.rndtime': { get: (j) => duration(j.increment.rndtimeMs), set: (j, e) => inc(j, { rndtimeMs: readDuration('zero-or-more')(e) }) },
  'bantime.formula': { get: (j) => j.increment.formula, set: (j, e) => inc(j, { formula: readFormula(e) }) },
  'bantime.overalljails': { get: (j) => String(j.increment.overalljails), set: (j, e) => inc(j, { overalljails: readBool(e) }) },
  ignoreip: { get: (j) => j.ignoreip.join(' ') },
  policy: { get: (j) => j.policy },
};

/** Every option `fleetban get` reads, in the order it lists them. */
export const JAIL_SETTING_NAMES: readonly string[] = Object.keys(SETTINGS);

/** Options `fleetban set` may change at runtime. */
export const SETTABLE_JAIL_OPTIONS: readonly string[] = JAIL_SETTING_NAMES.filter((n) => SETTINGS[n]?.set !== undefined);

/** Whether `name` is an option `fleetban get` knows. */
export function isJailSetting(name: string): boolean {
  return Object.hasOwn(SETTINGS, name);
}

/** The option's value as text (`set` reads it back); throws ConfigError for an unknown option. */
export function jailSetting(j: JailConfig, name: string): string {
  const s = Object.hasOwn(SETTINGS, name) ? SETTINGS[name] : undefined;
  if (!s) throw new ConfigError('', name, `one of: ${JAIL_SETTING_NAMES.join(', ')}`, name);
  return s.get(j);
}

/**
 * The jail with option `name` set to `value`, read as the configuration file reads it. Throws a
 * {@link ConfigError} naming `jail option` (not a file) for an unknown or read-only option or a
 * bad value, with what was expected.
 */
export function withJailSetting(j: JailConfig, name: string, value: string): JailConfig {
  const where = `${j.name || 'DEFAULT'} ${name}`;
  const s = Object.hasOwn(SETTINGS, name) ? SETTINGS[name] : undefined;
  if (!s?.set) throw new ConfigError('fleetban set', where, `an option set may change: ${SETTABLE_JAIL_OPTIONS.join(', ')}`, name);
  try {
    return s.set(j, { key: name, value: value.trim(), section: j.name, file: 'fleetban set', line: 0 });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('fleetban set', where, err.expected, value, { cause: err });
    throw err;
  }
}
