/**
 * `fleetban config check`: what the agent and the controller would refuse in a configuration
 * file, found before they start. The file is loaded with fleetban's loader (every value checked;
 * after an error, again without the bad value, so every bad value is reported), then each enabled jail's filter is built exactly as the
 * agent builds it (createJailFilter: the filter file found on the search path, its mode, the
 * jail's own failregex/ignoreregex/datepattern..., every regex translated and compiled).
 */

import { createJailFilter, FilterError } from '@fleetban/agent';
import {
  ConfigError,
  configFromStore,
  type ConfStore,
  type FleetbanConfig,
  type IniEntry,
  type JailConfig,
  loadConfig,
  readConfFiles,
  silentLogger,
  systemClock,
} from '@fleetban/shared';

/** One problem, named as the loader names them. */
export interface ConfigProblem {
  /** The file the bad value was written in. */
  readonly file: string;
  /** `section.key (line N)`, `file`, or `line N`. */
  readonly key: string;
  /** What was expected there. */
  readonly expected: string;
  /** The whole message (`<file>: <key>: expected <expected>, got "<value>"`). */
  readonly message: string;
}

/** What a check found. */
export interface ConfigCheck {
  readonly file: string;
  /** The configuration as loaded (without the values reported as bad), unless the file could not be read at all. */
  readonly config: FleetbanConfig | undefined;
  readonly problems: readonly ConfigProblem[];
}

function fromConfigError(e: ConfigError): ConfigProblem {
  return { file: e.file, key: e.key, expected: e.expected, message: e.message };
}

/** The problem of a jail whose filter cannot be built, named at the jail's `filter` key. */
function filterProblem(file: string, jail: JailConfig, err: FilterError): ConfigProblem {
  const o = jail.options.filter;
  const where = o ? { file: o.file || file, key: `${o.section}.filter (line ${o.line})` } : { file, key: `${jail.name}.filter` };
  const expected = `a filter that loads and compiles (${err.message})`;
  return { ...where, expected, message: `${where.file}: ${where.key}: expected ${expected}, got ${JSON.stringify(jail.filter)}` };
}

const MAX_PROBLEMS = 100;

const entryWhere = (e: IniEntry): string => `${e.section}.${e.key} (line ${e.line})`;

/**
 * Removes from `store` the entry (or the jail section, for a bad jail name) a loader error names,
 * so that loading again finds the next problem. False when the error names neither (a file or
 * syntax error: nothing further can be read).
 */
function dropCause(store: ConfStore, err: ConfigError): boolean {
  for (const entries of [store.defaults, ...store.sections.values()]) {
    for (const [k, e] of entries) {
      if (e.file === err.file && entryWhere(e) === err.key) return entries.delete(k);
    }
  }
  for (const [name, h] of store.headers) {
    if (h.file === err.file && `[${name}] (line ${h.line})` === err.key) return store.sections.delete(name);
  }
  return false;
}

/**
 * Loads `file` as the daemons do; on an error, loads it again without the value at fault, until
 * it loads, so every bad value is reported in one run (a value that only fails because another
 * was removed may follow). Returns the configuration without the bad values.
 */
function loadEvery(file: string, problems: ConfigProblem[]): FleetbanConfig | undefined {
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(fromConfigError(err));
    let store: ConfStore;
    try {
      store = readConfFiles([file]);
    } catch {
      return undefined;
    }
    if (!dropCause(store, err)) return undefined;
    while (problems.length < MAX_PROBLEMS) {
      try {
        return configFromStore(store, file);
      } catch (next) {
        if (!(next instanceof ConfigError)) throw next;
        problems.push(fromConfigError(next));
        if (!dropCause(store, next)) return undefined;
      }
    }
    return undefined;
  }
}

/**
 * Loads `file`, every bad value reported, and builds the filter of every enabled threshold jail
 * (recidive jails have none). Never throws for a problem of the file: every problem is returned.
 */
export function checkConfigFile(file: string): ConfigCheck {
  const problems: ConfigProblem[] = [];
  const config = loadEvery(file, problems);
  if (config === undefined) return { file, config, problems };
  const logger = silentLogger();
  for (const jail of config.jails) {
    if (!jail.enabled || jail.policy !== 'threshold') continue;
    try {
      createJailFilter(jail, { logger, clock: systemClock });
    } catch (err) {
      if (err instanceof FilterError) problems.push(filterProblem(file, jail, err));
      else if (err instanceof ConfigError) problems.push(fromConfigError(err));
      else throw err;
    }
  }
  return { file, config, problems };
}
