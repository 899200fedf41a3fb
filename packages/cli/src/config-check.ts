/**
 * `fleetban config check`: what the agent and the controller would refuse in a configuration
 * file, found before they start. The file is loaded with fleetban's loader (every value checked;
 * the loader stops at the first error), then each enabled jail's filter is built exactly as the
 * agent builds it (createJailFilter: the filter file found on the search path, its mode, the
 * jail's own failregex/ignoreregex/datepattern..., every regex translated and compiled).
 */

import { createJailFilter, FilterError } from '@fleetban/agent';
import { ConfigError, type FleetbanConfig, type JailConfig, loadConfig, silentLogger, systemClock } from '@fleetban/shared';

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
  /** The configuration, when it loaded. */
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

/**
 * Loads `file` and builds the filter of every enabled threshold jail (recidive jails have none).
 * Never throws for a problem of the file: every problem is returned.
 */
export function checkConfigFile(file: string): ConfigCheck {
  let config: FleetbanConfig;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return { file, config: undefined, problems: [fromConfigError(err)] };
    throw err;
  }
  const problems: ConfigProblem[] = [];
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
