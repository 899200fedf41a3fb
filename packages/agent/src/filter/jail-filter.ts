import type { Clock, JailConfig, Logger } from '@fleetban/shared';
import type { LogLine } from '../tail/source.js';
import { builtinFilter } from './builtin.js';
import { FilterError } from './filter-error.js';
import { type FilterCounters, type FilterDefinition, LineFilter } from './line-filter.js';

/** One failure found in a line. */
export interface FailureMatch {
  /** Canonical address. */
  readonly ip: string;
  readonly user: string;
  /** When it happened (ms): the line's own date when it has one, else the time it was read. */
  readonly timeMs: number;
}

/** A jail's filter: turns lines into failures. */
export interface JailFilter {
  readonly name: string;
  match(line: LogLine): FailureMatch | null;
  counters(): FilterCounters;
}

/** What a jail filter is built with. */
export interface JailFilterDeps {
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Builds the filter of a jail: its own failregex lines when it has some (they replace the named
 * filter's), else the built-in filter named by `filter`. Throws {@link FilterError} naming the jail.
 */
export function createJailFilter(jail: JailConfig, _deps: JailFilterDeps): JailFilter {
  const filter = LineFilter.compile(definitionOf(jail));
  return {
    name: filter.name,
    match: (line) => {
      const m = filter.match(line.text);
      return m ? { ip: m.ip, user: m.user, timeMs: line.readMs } : null;
    },
    counters: () => filter.counters(),
  };
}

function definitionOf(jail: JailConfig): FilterDefinition {
  const builtin = builtinFilter(jail.filter);
  if (jail.failregex.length > 0) {
    return { name: jail.filter, failregex: [...jail.failregex], ignoreregex: [...(builtin?.ignoreregex ?? []), ...jail.ignoreregex] };
  }
  if (!builtin) throw new FilterError(`jail ${jail.name}: no filter named '${jail.filter}' and no failregex`);
  return { name: builtin.name, failregex: [...builtin.failregex], ignoreregex: [...builtin.ignoreregex, ...jail.ignoreregex] };
}
